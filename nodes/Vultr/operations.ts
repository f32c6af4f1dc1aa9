import type { IDataObject, IExecuteFunctions } from 'n8n-workflow';
import { z } from 'zod';

import type { ActivationRecord } from '../shared/activationRecords';
import { InputError } from '../shared/errors';
import type { ProviderClient } from '../shared/http';
import {
	portsCover,
	protectsNothingWarning,
	readLockdownOptions,
	readRestoreOverride,
	step,
	union,
	withManagementAccess,
	type LockdownOptions,
} from '../shared/lockdown';
import type { MitigationProvider, MitigationResult } from '../shared/provider';
import { readLocator } from '../shared/provider';
import { sideBySide } from '../shared/sideBySide';
import { validate } from '../shared/validation';
import {
	listAll,
	vultrApi,
	vultrRequest,
	type FirewallGroup,
	type FirewallRule,
	type Instance,
} from './transport';

/**
 * Vultr rules are accept-only over a default drop and cannot be replaced in one call, but an
 * instance belongs to exactly one firewall group and `PATCH /instances/{id}` switches it in one
 * step. So the lockdown never touches the user's group: it creates a lockdown group (description
 * derived from the original's id) holding only the management rules, and moves each instance to it;
 * withdraw moves them back and deletes the lockdown group. While the lockdown lasts, the lockdown
 * group's members are the record of which instances to give back; the original rules never leave
 * the original group (so their ids are kept too).
 */

export interface GroupTarget {
	firewallGroupId: string;
}

interface InstancesRecord extends ActivationRecord {
	original: { instance_ids: string[] };
}

interface LockdownGroup {
	group: FirewallGroup;
	rules: FirewallRule[];
	instances: Instance[];
}

interface ProviderState {
	group: FirewallGroup;
	instances: Instance[];
	/** The lockdown group in use: the one holding instances, else the oldest. */
	lockdown?: LockdownGroup;
	/**
	 * Every group with the lockdown description (more than one only after an earlier duplicate
	 * create).
	 */
	lockdowns: LockdownGroup[];
}

type RuleRequest = Pick<
	FirewallRule,
	'ip_type' | 'protocol' | 'port' | 'subnet' | 'subnet_size' | 'notes'
>;

export const LOCKDOWN_PREFIX = 'ddos-lockdown-';
export const lockdownDescription = (groupId: string) => `${LOCKDOWN_PREFIX}${groupId}`;
const MANAGEMENT_NOTE = 'management access kept open by the DDoS lockdown';

const recordKey = (target: GroupTarget) => `vultrFirewall:${target.firewallGroupId}`;

/** Vultr instance ids are UUIDs; anything else must never reach a URL path. */
const instanceId = z
	.string()
	.trim()
	.regex(
		/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i,
		'instance ids are UUIDs as Vultr shows them',
	);
const overrideSchema = z.object({ instance_ids: z.array(instanceId).min(1) }).strict();
const OVERRIDE_SHAPE =
	'{"instance_ids": ["<instance id>", ...]} (the "original" field of an Activate or Get ' +
	'Status output)';

/** One accept rule per management source and port; Vultr writes port ranges with a colon. */
export function managementRules(options: LockdownOptions): RuleRequest[] {
	return options.sources.flatMap((source) =>
		options.ports.map((port) => ({
			ip_type: source.version === 4 ? ('v4' as const) : ('v6' as const),
			protocol: 'tcp',
			port: port.replace('-', ':'),
			subnet: source.address,
			subnet_size: source.prefixLength,
			notes: MANAGEMENT_NOTE,
		})),
	);
}

const sameRule = (a: RuleRequest, b: RuleRequest) =>
	a.ip_type === b.ip_type &&
	a.protocol.toLowerCase() === b.protocol.toLowerCase() &&
	a.port === b.port &&
	a.subnet === b.subnet &&
	a.subnet_size === b.subnet_size;

async function membersOf(api: ProviderClient, groupId: string): Promise<Instance[]> {
	return await listAll<Instance>(api, '/instances', 'instances', { firewall_group_id: groupId });
}

async function readState(api: ProviderClient, target: GroupTarget): Promise<ProviderState> {
	// Side by side: the members and the list of groups need only the id asked for, and each
	// sequential read before the first write adds a round trip to the time to mitigate. The group's
	// own error (not found, key) comes first.
	const [{ firewall_group: group }, members, groups] = await sideBySide([
		vultrRequest<{ firewall_group: FirewallGroup }>(
			api,
			'GET',
			`/firewalls/${target.firewallGroupId}`,
		),
		membersOf(api, target.firewallGroupId),
		listAll<FirewallGroup>(api, '/firewalls', 'firewall_groups'),
	]);
	if (group.description.startsWith(LOCKDOWN_PREFIX)) {
		throw new InputError(
			`Firewall group '${group.description}' is a lockdown group created by this node, not ` +
				'the group to protect',
			'Choose the original group: its id is the part of the description after ' +
				`'${LOCKDOWN_PREFIX}'.`,
		);
	}
	const instances = group.id === target.firewallGroupId ? members : await membersOf(api, group.id);
	const lockdowns = await sideBySide(
		lockdownGroupsIn(groups, group.id).map(async (found): Promise<LockdownGroup> => {
			const [rules, inLockdown] = await sideBySide([
				listAll<FirewallRule>(api, `/firewalls/${found.id}/rules`, 'firewall_rules'),
				membersOf(api, found.id),
			]);
			return { group: found, rules, instances: inLockdown };
		}),
	);
	const lockdown = lockdowns.find((l) => l.instances.length > 0) ?? lockdowns[0];
	return { group, instances, lockdown, lockdowns };
}

/** The lockdown groups of a group among `groups`, oldest first. */
const lockdownGroupsIn = (groups: FirewallGroup[], groupId: string) =>
	groups
		.filter((g) => g.description === lockdownDescription(groupId))
		.sort((a, b) => (a.date_created ?? '').localeCompare(b.date_created ?? ''));

/** Every lockdown group of a group, oldest first. */
async function findLockdownGroups(api: ProviderClient, groupId: string): Promise<FirewallGroup[]> {
	return lockdownGroupsIn(
		await listAll<FirewallGroup>(api, '/firewalls', 'firewall_groups'),
		groupId,
	);
}

const isActive = ({ instances, lockdown }: ProviderState) =>
	lockdown !== undefined && lockdown.rules.length > 0 && instances.length === 0;

function describeState(state: ProviderState) {
	const { group, instances, lockdown } = state;
	const active = isActive(state);
	const attached = [...(lockdown?.instances ?? []), ...instances].map((i) => ({
		id: i.id,
		label: i.label,
		main_ip: i.main_ip,
	}));
	const warnings =
		attached.length === 0 ? [protectsNothingWarning('no instance is in this firewall group')] : [];
	return {
		active,
		state: !lockdown
			? 'normal'
			: active
				? 'locked down'
				: 'interrupted (run Activate or Withdraw again to finish)',
		firewallGroup: { id: group.id, description: group.description, rule_count: group.rule_count },
		lockdownGroup: lockdown
			? {
					id: lockdown.group.id,
					description: lockdown.group.description,
					rule_count: lockdown.rules.length,
				}
			: null,
		attached,
		// What withdraw gives back: the instances return to the original group, whose rules were never
		// touched.
		original: lockdown ? { instance_ids: attached.map((i) => i.id) } : null,
		originalLivesAt: lockdown
			? `Rules: group '${group.description}', unchanged. Instances: members of lockdown ` +
				`group ${lockdown.group.id} until withdraw.`
			: null,
		warnings,
	};
}

async function moveInstances(
	api: ProviderClient,
	ids: string[],
	groupId: string,
	operation: 'activate' | 'withdraw',
	state: string,
) {
	for (const id of ids) {
		await step(
			operation,
			`moving instance ${id} to firewall group ${groupId}`,
			state,
			async () =>
				await vultrRequest(api, 'PATCH', `/instances/${id}`, { firewall_group_id: groupId }),
		);
	}
}

export const vultrFirewall: MitigationProvider<GroupTarget> = {
	name: 'vultrFirewall',
	api: vultrApi,

	readTarget(ctx: IExecuteFunctions, itemIndex: number) {
		return validate(
			z.object({
				firewallGroupId: z
					.string()
					.trim()
					.regex(
						/^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{8})$/i,
						'Firewall Group ID must be the id shown in the URL of the group (Products > Firewall)',
					),
			}),
			{ firewallGroupId: readLocator(ctx, 'firewallGroupId', itemIndex) },
			'firewall group',
		);
	},

	describeTarget: (target) => target.firewallGroupId,

	operations: {
		async getStatus(target, { api, records }): Promise<MitigationResult> {
			return {
				...describeState(await readState(api, target)),
				changed: false,
				staticDataCopy: records.get<InstancesRecord>(recordKey(target))?.original ?? null,
			};
		},

		async activate(target, { api, records, ctx, itemIndex }): Promise<MitigationResult> {
			const requested = readLockdownOptions(ctx, itemIndex);
			// The group's own rules only matter when Management Sources is empty (they give the
			// sources); then they are read alongside the state.
			const rulesOf = async (id: string) =>
				requested.sources.length
					? []
					: await listAll<FirewallRule>(api, `/firewalls/${id}/rules`, 'firewall_rules');
			const [state, ownRules] = await sideBySide([
				readState(api, target),
				rulesOf(target.firewallGroupId),
			]);
			if (isActive(state))
				return {
					...describeState(state),
					changed: false,
					note: 'Already locked down; the saved original was kept.',
				};
			const originalRules =
				state.group.id === target.firewallGroupId ? ownRules : await rulesOf(state.group.id);
			const { options, managementAccess } = withManagementAccess(
				requested,
				originalRules
					.filter(
						(r) =>
							r.protocol.toLowerCase() === 'tcp' &&
							r.subnet !== '' &&
							requested.ports.some((p) => portsCover(r.port, p)),
					)
					.map((r) => `${r.subnet}/${r.subnet_size}`),
			);
			const wanted = managementRules(options);
			if (wanted.length > 50) {
				throw new InputError(
					`The lockdown needs ${wanted.length} rules (sources x ports); a Vultr group holds 50`,
					'Use fewer management sources or ports. Nothing was changed.',
				);
			}
			const key = recordKey(target);
			const toMove = state.instances.map((i) => i.id);
			const previous = records.get<InstancesRecord>(key)?.original.instance_ids ?? [];
			records.set(key, {
				original: {
					instance_ids: union(previous, [
						...(state.lockdown?.instances ?? []).map((i) => i.id),
						...toMove,
					]),
				},
			});

			const description = lockdownDescription(state.group.id);
			const lockdownGroup =
				state.lockdown?.group ??
				(
					await step(
						'activate',
						`creating lockdown group '${description}'`,
						`group '${state.group.description}' and its instances are unchanged; not locked down`,
						async () =>
							await vultrRequest<{ firewall_group: FirewallGroup }>(
								api,
								'POST',
								'/firewalls',
								{ description },
								undefined,
								{
									findEffect: async () => {
										const [created] = await findLockdownGroups(api, state.group.id);
										return created ? { firewall_group: created } : undefined;
									},
								},
							),
					)
				).firewall_group;
			const existing = state.lockdown?.rules ?? [];
			const notYetLocked =
				`lockdown group ${lockdownGroup.id} exists; the instances are still in group ` +
				`'${state.group.description}' with its rules; not locked down yet`;
			for (const rule of wanted.filter((w) => !existing.some((e) => sameRule(e, w)))) {
				await step(
					'activate',
					`adding management rule ${rule.subnet}/${rule.subnet_size} port ${rule.port}`,
					notYetLocked,
					async () =>
						await vultrRequest(
							api,
							'POST',
							`/firewalls/${lockdownGroup.id}/rules`,
							rule as unknown as IDataObject,
							undefined,
							{
								findEffect: async () => {
									const rules = await listAll<FirewallRule>(
										api,
										`/firewalls/${lockdownGroup.id}/rules`,
										'firewall_rules',
									);
									const added = rules.find((r) => sameRule(r, rule));
									return added ? { firewall_rule: added } : undefined;
								},
							},
						),
				);
			}
			await moveInstances(
				api,
				toMove,
				lockdownGroup.id,
				'activate',
				`lockdown group ${lockdownGroup.id} is ready; some instances are already in it ` +
					`(locked down), the others are still in group '${state.group.description}'`,
			);
			return {
				...describeState(await readState(api, target)),
				changed: true,
				managementAccess,
			};
		},

		async withdraw(target, { api, records, ctx, itemIndex }): Promise<MitigationResult> {
			const override = readRestoreOverride(ctx, itemIndex, overrideSchema, OVERRIDE_SHAPE);
			const state = await readState(api, target);
			const { group, lockdown } = state;
			const key = recordKey(target);
			const record = records.get<InstancesRecord>(key);
			const inOriginal = new Set(state.instances.map((i) => i.id));

			let toReturn: string[];
			let restoredFrom: string;
			// Instances still in a lockdown group go back too: deleting the group would leave them
			// unfiltered.
			if (override)
				[toReturn, restoredFrom] = [
					union(
						override.instance_ids,
						state.lockdowns.flatMap((l) => l.instances.map((i) => i.id)),
					),
					'Configuration to Restore',
				];
			else if (lockdown)
				[toReturn, restoredFrom] = [
					state.lockdowns.flatMap((l) => l.instances.map((i) => i.id)),
					`lockdown group ${lockdown.group.id}`,
				];
			else if (record && inOriginal.size === 0)
				[toReturn, restoredFrom] = [
					record.original.instance_ids,
					'activation record (the lockdown group was deleted)',
				];
			else {
				records.delete(key);
				return {
					...describeState(state),
					changed: false,
					note: 'Not locked down. Nothing to restore.',
				};
			}

			await moveInstances(
				api,
				toReturn.filter((id) => !inOriginal.has(id)),
				group.id,
				'withdraw',
				`some instances are back in group '${group.description}', the others are still in ` +
					'the lockdown group',
			);
			for (const { group: extra } of state.lockdowns) {
				await step(
					'withdraw',
					`deleting lockdown group ${extra.id}`,
					`every instance is back in group '${group.description}'; the empty lockdown ` +
						'group still exists',
					async () => await vultrRequest(api, 'DELETE', `/firewalls/${extra.id}`),
				);
			}
			records.delete(key);
			return { ...describeState(await readState(api, target)), changed: true, restoredFrom };
		},
	},
};
