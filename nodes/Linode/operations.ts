import { createHash } from 'node:crypto';

import type { IDataObject, IExecuteFunctions } from 'n8n-workflow';
import { z } from 'zod';

import type { ActivationRecord } from '../shared/activationRecords';
import { InputError, ProviderError } from '../shared/errors';
import type { ProviderClient } from '../shared/http';
import {
	canonical,
	nothingSavedError,
	portsCover,
	protectsNothingWarning,
	readLockdownOptions,
	readNothingSavedChoice,
	readRestoreOverride,
	step,
	withManagementAccess,
	type LockdownOptions,
} from '../shared/lockdown';
import type { MitigationProvider, MitigationResult } from '../shared/provider';
import { readLocator } from '../shared/provider';
import { sideBySide } from '../shared/sideBySide';
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
 * A Linode can have only one active firewall, so moving it to a lockdown firewall would leave a
 * moment with none (open). The lockdown therefore overwrites the firewall's rules (PUT replaces all
 * rules and both policies), after saving a copy at Linode: an unattached firewall labelled from the
 * original's id, holding the original rules and policies, tagged with a fingerprint of the lockdown
 * rules. Whether the firewall is locked down is read from that copy (it exists, and the rules
 * differ from it), never guessed from rule labels. Withdraw puts the copy back, reads the rules
 * back, and deletes the copy only when they are equal. A withdraw from any workflow, a manual run
 * or after a restart finds the copy by its label; the activation record keeps a second copy.
 */

export interface FirewallTarget {
	firewallId: string;
}

interface RulesRecord extends ActivationRecord {
	original: RuleSet & IDataObject;
	/** Tag of the lockdown put in place (see lockdownTag). */
	lockdown?: string;
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
const COPY_TAG = 'ddos-mitigation';
const LOCKDOWN_TAG = 'ddos-lockdown-';
const MAX_RULES = 25;
/** Linode counts a range as two of the at most 15 port pieces of one rule. */
const MAX_PORT_PIECES = 15;
const MAX_ADDRESSES = 255;

const recordKey = (target: FirewallTarget) => `linodeFirewall:${target.firewallId}`;

const policy = z.enum(['ACCEPT', 'DROP']);
const ruleSchema = z
	.object({
		action: policy,
		// ALL as Linode's own client types it (@linode/api-v4 FirewallRuleProtocol).
		protocol: z.enum(['TCP', 'UDP', 'ICMP', 'IPENCAP', 'ALL']),
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
	'{"inbound": [...], "inbound_policy": "ACCEPT"|"DROP", "outbound": [...], ' +
	'"outbound_policy": "ACCEPT"|"DROP"} (the "original" field of an Activate or Get Status ' +
	'output)';

/**
 * Rules that keep the management ports open from the management sources, IPv4 and IPv6 in the same
 * rule.
 */
export function managementRules(options: LockdownOptions): LinodeRule[] {
	if (options.sources.length > MAX_ADDRESSES) {
		throw new InputError(
			`Linode allows at most ${MAX_ADDRESSES} addresses in a rule; ${options.sources.length} ` +
				'management sources were given',
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

/**
 * Only a lockdown of ours sets both policies and rules, so the fallback for a missing copy may tell
 * one by its label; nothing else is decided from labels (an operator may add rules during the
 * lockdown).
 */
const looksLockedDown = (rules: RuleSet) =>
	rules.inbound_policy === 'DROP' &&
	(rules.inbound ?? []).length > 0 &&
	(rules.inbound ?? []).every((r) => r.label === MANAGEMENT_LABEL);

/** Rules as Linode compares them: a missing list is an empty one. */
const normalized = (rules: RuleSet): RuleSet => ({
	inbound: rules.inbound ?? [],
	inbound_policy: rules.inbound_policy,
	outbound: rules.outbound ?? [],
	outbound_policy: rules.outbound_policy,
});
const sameRules = (a: RuleSet, b: RuleSet) => canonical(normalized(a)) === canonical(normalized(b));

/**
 * Fingerprint of a lockdown rule set, kept as a tag of the saved copy: the lockdown, recorded at
 * Linode.
 */
export const lockdownTag = (rules: RuleSet) =>
	`${LOCKDOWN_TAG}${createHash('sha256')
		.update(canonical(normalized(rules)))
		.digest('hex')
		.slice(0, 16)}`;

/**
 * Where the firewall is, decided from the saved copy at Linode (and the activation record when the
 * copy is gone), never from rule labels:
 * - normal: no copy, the rules are the user's;
 * - saved: a copy exists and the rules equal it (an activate stopped before the lockdown, or a
 *   withdraw before deleting the copy);
 * - lockedDown: a copy exists and the rules are the lockdown it is tagged with;
 * - edited: a copy exists and the rules are neither (someone changed them during the lockdown);
 * - lockedNoCopy: the copy is gone but the rules are the recorded lockdown, or look like one.
 */
type Phase = 'normal' | 'saved' | 'lockedDown' | 'edited' | 'lockedNoCopy';

function phaseOf(state: ProviderState, record?: RulesRecord): Phase {
	const { rules, snapshot } = state;
	if (snapshot) {
		if (sameRules(rules, snapshot.rules)) return 'saved';
		return snapshot.firewall.tags.includes(lockdownTag(rules)) ? 'lockedDown' : 'edited';
	}
	if (record && record.lockdown === lockdownTag(rules)) return 'lockedNoCopy';
	return looksLockedDown(rules) ? 'lockedNoCopy' : 'normal';
}

const ACTIVE: Record<Phase, boolean> = {
	normal: false,
	saved: false,
	lockedDown: true,
	edited: true,
	lockedNoCopy: true,
};

async function readState(api: ProviderClient, target: FirewallTarget): Promise<ProviderState> {
	// Side by side: none of these reads needs another's answer (the copy's label is derived from the
	// id asked for), and each sequential read before the first write adds a round trip to the time to
	// mitigate. The firewall's own error (not found, token) comes first.
	const asked = Number(target.firewallId);
	const [firewall, rules, devices, found] = await sideBySide([
		linodeRequest<Firewall>(api, 'GET', `/networking/firewalls/${target.firewallId}`),
		readRules(api, target.firewallId),
		linodeRequest<{ data: Device[] }>(
			api,
			'GET',
			`/networking/firewalls/${target.firewallId}/devices`,
			undefined,
			{ qs: { page_size: 500 } },
		),
		findCopy(api, asked),
	]);
	if (firewall.label.startsWith(SNAPSHOT_PREFIX)) {
		throw new InputError(
			`Firewall '${firewall.label}' is the copy of another firewall's rules saved by this ` +
				'node, not a firewall to protect',
			`Choose the original firewall: its id is the number after '${SNAPSHOT_PREFIX}'.`,
		);
	}
	const copy = firewall.id === asked ? found : await findCopy(api, firewall.id);
	// A firewall as listed carries its rules: the copy's are read on their own only if they are not.
	const snapshot = copy
		? { firewall: copy, rules: copy.rules ? ruleSetOf(copy.rules) : await readRules(api, copy.id) }
		: undefined;
	return { firewall, rules, devices: devices.data ?? [], snapshot };
}

const readRules = async (api: ProviderClient, id: string | number) =>
	ruleSetOf(await linodeRequest<RuleSet>(api, 'GET', `/networking/firewalls/${id}/rules`));

/** The saved copy, by its unique label; the oldest if an earlier bug ever left two. */
async function findCopy(api: ProviderClient, firewallId: number): Promise<Firewall | undefined> {
	const label = snapshotLabel(firewallId);
	const copies = (await listFirewalls(api, { label })).filter((f) => f.label === label);
	return copies.sort((a, b) => a.id - b.id)[0];
}

function describeState(state: ProviderState, phase: Phase, saved?: RuleSet) {
	const { firewall, rules, devices, snapshot } = state;
	const active = ACTIVE[phase];
	const warnings: string[] = [];
	if (devices.length === 0)
		warnings.push(protectsNothingWarning('it is not attached to any Linode or NodeBalancer'));
	if (firewall.status === 'disabled')
		warnings.push(
			'This firewall is disabled: its rules, lockdown included, apply to nothing until it ' +
				'is enabled.',
		);
	if (phase === 'edited')
		warnings.push(
			'The rules were changed during the lockdown; Withdraw restores the saved original, ' +
				'not these changes.',
		);
	const original = snapshot?.rules ?? saved ?? null;
	const states: Record<Phase, string> = {
		normal: 'normal',
		saved: 'interrupted (run Activate or Withdraw again to finish)',
		lockedDown: 'locked down',
		edited: 'locked down, rules changed since',
		lockedNoCopy: original ? 'locked down' : 'locked down, original not found',
	};
	return {
		active,
		state: states[phase],
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
			? `Unattached firewall '${snapshot.firewall.label}' (${snapshot.firewall.id}) at ` +
				'Linode, deleted after the restore'
			: saved
				? 'Activation record in this n8n process / workflow static data only (the copy at ' +
					'Linode is gone)'
				: null,
		warnings,
	};
}

/** Puts rules in place and reads them back: the saved copy may be deleted only after this. */
async function restoreRules(
	api: ProviderClient,
	target: FirewallTarget,
	firewall: Firewall,
	restore: RuleSet,
	stateIfFailed: string,
): Promise<RuleSet> {
	await step(
		'withdraw',
		`restoring the rules of '${firewall.label}'`,
		stateIfFailed,
		async () =>
			await linodeRequest<RuleSet>(
				api,
				'PUT',
				`/networking/firewalls/${target.firewallId}/rules`,
				ruleSetOf(restore) as unknown as IDataObject,
			),
	);
	const after = await readRules(api, target.firewallId);
	if (!sameRules(after, restore)) {
		throw new ProviderError(`Linode did not keep the restored rules of '${firewall.label}'`, {
			provider: 'Linode',
			hint:
				`${stateIfFailed}. Run Withdraw again; the saved copy is kept until the rules read ` +
				'back equal to it.',
		});
	}
	return after;
}

async function deleteCopy(api: ProviderClient, copy: Firewall): Promise<void> {
	await step(
		'withdraw',
		`deleting the saved copy '${copy.label}'`,
		`the original rules are restored; the copy '${copy.label}' still exists`,
		async () => await linodeRequest(api, 'DELETE', `/networking/firewalls/${copy.id}`),
	);
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
						'Firewall ID must be the number in the dashboard URL (Network > Firewalls > ' +
							'your firewall)',
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
			const state = await readState(api, target);
			return { ...describeState(state, phaseOf(state, record), record?.original), changed: false };
		},

		async activate(target, { api, records, ctx, itemIndex }): Promise<MitigationResult> {
			const requested = readLockdownOptions(ctx, itemIndex);
			const state = await readState(api, target);
			const key = recordKey(target);
			const record = records.get<RulesRecord>(key);
			const phase = phaseOf(state, record);
			// Rules changed after an activate that stopped before the lockdown are not a lockdown: put it
			// in place.
			const stillOpen =
				phase === 'edited' &&
				!(
					state.rules.inbound_policy === 'DROP' &&
					(state.rules.inbound ?? []).some((r) => r.label === MANAGEMENT_LABEL)
				);
			if (ACTIVE[phase] && !stillOpen) {
				return {
					...describeState(state, phase, record?.original),
					changed: false,
					note: 'Already locked down; the saved original was kept.',
				};
			}
			// Once a copy exists it is the original: it is never overwritten.
			const original = state.snapshot?.rules ?? state.rules;
			const { options, managementAccess } = withManagementAccess(
				requested,
				original.inbound_policy === 'ACCEPT'
					? ['0.0.0.0/0', '::/0']
					: (original.inbound ?? [])
							.filter(
								(r) =>
									r.action === 'ACCEPT' &&
									(r.protocol === 'TCP' || r.protocol === 'ALL') &&
									requested.ports.some((p) => portsCover(r.ports, p)),
							)
							.flatMap((r) => [...(r.addresses.ipv4 ?? []), ...(r.addresses.ipv6 ?? [])]),
			);
			const lockdown = lockdownRules(state.rules, options);
			if ((lockdown.inbound?.length ?? 0) + (lockdown.outbound?.length ?? 0) > MAX_RULES) {
				throw new InputError(
					`The lockdown needs ${lockdown.inbound?.length} inbound rules plus the ` +
						`${lockdown.outbound?.length ?? 0} outbound rules kept; ` +
						`Linode allows ${MAX_RULES} in total`,
					'Use fewer management ports. Nothing was changed.',
				);
			}
			const tag = lockdownTag(lockdown);
			records.set(key, { original: original as RuleSet & IDataObject, lockdown: tag });
			const label = snapshotLabel(state.firewall.id);
			const unchanged = `firewall '${state.firewall.label}' is unchanged; not locked down`;
			let snapshot = state.snapshot;
			if (!snapshot) {
				const created = await step(
					'activate',
					`saving a copy of the rules as firewall '${label}'`,
					unchanged,
					async () =>
						(
							await api.request<Firewall>({
								method: 'POST',
								path: '/networking/firewalls',
								body: {
									label,
									tags: [COPY_TAG, tag],
									rules: normalized(original) as unknown as IDataObject,
								},
								// Labels are unique at Linode: a copy that was created finds itself by its label.
								findEffect: async () => await findCopy(api, state.firewall.id),
							})
						).body,
				);
				snapshot = { firewall: created, rules: original };
			} else if (!snapshot.firewall.tags.includes(tag)) {
				// The lockdown to be put in place is recorded first, so that it is recognised later.
				const copy = snapshot.firewall;
				const updated = await step(
					'activate',
					`recording the lockdown on the saved copy '${label}'`,
					unchanged,
					async () =>
						await linodeRequest<Firewall>(api, 'PUT', `/networking/firewalls/${copy.id}`, {
							tags: [...copy.tags.filter((t) => !t.startsWith(LOCKDOWN_TAG)), tag],
						}),
				);
				snapshot = { ...snapshot, firewall: { ...copy, tags: updated.tags ?? [tag] } };
			}
			const after = await step(
				'activate',
				`replacing the rules of '${state.firewall.label}' with the lockdown`,
				`the original rules are saved in firewall '${label}'; '${state.firewall.label}' ` +
					'still has its own rules, not locked down',
				async () =>
					await linodeRequest<RuleSet>(
						api,
						'PUT',
						`/networking/firewalls/${target.firewallId}/rules`,
						lockdown as unknown as IDataObject,
					),
			);
			const done = { ...state, rules: ruleSetOf(after), snapshot };
			return { ...describeState(done, phaseOf(done)), changed: true, managementAccess };
		},

		async withdraw(target, { api, records, ctx, itemIndex }): Promise<MitigationResult> {
			const override = readRestoreOverride(ctx, itemIndex, ruleSetSchema, OVERRIDE_SHAPE) as
				RuleSet | undefined;
			const whenNothingSaved = readNothingSavedChoice(ctx, itemIndex);
			const state = await readState(api, target);
			const { firewall, snapshot } = state;
			const key = recordKey(target);
			const record = records.get<RulesRecord>(key);
			const phase = phaseOf(state, record);
			const finish = async (rules: RuleSet, restoredFrom: string): Promise<MitigationResult> => {
				if (snapshot) await deleteCopy(api, snapshot.firewall);
				records.delete(key);
				const done = { ...state, rules, snapshot: undefined };
				return { ...describeState(done, 'normal'), changed: true, restoredFrom };
			};

			if (override) {
				const after = await restoreRules(api, target, firewall, override, 'not restored');
				return await finish(after, 'Configuration to Restore');
			}
			if (phase === 'normal') {
				records.delete(key);
				return {
					...describeState(state, phase),
					changed: false,
					note: 'Not locked down. Nothing to restore.',
				};
			}
			if (phase === 'saved') {
				// A withdraw stopped after restoring: the rules read back equal to the copy.
				const result = await finish(state.rules, `saved copy '${snapshot!.firewall.label}'`);
				return {
					...result,
					note: 'The original rules were already in place; removed the saved copy.',
				};
			}
			if (snapshot) {
				const after = await restoreRules(
					api,
					target,
					firewall,
					snapshot.rules,
					`still locked down; the original rules are safe in firewall '${snapshot.firewall.label}'`,
				);
				return await finish(after, `saved copy '${snapshot.firewall.label}'`);
			}
			if (record) {
				const after = await restoreRules(
					api,
					target,
					firewall,
					record.original,
					'still locked down',
				);
				return await finish(after, 'activation record (the copy at Linode was deleted)');
			}
			if (whenNothingSaved === 'allowAll') {
				const after = await restoreRules(
					api,
					target,
					firewall,
					{
						inbound: [],
						inbound_policy: 'ACCEPT',
						outbound: state.rules.outbound,
						outbound_policy: state.rules.outbound_policy,
					},
					'still locked down',
				);
				return await finish(after, 'fallback: allow all inbound');
			}
			throw nothingSavedError(
				'Linode',
				`no firewall labelled '${snapshotLabel(firewall.id)}' and no activation record`,
			);
		},
	},
};
