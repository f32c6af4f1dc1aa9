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
	digitalOceanApi,
	doRequest,
	getFirewall,
	listFirewalls,
	putFirewall,
	wholeBody,
	writableRule,
	type Firewall,
	type InboundRule,
	type OutboundRule,
} from './transport';

/**
 * Lockdown without touching the user's firewall: a lockdown firewall (management rules only, plus a
 * copy of the original's outbound rules) is created already attached to the original's Droplets and
 * tags, then the original is detached. A Droplet sees the union of its firewalls' rules, so at no
 * moment is one left without a firewall (which on DigitalOcean means open). Withdraw re-attaches
 * the original first, then deletes the lockdown firewall.
 *
 * The lockdown firewall's name is derived from the original's id, and it holds the original's
 * attachments while the lockdown lasts: a withdraw from any workflow, a manual run or after a
 * restart finds everything at DigitalOcean.
 */

export interface FirewallTarget {
	firewallId: string;
}

interface Attachments extends IDataObject {
	droplet_ids: number[];
	tags: string[];
}

/**
 * Extra copy of the attachments, for the case where someone deletes the lockdown firewall by hand.
 */
interface AttachmentsRecord extends ActivationRecord {
	original: Attachments;
}

interface ProviderState {
	original: Firewall;
	/** The lockdown firewall in use (the oldest when an earlier duplicate create left several). */
	lockdown?: Firewall;
	lockdowns: Firewall[];
}

export const LOCKDOWN_PREFIX = 'ddos-lockdown-';
export const lockdownName = (originalId: string) => `${LOCKDOWN_PREFIX}${originalId}`;
/** Documented limits per firewall. */
const MAX_RULES = 50;

const recordKey = (target: FirewallTarget) => `digitalOceanFirewall:${target.firewallId}`;

const attachmentsOf = (firewall: Firewall): Attachments => ({
	droplet_ids: firewall.droplet_ids ?? [],
	tags: firewall.tags ?? [],
});
const isAttached = (a: Attachments) => a.droplet_ids.length + a.tags.length > 0;
const unionOf = (first: Attachments, second: Attachments): Attachments => ({
	droplet_ids: union(first.droplet_ids, second.droplet_ids),
	tags: union(first.tags, second.tags),
});
const covers = (outer: Attachments, inner: Attachments) =>
	inner.droplet_ids.every((id) => outer.droplet_ids.includes(id)) &&
	inner.tags.every((tag) => outer.tags.includes(tag));

const ruleTarget = z
	.object({
		addresses: z.array(z.string()).optional(),
		droplet_ids: z.array(z.number().int()).optional(),
		load_balancer_uids: z.array(z.string()).optional(),
		kubernetes_ids: z.array(z.string()).optional(),
		tags: z.array(z.string()).nullable().optional(),
	})
	.strict();
const protocol = z.enum(['tcp', 'udp', 'icmp']);
const overrideSchema = z
	.object({
		droplet_ids: z
			.array(z.number().int().positive())
			.max(10, 'DigitalOcean allows at most 10 Droplets per firewall')
			.optional(),
		tags: z
			.array(z.string().min(1))
			.max(5, 'DigitalOcean allows at most 5 tags per firewall')
			.optional(),
		inbound_rules: z
			.array(z.object({ protocol, ports: z.string().optional(), sources: ruleTarget }).strict())
			.optional(),
		outbound_rules: z
			.array(
				z.object({ protocol, ports: z.string().optional(), destinations: ruleTarget }).strict(),
			)
			.optional(),
	})
	.strict();
const OVERRIDE_SHAPE =
	'{"droplet_ids": [...], "tags": [...]} (the attachments to give back to the original ' +
	'firewall), optionally with "inbound_rules" and "outbound_rules" in DigitalOcean\'s ' +
	'format';

const firewallId = z
	.string()
	.trim()
	.regex(
		/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i,
		'Firewall ID must be the UUID shown in the dashboard URL (Networking > Firewalls > ' +
			'your firewall)',
	);

/**
 * One inbound rule per management port, open to every management source (IPv4 and IPv6 together).
 */
export function lockdownInboundRules(options: LockdownOptions): InboundRule[] {
	const addresses = options.sources.map((s) => s.cidr);
	return options.ports.map((ports) => ({ protocol: 'tcp', ports, sources: { addresses } }));
}

/**
 * The firewall and its lockdown firewalls. Each lockdown firewall is read on its own for a current
 * status, unless `currentStatus` is false: withdraw needs only their attachments, which the list
 * carries, and saves that round trip.
 */
async function readState(
	api: ProviderClient,
	target: FirewallTarget,
	currentStatus = true,
): Promise<ProviderState> {
	// Side by side: the list does not need the firewall, only its filter does; each sequential read
	// before the first write adds a round trip to the time to mitigate.
	const [original, all] = await sideBySide([
		getFirewall(api, target.firewallId),
		listFirewalls(api),
	]);
	if (original.name.startsWith(LOCKDOWN_PREFIX)) {
		throw new InputError(
			`Firewall '${original.name}' is a lockdown firewall created by this node, not the ` +
				'firewall to protect',
			`Choose the original firewall: its id is the part of the name after '${LOCKDOWN_PREFIX}'.`,
		);
	}
	const listed = lockdownsIn(all, original.id);
	const lockdowns = currentStatus
		? await sideBySide(listed.map(async (f) => await getFirewall(api, f.id)))
		: listed;
	return { original, lockdown: lockdowns[0], lockdowns };
}

/** The lockdown firewalls of a firewall among `all`, oldest first. */
const lockdownsIn = (all: Firewall[], originalId: string) =>
	all
		.filter((f) => f.name === lockdownName(originalId))
		.sort((a, b) => (a.created_at ?? '').localeCompare(b.created_at ?? ''));

const findLockdowns = async (api: ProviderClient, originalId: string) =>
	await sideBySide(
		lockdownsIn(await listFirewalls(api), originalId).map(
			async (f) => await getFirewall(api, f.id),
		),
	);

/** Attaches Droplets and tags to a firewall, or detaches them, without rewriting the firewall. */
async function moveAttachments(
	api: ProviderClient,
	firewall: Firewall,
	attachments: Attachments,
	how: 'POST' | 'DELETE',
): Promise<void> {
	// Adding or removing the same Droplet or tag twice has the effect of doing it once.
	if (attachments.droplet_ids.length)
		await doRequest(
			api,
			how,
			`/v2/firewalls/${firewall.id}/droplets`,
			{ droplet_ids: attachments.droplet_ids },
			undefined,
			{ idempotent: true },
		);
	if (attachments.tags.length)
		await doRequest(
			api,
			how,
			`/v2/firewalls/${firewall.id}/tags`,
			{ tags: attachments.tags },
			undefined,
			{ idempotent: true },
		);
}

const missingFrom = (firewall: Firewall, wanted: Attachments): Attachments => {
	const has = attachmentsOf(firewall);
	return {
		droplet_ids: wanted.droplet_ids.filter((id) => !has.droplet_ids.includes(id)),
		tags: wanted.tags.filter((tag) => !has.tags.includes(tag)),
	};
};

function brief(firewall: Firewall) {
	return { id: firewall.id, name: firewall.name, status: firewall.status ?? null };
}

/** What getStatus reports, and the common part of every output. */
function describeState({ original, lockdown }: Pick<ProviderState, 'original' | 'lockdown'>) {
	const originalAttachments = attachmentsOf(original);
	const moved = lockdown !== undefined && !isAttached(originalAttachments);
	// DigitalOcean applies a firewall to its Droplets asynchronously; "succeeded" is when it is in
	// place.
	const applying = moved && lockdown.status !== undefined && lockdown.status !== 'succeeded';
	const active = moved && !applying;
	const attached = lockdown
		? unionOf(attachmentsOf(lockdown), originalAttachments)
		: originalAttachments;
	const warnings: string[] = [];
	if (!isAttached(attached))
		warnings.push(protectsNothingWarning('no Droplets or tags are attached to it'));
	return {
		active,
		state: !lockdown
			? 'normal'
			: active
				? 'locked down'
				: applying
					? `locked down once DigitalOcean has applied it (status '${lockdown.status}')`
					: 'interrupted (run Activate or Withdraw again to finish)',
		firewall: brief(original),
		lockdownFirewall: lockdown ? brief(lockdown) : null,
		attached,
		// What withdraw gives back to the original firewall (its rules are never changed).
		original: lockdown ? attached : null,
		originalLivesAt: lockdown
			? `Rules: firewall '${original.name}', unchanged. Droplets and tags: held by lockdown ` +
				`firewall '${lockdown.name}' (${lockdown.id}) until withdraw.`
			: null,
		warnings,
	};
}

export const digitalOceanFirewall: MitigationProvider<FirewallTarget> = {
	name: 'digitalOceanFirewall',
	api: digitalOceanApi,

	readTarget(ctx: IExecuteFunctions, itemIndex: number) {
		return validate(
			z.object({ firewallId }),
			{ firewallId: readLocator(ctx, 'firewallId', itemIndex) },
			'firewall',
		);
	},

	describeTarget: (target) => target.firewallId,

	operations: {
		async getStatus(target, { api, records }): Promise<MitigationResult> {
			const state = await readState(api, target);
			return {
				...describeState(state),
				changed: false,
				staticDataCopy: records.get<AttachmentsRecord>(recordKey(target))?.original ?? null,
			};
		},

		async activate(target, { api, records, ctx, itemIndex }): Promise<MitigationResult> {
			const requested = readLockdownOptions(ctx, itemIndex);
			const state = await readState(api, target);
			const { original } = state;
			const { options, managementAccess } = withManagementAccess(
				requested,
				(original.inbound_rules ?? [])
					.filter(
						(r) => r.protocol === 'tcp' && requested.ports.some((p) => portsCover(r.ports, p)),
					)
					.flatMap((r) => r.sources.addresses ?? []),
			);
			const originalAttachments = attachmentsOf(original);
			if (state.lockdown && !isAttached(originalAttachments)) {
				return {
					...describeState(state),
					changed: false,
					note: 'Already locked down; the saved original was kept.',
				};
			}
			const inbound = lockdownInboundRules(options);
			const outbound = original.outbound_rules ?? [];
			if (inbound.length + outbound.length > MAX_RULES) {
				throw new InputError(
					`The lockdown firewall would need ${inbound.length} inbound and ${outbound.length} ` +
						`outbound rules; DigitalOcean allows ${MAX_RULES} in total`,
					'Use fewer management ports (ranges count once). Nothing was changed.',
				);
			}
			const key = recordKey(target);
			const toProtect = state.lockdown
				? unionOf(attachmentsOf(state.lockdown), originalAttachments)
				: originalAttachments;
			if (!records.get<AttachmentsRecord>(key)) records.set(key, { original: toProtect });

			const name = lockdownName(original.id);
			let lockdown = state.lockdown;
			if (!lockdown) {
				lockdown = await step(
					'activate',
					`creating lockdown firewall '${name}'`,
					`firewall '${original.name}' is unchanged and attached as before; not locked down`,
					async () =>
						(
							await doRequest<{ firewall: Firewall }>(
								api,
								'POST',
								'/v2/firewalls',
								{
									name,
									inbound_rules: inbound,
									outbound_rules: outbound.map(writableRule),
									...toProtect,
								} as IDataObject,
								undefined,
								{
									findEffect: async () => {
										const [created] = await findLockdowns(api, original.id);
										return created ? { firewall: created } : undefined;
									},
								},
							)
						).firewall,
				);
			} else if (!covers(attachmentsOf(lockdown), toProtect)) {
				const existing = lockdown;
				await step(
					'activate',
					`attaching lockdown firewall '${name}' to the original's Droplets and tags`,
					`firewall '${original.name}' is still attached, so its rules still apply; not ` +
						'locked down yet',
					async () =>
						await moveAttachments(api, existing, missingFrom(existing, toProtect), 'POST'),
				);
			}
			const locking = lockdown;
			await step(
				'activate',
				`detaching firewall '${original.name}'`,
				`lockdown firewall '${name}' is attached alongside the original, so the Droplets ` +
					'still see the original rules; not locked down yet',
				async () => await moveAttachments(api, original, originalAttachments, 'DELETE'),
			);
			const [originalAfter, lockdownAfter] = await sideBySide([
				getFirewall(api, original.id),
				getFirewall(api, locking.id),
			]);
			return {
				...describeState({ original: originalAfter, lockdown: lockdownAfter }),
				changed: true,
				managementAccess,
			};
		},

		async withdraw(target, { api, records, ctx, itemIndex }): Promise<MitigationResult> {
			const override = readRestoreOverride(ctx, itemIndex, overrideSchema, OVERRIDE_SHAPE);
			const state = await readState(api, target, false);
			const { original, lockdown } = state;
			const key = recordKey(target);
			const originalAttachments = attachmentsOf(original);
			const record = records.get<AttachmentsRecord>(key);

			let saved: Attachments | undefined;
			let restoredFrom: string;
			if (lockdown) {
				saved = state.lockdowns.reduce(
					(all, l) => unionOf(all, attachmentsOf(l)),
					originalAttachments,
				);
				restoredFrom = `lockdown firewall '${lockdown.name}'`;
			} else if (record && !isAttached(originalAttachments)) {
				saved = record.original;
				restoredFrom = 'activation record (the lockdown firewall was deleted)';
			} else {
				restoredFrom = 'Configuration to Restore';
			}
			if (override) {
				saved = {
					droplet_ids:
						override.droplet_ids ?? saved?.droplet_ids ?? originalAttachments.droplet_ids,
					tags: override.tags ?? saved?.tags ?? originalAttachments.tags,
				};
				restoredFrom = 'Configuration to Restore';
			}
			if (!saved) {
				records.delete(key);
				return {
					...describeState(state),
					changed: false,
					note:
						`Not locked down: no lockdown firewall '${lockdownName(original.id)}' exists. ` +
						'Nothing to restore.',
				};
			}

			const restore = saved;
			const rules = {
				...(override?.inbound_rules
					? { inbound_rules: (override.inbound_rules as InboundRule[]).map(writableRule) }
					: {}),
				...(override?.outbound_rules
					? { outbound_rules: (override.outbound_rules as OutboundRule[]).map(writableRule) }
					: {}),
			};
			if (Object.keys(rules).length > 0) {
				await step(
					'withdraw',
					`restoring the rules of firewall '${original.name}'`,
					lockdown
						? `lockdown firewall '${lockdown.name}' still holds the Droplets and tags; still ` +
								'locked down'
						: `firewall '${original.name}' is unchanged`,
					async () => await putFirewall(api, original.id, wholeBody(original, rules)),
				);
			}
			const reattach = missingFrom(original, restore);
			if (isAttached(reattach)) {
				await step(
					'withdraw',
					`re-attaching firewall '${original.name}'`,
					lockdown
						? `lockdown firewall '${lockdown.name}' still holds the Droplets and tags; still ` +
								'locked down'
						: `firewall '${original.name}' is still detached`,
					async () => await moveAttachments(api, original, reattach, 'POST'),
				);
			}
			for (const extra of state.lockdowns) {
				await step(
					'withdraw',
					`deleting lockdown firewall '${extra.name}'`,
					`firewall '${original.name}' is attached again; the lockdown firewall still ` +
						'exists alongside it, so the Droplets see the original rules',
					async () => await doRequest(api, 'DELETE', `/v2/firewalls/${extra.id}`),
				);
			}
			const restored = await getFirewall(api, original.id);
			records.delete(key);
			return { ...describeState({ original: restored }), changed: true, restoredFrom };
		},
	},
};
