import type { IDataObject, IExecuteFunctions } from 'n8n-workflow';
import { z } from 'zod';

import type { ActivationRecord } from '../shared/activationRecords';
import { InputError } from '../shared/errors';
import type { ProviderClient } from '../shared/http';
import {
	canonical,
	nothingSavedError,
	protectsNothingWarning,
	readLockdownOptions,
	readNothingSavedChoice,
	readRestoreOverride,
	step,
	type LockdownOptions,
} from '../shared/lockdown';
import type { MitigationProvider, MitigationResult } from '../shared/provider';
import { readLocator } from '../shared/provider';
import { validate } from '../shared/validation';
import {
	linodeApi,
	linodeRequest,
	listFirewalls,
	ruleSetOf,
	type Firewall,
	type LinodeRule,
	type RuleSet,
} from './transport';

/**
 * A Linode can have only one active firewall, so moving it to a lockdown firewall would leave a moment with none
 * (open). The lockdown therefore overwrites the firewall's rules (PUT replaces all rules and both policies), after
 * saving a copy at Linode: an unattached firewall labelled from the original's id, holding the original rules and
 * policies. Withdraw puts that copy back and deletes it. A withdraw from any workflow, a manual run or after a
 * restart finds the copy by its label; workflow static data keeps a second copy.
 */

export interface FirewallTarget {
	firewallId: string;
}

interface RulesRecord extends ActivationRecord {
	original: RuleSet & IDataObject;
}

interface Device {
	id: number;
	entity: { id: number; type: string; label?: string };
}

interface ProviderState {
	firewall: Firewall;
	rules: RuleSet;
	devices: Device[];
	snapshot?: { firewall: Firewall; rules: RuleSet };
}

export const SNAPSHOT_PREFIX = 'ddos-snap-';
export const snapshotLabel = (firewallId: string | number) => `${SNAPSHOT_PREFIX}${firewallId}`;
export const MANAGEMENT_LABEL = 'ddos-lockdown-mgmt';
const MAX_RULES = 25;
/** Linode counts a range as two of the at most 15 port pieces of one rule. */
const MAX_PORT_PIECES = 15;
const MAX_ADDRESSES = 255;

const recordKey = (target: FirewallTarget) => `linodeFirewall:${target.firewallId}`;

const policy = z.enum(['ACCEPT', 'DROP']);
const ruleSchema = z
	.object({
		action: policy,
		protocol: z.enum(['TCP', 'UDP', 'ICMP', 'IPENCAP']),
		ports: z.string().nullable().optional(),
		addresses: z
			.object({ ipv4: z.array(z.string()).optional(), ipv6: z.array(z.string()).optional() })
			.strict(),
		label: z.string().optional(),
		description: z.string().optional(),
	})
	.strict();
const ruleSetSchema = z
	.object({
		inbound: z.array(ruleSchema).nullable(),
		inbound_policy: policy,
		outbound: z.array(ruleSchema).nullable(),
		outbound_policy: policy,
	})
	.strict()
	.refine(
		(r) => (r.inbound?.length ?? 0) + (r.outbound?.length ?? 0) <= MAX_RULES,
		`Linode allows at most ${MAX_RULES} rules`,
	);
const OVERRIDE_SHAPE =
	'{"inbound": [...], "inbound_policy": "ACCEPT"|"DROP", "outbound": [...], "outbound_policy": "ACCEPT"|"DROP"} (the "original" field of an Activate or Get Status output)';

/** Rules that keep the management ports open from the management sources, IPv4 and IPv6 in the same rule. */
export function managementRules(options: LockdownOptions): LinodeRule[] {
	if (options.sources.length > MAX_ADDRESSES) {
		throw new InputError(
			`Linode allows at most ${MAX_ADDRESSES} addresses in a rule; ${options.sources.length} management sources were given`,
		);
	}
	const ipv4 = options.sources.filter((s) => s.version === 4).map((s) => s.cidr);
	const ipv6 = options.sources.filter((s) => s.version === 6).map((s) => s.cidr);
	const chunks: string[][] = [[]];
	let pieces = 0;
	for (const port of options.ports) {
		const weight = port.includes('-') ? 2 : 1;
		if (pieces + weight > MAX_PORT_PIECES) {
			chunks.push([]);
			pieces = 0;
		}
		chunks[chunks.length - 1].push(port);
		pieces += weight;
	}
	return chunks.map((ports) => ({
		action: 'ACCEPT',
		protocol: 'TCP',
		ports: ports.join(','),
		addresses: { ...(ipv4.length ? { ipv4 } : {}), ...(ipv6.length ? { ipv6 } : {}) },
		label: MANAGEMENT_LABEL,
		description: 'Management access kept open by the DDoS lockdown',
	}));
}

/** The lockdown changes inbound only: outbound rules and policy stay as they were. */
function lockdownRules(current: RuleSet, options: LockdownOptions): RuleSet {
	return {
		inbound: managementRules(options),
		inbound_policy: 'DROP',
		outbound: current.outbound,
		outbound_policy: current.outbound_policy,
	};
}

export const isLockedDown = (rules: RuleSet) =>
	rules.inbound_policy === 'DROP' &&
	(rules.inbound ?? []).length > 0 &&
	(rules.inbound ?? []).every((r) => r.label === MANAGEMENT_LABEL);

async function readState(api: ProviderClient, target: FirewallTarget): Promise<ProviderState> {
	const firewall = await linodeRequest<Firewall>(
		api,
		'GET',
		`/networking/firewalls/${target.firewallId}`,
	);
	if (firewall.label.startsWith(SNAPSHOT_PREFIX)) {
		throw new InputError(
			`Firewall '${firewall.label}' is the copy of another firewall's rules saved by this node, not a firewall to protect`,
			`Choose the original firewall: its id is the number after '${SNAPSHOT_PREFIX}'.`,
		);
	}
	const rules = ruleSetOf(
		await linodeRequest<RuleSet>(api, 'GET', `/networking/firewalls/${target.firewallId}/rules`),
	);
	const devices = await linodeRequest<{ data: Device[] }>(
		api,
		'GET',
		`/networking/firewalls/${target.firewallId}/devices`,
		undefined,
		{
			qs: { page_size: 500 },
		},
	);
	const label = snapshotLabel(firewall.id);
	const copy = (await listFirewalls(api, { label })).find((f) => f.label === label);
	const snapshot = copy
		? {
				firewall: copy,
				rules: ruleSetOf(
					await linodeRequest<RuleSet>(api, 'GET', `/networking/firewalls/${copy.id}/rules`),
				),
			}
		: undefined;
	return { firewall, rules, devices: devices.data ?? [], snapshot };
}

function describeState({ firewall, rules, devices, snapshot }: ProviderState, saved?: RuleSet) {
	const active = isLockedDown(rules);
	const warnings: string[] = [];
	if (devices.length === 0)
		warnings.push(protectsNothingWarning('it is not attached to any Linode or NodeBalancer'));
	if (firewall.status === 'disabled')
		warnings.push(
			'This firewall is disabled: its rules, lockdown included, apply to nothing until it is enabled.',
		);
	const original = snapshot?.rules ?? saved ?? null;
	return {
		active,
		state: active
			? original
				? 'locked down'
				: 'locked down, original not found'
			: snapshot
				? 'interrupted (run Activate or Withdraw again to finish)'
				: 'normal',
		firewall: { id: firewall.id, label: firewall.label, status: firewall.status },
		snapshotFirewall: snapshot
			? { id: snapshot.firewall.id, label: snapshot.firewall.label }
			: null,
		attached: devices.map((d) => ({
			id: d.entity.id,
			type: d.entity.type,
			label: d.entity.label ?? null,
		})),
		inboundPolicy: rules.inbound_policy,
		inboundRuleCount: rules.inbound?.length ?? 0,
		original,
		originalLivesAt: snapshot
			? `Unattached firewall '${snapshot.firewall.label}' (${snapshot.firewall.id}) at Linode, deleted after the restore`
			: saved
				? 'Workflow static data / this n8n process only (the copy at Linode is gone)'
				: null,
		warnings,
	};
}

export const linodeFirewall: MitigationProvider<FirewallTarget> = {
	name: 'linodeFirewall',
	api: linodeApi,

	readTarget(ctx: IExecuteFunctions, itemIndex: number) {
		return validate(
			z.object({
				firewallId: z
					.string()
					.trim()
					.regex(
						/^\d{1,12}$/,
						'Firewall ID must be the number in the dashboard URL (Network > Firewalls > your firewall)',
					),
			}),
			{ firewallId: readLocator(ctx, 'firewallId', itemIndex) },
			'firewall',
		);
	},

	describeTarget: (target) => target.firewallId,

	operations: {
		async getStatus(target, { api, records }): Promise<MitigationResult> {
			const record = records.get<RulesRecord>(recordKey(target));
			return { ...describeState(await readState(api, target), record?.original), changed: false };
		},

		async activate(target, { api, records, ctx, itemIndex }): Promise<MitigationResult> {
			const options = readLockdownOptions(ctx, itemIndex);
			const state = await readState(api, target);
			const key = recordKey(target);
			if (isLockedDown(state.rules)) {
				const result = {
					...describeState(state, records.get<RulesRecord>(key)?.original),
					changed: false,
				};
				return { ...result, note: 'Already locked down; the saved original was kept.' };
			}
			const current = state.rules;
			const lockdown = lockdownRules(current, options);
			if ((lockdown.inbound?.length ?? 0) + (lockdown.outbound?.length ?? 0) > MAX_RULES) {
				throw new InputError(
					`The lockdown needs ${lockdown.inbound?.length} inbound rules plus the ${lockdown.outbound?.length ?? 0} outbound rules kept; Linode allows ${MAX_RULES} in total`,
					'Use fewer management ports. Nothing was changed.',
				);
			}
			records.set(key, { original: current as RuleSet & IDataObject });
			const label = snapshotLabel(state.firewall.id);
			let snapshot = state.snapshot;
			if (!snapshot) {
				const created = await step(
					'activate',
					`saving a copy of the rules as firewall '${label}'`,
					`firewall '${state.firewall.label}' is unchanged; not locked down`,
					async () =>
						await linodeRequest<Firewall>(api, 'POST', '/networking/firewalls', {
							label,
							tags: ['ddos-mitigation'],
							rules: {
								...current,
								inbound: current.inbound ?? [],
								outbound: current.outbound ?? [],
							},
						}),
				);
				snapshot = { firewall: created, rules: current };
			} else if (canonical(snapshot.rules) !== canonical(current)) {
				// A copy left by an interrupted run, older than the rules now in place: these rules are the original.
				const stale = snapshot;
				await step(
					'activate',
					`updating the saved copy '${label}'`,
					`firewall '${state.firewall.label}' is unchanged; not locked down`,
					async () =>
						await linodeRequest(
							api,
							'PUT',
							`/networking/firewalls/${stale.firewall.id}/rules`,
							current as unknown as IDataObject,
						),
				);
				snapshot = { ...stale, rules: current };
			}
			const after = await step(
				'activate',
				`replacing the rules of '${state.firewall.label}' with the lockdown`,
				`the original rules are saved in firewall '${label}'; '${state.firewall.label}' still has its own rules, not locked down`,
				async () =>
					await linodeRequest<RuleSet>(
						api,
						'PUT',
						`/networking/firewalls/${target.firewallId}/rules`,
						lockdown as unknown as IDataObject,
					),
			);
			return { ...describeState({ ...state, rules: ruleSetOf(after), snapshot }), changed: true };
		},

		async withdraw(target, { api, records, ctx, itemIndex }): Promise<MitigationResult> {
			const override = readRestoreOverride(ctx, itemIndex, ruleSetSchema, OVERRIDE_SHAPE) as
				RuleSet | undefined;
			const whenNothingSaved = readNothingSavedChoice(ctx, itemIndex);
			const state = await readState(api, target);
			const { firewall, snapshot } = state;
			const key = recordKey(target);
			const record = records.get<RulesRecord>(key);
			const locked = isLockedDown(state.rules);

			if (!locked && !override) {
				records.delete(key);
				if (!snapshot)
					return {
						...describeState(state),
						changed: false,
						note: 'Not locked down. Nothing to restore.',
					};
				// The rules are already the original (a withdraw was interrupted after restoring them): remove the copy.
				await step(
					'withdraw',
					`deleting the saved copy '${snapshot.firewall.label}'`,
					'the original rules are in place; the copy still exists',
					async () =>
						await linodeRequest(api, 'DELETE', `/networking/firewalls/${snapshot.firewall.id}`),
				);
				return {
					...describeState({ ...state, snapshot: undefined }),
					changed: true,
					note: 'The original rules were already in place; removed the saved copy.',
				};
			}

			let restore: RuleSet;
			let restoredFrom: string;
			if (override) [restore, restoredFrom] = [override, 'Configuration to Restore'];
			else if (snapshot)
				[restore, restoredFrom] = [snapshot.rules, `saved copy '${snapshot.firewall.label}'`];
			else if (record)
				[restore, restoredFrom] = [
					record.original,
					'activation record (the copy at Linode was deleted)',
				];
			else if (whenNothingSaved === 'allowAll') {
				restore = {
					inbound: [],
					inbound_policy: 'ACCEPT',
					outbound: state.rules.outbound,
					outbound_policy: state.rules.outbound_policy,
				};
				restoredFrom = 'fallback: allow all inbound';
			} else {
				throw nothingSavedError(
					'Linode',
					`no firewall labelled '${snapshotLabel(firewall.id)}' and no activation record`,
				);
			}

			const after = await step(
				'withdraw',
				`restoring the rules of '${firewall.label}'`,
				snapshot
					? `still locked down; the original rules are safe in firewall '${snapshot.firewall.label}'`
					: 'still locked down',
				async () =>
					await linodeRequest<RuleSet>(
						api,
						'PUT',
						`/networking/firewalls/${target.firewallId}/rules`,
						ruleSetOf(restore) as unknown as IDataObject,
					),
			);
			if (snapshot) {
				await step(
					'withdraw',
					`deleting the saved copy '${snapshot.firewall.label}'`,
					`the original rules are restored; the copy '${snapshot.firewall.label}' still exists`,
					async () =>
						await linodeRequest(api, 'DELETE', `/networking/firewalls/${snapshot.firewall.id}`),
				);
			}
			records.delete(key);
			return {
				...describeState({ ...state, rules: ruleSetOf(after), snapshot: undefined }),
				changed: true,
				restoredFrom,
			};
		},
	},
};
