import type { IDataObject, IExecuteFunctions } from 'n8n-workflow';
import { z } from 'zod';

import type { ActivationRecord } from '../shared/activationRecords';
import { InputError, ProviderError } from '../shared/errors';
import type { ProviderClient } from '../shared/http';
import { canonical, readRestoreOverride, step } from '../shared/lockdown';
import type { MitigationProvider, MitigationResult, OperationContext } from '../shared/provider';
import { readLocator } from '../shared/provider';
import { waitUntilSettled } from '../shared/settle';
import { sideBySide } from '../shared/sideBySide';
import { parseCidr, splitList } from '../shared/validation';
import { ovhApi, ovhRequest } from './transport';

/**
 * OVH ended permanent mitigation on 2025-09-08 (ovh/infrastructure-roadmap#282): POST
 * /ip/{block}/mitigation still answers but forces no scrubbing. What this node switches on instead
 * is the Edge Network Firewall of the IP (stateless filtering at OVH's edge, before traffic reaches
 * the server), with the user's own rules or with a lockdown rule set; withdraw puts the firewall
 * back exactly as it was. OVH keeps the firewall's existence and enabled flag; "activation created
 * it" and the original rules of a lockdown have no home at OVH, so they go to the activation
 * records (and can be given back through Configuration to Restore).
 */

export interface OvhTarget {
	/** Block as OVH lists it, e.g. 203.0.113.0/24; empty for List IP Blocks. */
	ipBlock: string;
	/** The IPv4 address whose firewall the node manages; empty for the list operations. */
	ip: string;
}

export type Mode = 'enableFirewall' | 'lockdown';

const PROTOCOLS = ['ah', 'esp', 'gre', 'icmp', 'ipv4', 'tcp', 'udp'] as const;
type Protocol = (typeof PROTOCOLS)[number];

/** `GET /ip/{ip}/firewall/{ipOnFirewall}/rule/{sequence}` */
interface ApiRule {
	sequence: number;
	action: 'permit' | 'deny';
	protocol: Protocol;
	source: string | null;
	destinationPort: string | null;
	sourcePort: string | null;
	tcpOption: string | null;
	fragments: boolean | null;
	rule?: string;
	state: 'creationPending' | 'ok' | 'removalPending';
}

/** `GET /ip/{ip}/firewall/{ipOnFirewall}` */
interface ApiFirewall {
	ipOnFirewall: string;
	enabled: boolean;
	state: 'ok' | 'enableFirewallPending' | 'disableFirewallPending';
}

/** `GET /ip/{ip}/mitigation/{ipOnMitigation}` */
interface MitigationIp {
	ipOnMitigation: string;
	auto: boolean;
	permanent: boolean;
	state: 'creationPending' | 'ok' | 'removalPending';
}

/** Everything a rule is created with: what a restore must give back. `null` source = any. */
export interface RuleSpec {
	sequence: number;
	action: 'permit' | 'deny';
	protocol: Protocol;
	source: string | null;
	destinationPort: number | null;
	sourcePort: number | null;
	tcpOption: 'established' | 'syn' | null;
	fragments: boolean;
}

interface FirewallState {
	exists: boolean;
	enabled: boolean;
	state: ApiFirewall['state'] | null;
	rules: ApiRule[];
}

/** What the firewall looked like before activation: the target of withdraw. */
export interface OriginalFirewall extends IDataObject {
	firewall: 'none' | 'disabled' | 'enabled';
	/** Saved by lockdown mode only: enable mode never touches the rules. */
	rules?: RuleSpec[];
	/**
	 * The auto-mitigation timeout (minutes), 'none' without a mitigation profile; saved when raised.
	 */
	profile?: Timeout | 'none';
}

const TIMEOUTS = [0, 15, 60, 360, 1560] as const;
type Timeout = (typeof TIMEOUTS)[number];

/** `GET /ip/{ip}/mitigationProfiles/{ipMitigationProfile}` */
interface ApiMitigationProfile {
	ipMitigationProfile: string;
	autoMitigationTimeOut: Timeout;
	state: 'ok' | 'tasksPending';
}

interface FirewallRecord extends ActivationRecord {
	original: OriginalFirewall;
	/** Set once a withdraw has restored an enabled firewall: a repeat withdraw leaves it alone. */
	withdrawn?: boolean;
}

const BLOCK_HINT =
	'Enter the block exactly as OVH lists it (e.g. 203.0.113.0/24, or 198.51.100.7/32 for a ' +
	'single IP), or pick it from the list.';
const MAX_RULES = 20;
const FINAL_DENY_SEQUENCE = MAX_RULES - 1;

const ipv4ToInt = (ip: string) => ip.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);
const intToIpv4 = (n: number) =>
	[24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join('.');

/**
 * Validates the block (IPv4, starting on its boundary) and returns it in OVH's "address/length"
 * form.
 */
export function normalizeBlock(value: string): string {
	const parsed = parseCidr(value);
	if (!parsed)
		throw new InputError(
			`Invalid IP block: '${value}' is not an IPv4 address or block`,
			BLOCK_HINT,
		);
	if (parsed.version !== 4) {
		throw new InputError(
			`Invalid IP block: OVH's Edge Network Firewall filters IPv4 addresses only, not '${value}'`,
			BLOCK_HINT,
		);
	}
	const size = 2 ** (32 - parsed.prefixLength);
	const start = ipv4ToInt(parsed.address);
	if (start % size !== 0) {
		const aligned = `${intToIpv4(start - (start % size))}/${parsed.prefixLength}`;
		throw new InputError(
			`Invalid IP block: '${value}' does not start on its /${parsed.prefixLength} boundary`,
			`Did you mean ${aligned}? ${BLOCK_HINT}`,
		);
	}
	return `${parsed.address}/${parsed.prefixLength}`;
}

/**
 * Validates the IP: an IPv4 address inside the block; empty means the block's own address for a
 * /32.
 */
export function resolveIp(block: string, value: string): string {
	const [address, length] = block.split('/');
	const ip = value.trim();
	if (ip === '') {
		if (length === '32') return address;
		throw new InputError(
			`Enter the IP to protect: the block ${block} holds ${2 ** (32 - Number(length))} addresses`,
			'Set "IP" to the address under attack, inside the block (for a single IP, enter it as ' +
				'its /32 block and leave "IP" empty).',
		);
	}
	const parsed = parseCidr(ip);
	if (!parsed || parsed.version !== 4 || parsed.prefixLength !== 32 || ip.includes('/')) {
		throw new InputError(
			`Invalid IP: '${ip}' is not an IPv4 address`,
			"OVH's Edge Network Firewall protects one IPv4 address, e.g. 203.0.113.10.",
		);
	}
	const size = 2 ** (32 - Number(length));
	const offset = ipv4ToInt(ip) - ipv4ToInt(address);
	if (offset < 0 || offset >= size)
		throw new InputError(`Invalid IP: ${ip} is not inside the block ${block}`, BLOCK_HINT);
	return ip;
}

const blockPath = (t: OvhTarget) => `/ip/${encodeURIComponent(t.ipBlock)}`;
const firewallPath = (t: OvhTarget) => `${blockPath(t)}/firewall/${encodeURIComponent(t.ip)}`;
const rulePath = (t: OvhTarget, sequence: number) => `${firewallPath(t)}/rule/${sequence}`;
const profilePath = (t: OvhTarget) =>
	`${blockPath(t)}/mitigationProfiles/${encodeURIComponent(t.ip)}`;
const recordKey = (t: OvhTarget) => `ovhDdosProtection:firewall:${t.ipBlock}:${t.ip}`;

// ----------------------------------------------------------------------------------------------
// Rules: OVH's read form ("eq 22", source "any", tcpOption a string) and its create form (numbers,
// tcpOption object)

/**
 * A port as OVH shows it ("eq 22") as a number; undefined when it cannot be re-created with one
 * port.
 */
function parsePort(value: string | null): number | null | undefined {
	if (value === null || value === undefined || value === '') return null;
	const match = /^eq (\d{1,5})$/.exec(String(value).trim());
	return match ? Number(match[1]) : undefined;
}

const normalizeSource = (source: string | null | undefined): string | null => {
	if (source === null || source === undefined || source === '' || source === 'any') return null;
	const parsed = parseCidr(source);
	if (!parsed) return source;
	const cidr = `${parsed.address}/${parsed.prefixLength}`;
	return cidr === '0.0.0.0/0' ? null : cidr;
};

/** The rule's create form, or a reason why it cannot be re-created exactly through the API. */
function specOf(rule: ApiRule): RuleSpec | string {
	const destinationPort = parsePort(rule.destinationPort);
	const sourcePort = parsePort(rule.sourcePort);
	if (destinationPort === undefined || sourcePort === undefined)
		return `rule ${rule.sequence} (${rule.rule ?? rule.protocol}) has a port range`;
	const tcpOption =
		rule.tcpOption === 'established' || rule.tcpOption === 'syn' ? rule.tcpOption : null;
	if (rule.tcpOption && !tcpOption)
		return `rule ${rule.sequence} has the TCP option '${rule.tcpOption}'`;
	return {
		sequence: rule.sequence,
		action: rule.action,
		protocol: rule.protocol,
		source: normalizeSource(rule.source),
		destinationPort,
		sourcePort,
		tcpOption,
		fragments: rule.fragments === true,
	};
}

const sameRule = (rule: ApiRule, wanted: RuleSpec) => {
	const spec = specOf(rule);
	return typeof spec !== 'string' && canonical(spec) === canonical(wanted);
};

/**
 * `POST .../rule` body: ports as numbers, TCP option and fragments in `tcpOption`, unset fields
 * left out.
 */
function createBody(rule: RuleSpec): IDataObject {
	const body: IDataObject = {
		sequence: rule.sequence,
		action: rule.action,
		protocol: rule.protocol,
	};
	if (rule.source !== null) body.source = rule.source;
	if (rule.destinationPort !== null) body.destinationPort = rule.destinationPort;
	if (rule.sourcePort !== null) body.sourcePort = rule.sourcePort;
	if (rule.tcpOption !== null || rule.fragments) {
		body.tcpOption = {
			...(rule.tcpOption !== null ? { option: rule.tcpOption } : {}),
			...(rule.fragments ? { fragments: true } : {}),
		};
	}
	return body;
}

const describeRule = (rule: RuleSpec) =>
	[
		rule.action,
		rule.protocol,
		rule.source ?? 'any',
		rule.destinationPort === null ? '' : `port ${rule.destinationPort}`,
		rule.tcpOption ?? '',
	]
		.filter(Boolean)
		.join(' ');

// ----------------------------------------------------------------------------------------------
// Lockdown options

export interface LockdownPlan {
	rules: RuleSpec[];
}

const LOCKDOWN_HINT =
	"Management sources are IPv4 addresses or blocks (OVH's edge firewall is IPv4 only); " +
	'management ports are single TCP ports (OVH rules take one port each); service ports are ' +
	'written "443/tcp" or "27015/udp". Nothing was changed.';

/** Reads and checks the lockdown options and builds the rule set, before any request. */
export function readLockdownPlan(ctx: IExecuteFunctions, itemIndex: number): LockdownPlan {
	const sources = splitList(ctx.getNodeParameter('managementSources', itemIndex, '0.0.0.0/0'));
	const managementPorts = splitList(ctx.getNodeParameter('managementPorts', itemIndex, '22'));
	const servicePorts = splitList(ctx.getNodeParameter('servicePorts', itemIndex, ''));
	const fail = (message: string) => new InputError(`Invalid lockdown: ${message}`, LOCKDOWN_HINT);

	if (sources.length === 0 || managementPorts.length === 0)
		throw fail(
			'at least one management source and one management port are needed, or the lockdown ' +
				'locks you out',
		);
	const sourceBlocks = sources.map((value) => {
		const parsed = parseCidr(value);
		if (!parsed) throw fail(`management source '${value}' is not an IPv4 address or block`);
		if (parsed.version !== 4)
			throw fail(
				`management source '${value}' is IPv6; OVH's Edge Network Firewall filters IPv4 only`,
			);
		return normalizeSource(`${parsed.address}/${parsed.prefixLength}`);
	});
	const portOf = (value: string, what: string) => {
		const port = /^\d{1,5}$/.test(value) ? Number(value) : 0;
		if (port < 1 || port > 65535) throw fail(`${what} '${value}' is not a single port 1-65535`);
		return port;
	};
	const mgmtPorts = [...new Set(managementPorts.map((p) => portOf(p, 'management port')))];
	const services = [
		...new Map(
			servicePorts.map((entry) => {
				const match = /^(\d+)(?:\/(tcp|udp))?$/i.exec(entry);
				if (!match) throw fail(`service port '${entry}' is not written like 443/tcp or 27015/udp`);
				const protocol = (match[2] ?? 'tcp').toLowerCase() as 'tcp' | 'udp';
				const number = portOf(match[1], 'service port');
				return [`${number}/${protocol}`, { number, protocol }] as const;
			}),
		).values(),
	];

	const permits: Array<Omit<RuleSpec, 'sequence'>> = [
		// OVH's guide: without it, the final deny drops the replies to the server's own TCP
		// connections.
		{ ...ANY_RULE, action: 'permit', protocol: 'tcp', tcpOption: 'established' },
		...[...new Set(sourceBlocks)].flatMap((source) =>
			mgmtPorts.map((number) => ({
				...ANY_RULE,
				action: 'permit' as const,
				protocol: 'tcp' as const,
				source,
				destinationPort: number,
			})),
		),
		...services.map(({ number, protocol }) => ({
			...ANY_RULE,
			action: 'permit' as const,
			protocol,
			destinationPort: number,
		})),
	];
	if (permits.length + 1 > MAX_RULES) {
		throw fail(
			`it needs ${permits.length + 1} rules (1 for established TCP, ` +
				`${permits.length - 1 - services.length} for management sources x ports, ` +
				`${services.length} for service ports, 1 final deny); OVH allows ${MAX_RULES} per IP`,
		);
	}
	return {
		rules: [
			...permits.map((rule, sequence) => ({ ...rule, sequence })),
			{ ...ANY_RULE, action: 'deny', protocol: 'ipv4', sequence: FINAL_DENY_SEQUENCE },
		],
	};
}

const ANY_RULE = {
	source: null,
	destinationPort: null,
	sourcePort: null,
	tcpOption: null,
	fragments: false,
} as const;

const portSchema = z
	.number()
	.int()
	.min(0)
	.max(65535)
	.nullish()
	.transform((v) => v ?? null);

const ruleSchema = z
	.object({
		sequence: z.number().int().min(0).max(FINAL_DENY_SEQUENCE),
		action: z.enum(['permit', 'deny']),
		protocol: z.enum(PROTOCOLS),
		source: z
			.string()
			.nullish()
			.transform((v) => normalizeSource(v))
			.refine((v) => v === null || parseCidr(v)?.version === 4, 'must be an IPv4 block or "any"'),
		destinationPort: portSchema,
		sourcePort: portSchema,
		tcpOption: z
			.enum(['established', 'syn'])
			.nullish()
			.transform((v) => v ?? null),
		fragments: z
			.boolean()
			.nullish()
			.transform((v) => v === true),
	})
	.strict();

const timeoutSchema = z.union([z.literal('none'), ...TIMEOUTS.map((t) => z.literal(t))] as [
	z.ZodLiteral<'none'>,
	z.ZodLiteral<Timeout>,
	...Array<z.ZodLiteral<Timeout>>,
]);

const overrideSchema = z.union([
	z
		.object({
			firewall: z.enum(['none', 'disabled', 'enabled']),
			rules: z.array(ruleSchema).max(MAX_RULES).optional(),
			profile: timeoutSchema.optional(),
		})
		.strict(),
	z.array(ruleSchema).max(MAX_RULES),
]);
const OVERRIDE_SHAPE =
	'{"firewall": "none" | "disabled" | "enabled", "rules": [{"sequence": 0, "action": "permit", ' +
	'"protocol": "tcp", "source": null, "destinationPort": 22, ...}]} (the "original" field of ' +
	'an Activate or Get Status output), or just the array of rules';

// ----------------------------------------------------------------------------------------------
// Reading and waiting

async function readFirewall(api: ProviderClient, target: OvhTarget): Promise<FirewallState> {
	// The list answers 404 only for a block that is not in the account; an IP without a firewall is
	// absent from it. It goes alone, as the first signed request: a refused key or signature, or a
	// clock to re-read, is then one request, not several.
	const listed = await ovhRequest<string[]>(api, {
		method: 'GET',
		path: `${blockPath(target)}/firewall`,
	});
	const none: FirewallState = { exists: false, enabled: false, state: null, rules: [] };
	if (!(listed.body ?? []).includes(target.ip)) return none;
	// Then the firewall and its rule list side by side, then every rule at once: each sequential read
	// before the first write adds a round trip to the time to mitigate.
	const [firewall, sequences] = await sideBySide([
		readFirewallObject(api, target),
		readIfExists<number[]>(api, `${firewallPath(target)}/rule`),
	]);
	if (!firewall) return none;
	const rules = await sideBySide(
		(sequences ?? []).map(async (sequence) => await readRule(api, target, sequence)),
	);
	return {
		exists: true,
		enabled: firewall.enabled,
		state: firewall.state,
		rules: rules
			.filter((rule): rule is ApiRule => rule !== undefined)
			.sort((a, b) => a.sequence - b.sequence),
	};
}

/** What OVH has at `path`, or undefined where it answers 404 (the thing is not there). */
async function readIfExists<T>(api: ProviderClient, path: string): Promise<T | undefined> {
	const response = await ovhRequest<T>(api, { method: 'GET', path, acceptStatus: [404] });
	return response.status === 404 ? undefined : response.body;
}

/** The firewall object of the IP, or undefined when it has none (the block is known to exist). */
const readFirewallObject = async (api: ProviderClient, target: OvhTarget) =>
	await readIfExists<ApiFirewall>(api, firewallPath(target));

const readRule = async (api: ProviderClient, target: OvhTarget, sequence: number) =>
	await readIfExists<ApiRule>(api, rulePath(target, sequence));

const pendingTasks = (state: FirewallState): string[] => [
	...(state.state && state.state !== 'ok' ? [`firewall ${state.state}`] : []),
	...state.rules.filter((r) => r.state !== 'ok').map((r) => `rule ${r.sequence} ${r.state}`),
];

/** The IP's auto-mitigation timeout, 'none' when it has no mitigation profile. */
async function readProfile(
	api: ProviderClient,
	target: OvhTarget,
): Promise<ApiMitigationProfile | undefined> {
	const [listed, profile] = await sideBySide([
		ovhRequest<string[]>(api, { method: 'GET', path: `${blockPath(target)}/mitigationProfiles` }),
		readIfExists<ApiMitigationProfile>(api, profilePath(target)),
	]);
	return (listed.body ?? []).includes(target.ip) ? profile : undefined;
}

const timeoutOf = (profile: ApiMitigationProfile | undefined): Timeout | 'none' =>
	profile?.autoMitigationTimeOut ?? 'none';

/** Reads a mitigation entry; OVH answers 404 when it is not mitigating the IP (not an error). */
const readMitigation = async (api: ProviderClient, target: OvhTarget) =>
	await readIfExists<MitigationIp>(
		api,
		`${blockPath(target)}/mitigation/${encodeURIComponent(target.ip)}`,
	);

/**
 * Defaults of Wait Until Applied / Max Wait: OVH applies every change as a task that takes seconds
 * to minutes.
 */
export const OVH_SETTLE = { on: true, maxWait: 120 };

/**
 * OVH keys what these POSTs create (the firewall by its IP, a rule by its sequence, a mitigation
 * profile by its IP): sent again after a lost reply, the create answers 409 instead of making a
 * second object, and the write then checks that the first one is what we asked for.
 */
const OVH_CREATE_IS_KEYED = true;

class StillPending extends ProviderError {}

/**
 * One activate or withdraw: its writes run one after the other, each waiting (within one Max Wait
 * for the whole operation) until OVH has applied the previous one, since OVH refuses a change while
 * another is pending.
 */
class Changes {
	changed = false;
	rulesChanged = false;
	private readonly deadline: number;
	private pending?: { what: string; settled: () => Promise<boolean> };

	constructor(
		private readonly op: OperationContext,
		private readonly target: OvhTarget,
		private readonly operation: 'activate' | 'withdraw',
	) {
		const maxWait = op.ctx.getNodeParameter('maxWait', op.itemIndex, OVH_SETTLE.maxWait) as number;
		this.deadline = Date.now() + maxWait * 1000;
	}

	get api() {
		return this.op.api;
	}

	/**
	 * The firewall after the changes: the state read before when nothing was written, and only the
	 * firewall object re-read when no rule changed (the rules are then those read before).
	 */
	async after(before: FirewallState): Promise<FirewallState> {
		if (!this.changed) return before;
		if (this.rulesChanged) return await readFirewall(this.api, this.target);
		const firewall = await readFirewallObject(this.api, this.target);
		if (!firewall) return { exists: false, enabled: false, state: null, rules: [] };
		return { ...before, exists: true, enabled: firewall.enabled, state: firewall.state };
	}

	/** Polls until `done` holds, at most until the deadline. */
	async waitFor<T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T | undefined> {
		const result = await waitUntilSettled(read, done, {
			maxWaitMs: Math.max(0, this.deadline - Date.now()),
		});
		return result.settled ? result.value : undefined;
	}

	/** Waits until the firewall has no pending task (an earlier run's), before the first write. */
	async idle(): Promise<FirewallState> {
		let last!: FirewallState;
		const state = await this.waitFor(
			async () => (last = await readFirewall(this.api, this.target)),
			(s) => pendingTasks(s).length === 0,
		);
		if (state) return state;
		throw new StillPending(
			`OVH is still applying an earlier change to the firewall of ${this.target.ip} ` +
				`(${pendingTasks(last).join(', ')}); nothing was changed`,
			{
				provider: 'OVH',
				hint:
					'Run the node again in a minute, or raise Max Wait: OVH refuses a change while ' +
					'another is pending.',
			},
		);
	}

	/**
	 * Runs one write after the previous one has been applied. When OVH answers 409 (typically a
	 * retry of a write whose reply was lost), `applied` tells whether the change is in fact there,
	 * and then it carries on; `settled` tells when OVH has applied it.
	 */
	async write(
		what: string,
		stateIfFailed: string,
		change: {
			send: () => Promise<unknown>;
			applied: () => Promise<boolean>;
			settled: () => Promise<boolean>;
		},
	): Promise<void> {
		await this.settle(true);
		await step(this.operation, what, stateIfFailed, async () => {
			try {
				await change.send();
			} catch (error) {
				const conflict = error instanceof ProviderError && error.details.httpCode === 409;
				if (!conflict || !(await change.applied())) throw error;
			}
		});
		this.changed = true;
		this.pending = { what, settled: change.settled };
	}

	/**
	 * Waits for the last write. Before another write, a change still pending is an error (the rest
	 * cannot be sent); at the end it is reported, since OVH finishes it by itself.
	 */
	async settle(beforeAnotherWrite: boolean): Promise<string | undefined> {
		const pending = this.pending;
		if (!pending) return undefined;
		this.pending = undefined;
		if (await this.waitFor(pending.settled, (done) => done)) return undefined;
		if (!beforeAnotherWrite)
			return `OVH is still applying the last change (${pending.what}); it finishes by itself.`;
		const verb = this.operation === 'activate' ? 'Activate' : 'Withdraw';
		throw new StillPending(
			`${this.operation} stopped: OVH had not applied "${pending.what}" within Max Wait, ` +
				'and the next change depends on it',
			{
				provider: 'OVH',
				hint:
					`Run ${verb} again: it resumes from the state OVH shows and nothing of the original ` +
					'configuration is lost. Raise Max Wait if OVH is often this slow.',
			},
		);
	}

	async createFirewall() {
		await this.write(
			`creating the firewall of ${this.target.ip}`,
			'no firewall yet; nothing else changed',
			{
				send: async () =>
					await ovhRequest(this.api, {
						method: 'POST',
						idempotent: OVH_CREATE_IS_KEYED,
						path: `${blockPath(this.target)}/firewall`,
						body: { ipOnFirewall: this.target.ip },
					}),
				applied: async () => (await readFirewall(this.api, this.target)).exists,
				settled: async () => (await readFirewallObject(this.api, this.target))?.state === 'ok',
			},
		);
	}

	async setEnabled(enabled: boolean, stateIfFailed: string) {
		const read = async () =>
			(await ovhRequest<ApiFirewall>(this.api, { method: 'GET', path: firewallPath(this.target) }))
				.body;
		await this.write(
			`${enabled ? 'enabling' : 'disabling'} the firewall of ${this.target.ip}`,
			stateIfFailed,
			{
				send: async () =>
					await ovhRequest(this.api, {
						method: 'PUT',
						path: firewallPath(this.target),
						body: { enabled },
					}),
				applied: async () => (await read()).enabled === enabled,
				settled: async () => {
					const firewall = await read();
					return firewall.enabled === enabled && firewall.state === 'ok';
				},
			},
		);
	}

	async deleteFirewall(stateIfFailed: string) {
		const gone = async () => (await readFirewallObject(this.api, this.target)) === undefined;
		await this.write(`deleting the firewall of ${this.target.ip}`, stateIfFailed, {
			send: async () =>
				await ovhRequest(this.api, {
					method: 'DELETE',
					path: firewallPath(this.target),
					acceptStatus: [404],
				}),
			applied: gone,
			settled: gone,
		});
	}

	async createRule(rule: RuleSpec, stateIfFailed: string) {
		this.rulesChanged = true;
		const read = async () => await readRule(this.api, this.target, rule.sequence);
		await this.write(`creating rule ${rule.sequence} (${describeRule(rule)})`, stateIfFailed, {
			send: async () =>
				await ovhRequest(this.api, {
					method: 'POST',
					idempotent: OVH_CREATE_IS_KEYED,
					path: `${firewallPath(this.target)}/rule`,
					body: createBody(rule),
				}),
			applied: async () => {
				const now = await read();
				return now !== undefined && now.state !== 'removalPending' && sameRule(now, rule);
			},
			settled: async () => (await read())?.state === 'ok',
		});
	}

	async deleteRule(rule: ApiRule, stateIfFailed: string) {
		this.rulesChanged = true;
		const read = async () => await readRule(this.api, this.target, rule.sequence);
		await this.write(
			`deleting rule ${rule.sequence} (${rule.rule ?? `${rule.action} ${rule.protocol}`})`,
			stateIfFailed,
			{
				send: async () =>
					await ovhRequest(this.api, {
						method: 'DELETE',
						path: rulePath(this.target, rule.sequence),
						acceptStatus: [404],
					}),
				applied: async () => {
					const now = await read();
					return now === undefined || now.state === 'removalPending';
				},
				settled: async () => (await read()) === undefined,
			},
		);
	}

	/** Sets the auto-mitigation timeout: creates the profile, changes it, or deletes it ('none'). */
	async setProfile(from: Timeout | 'none', to: Timeout | 'none', stateIfFailed: string) {
		const read = async () => await readProfile(this.api, this.target);
		const path = profilePath(this.target);
		const send =
			to === 'none'
				? async () => await ovhRequest(this.api, { method: 'DELETE', path, acceptStatus: [404] })
				: from === 'none'
					? async () =>
							await ovhRequest(this.api, {
								method: 'POST',
								idempotent: OVH_CREATE_IS_KEYED,
								path: `${blockPath(this.target)}/mitigationProfiles`,
								body: { ipMitigationProfile: this.target.ip, autoMitigationTimeOut: to },
							})
					: async () =>
							await ovhRequest(this.api, {
								method: 'PUT',
								path,
								body: { autoMitigationTimeOut: to },
							});
		await this.write(
			to === 'none'
				? `deleting the mitigation profile of ${this.target.ip}`
				: `setting the auto-mitigation timeout of ${this.target.ip} to ${to} minutes`,
			stateIfFailed,
			{
				send,
				applied: async () => timeoutOf(await read()) === to,
				settled: async () => {
					const profile = await read();
					return timeoutOf(profile) === to && (profile === undefined || profile.state === 'ok');
				},
			},
		);
	}
}

/**
 * Replaces the rules by `wanted`, keeping those already equal. Deny rules go first and come back
 * last, so that the rules in force on the way are more open, never a lockout.
 */
async function replaceRules(
	changes: Changes,
	current: ApiRule[],
	wanted: RuleSpec[],
	describeState: string,
) {
	const wantedAt = new Map(wanted.map((rule) => [rule.sequence, rule]));
	const stale = current
		.filter((rule) => !wantedAt.has(rule.sequence) || !sameRule(rule, wantedAt.get(rule.sequence)!))
		.sort((a, b) => Number(a.action === 'permit') - Number(b.action === 'permit'));
	const kept = new Set(
		current.filter((rule) => !stale.includes(rule)).map((rule) => rule.sequence),
	);
	for (const rule of stale) await changes.deleteRule(rule, describeState);
	const missing = wanted
		.filter((rule) => !kept.has(rule.sequence))
		.sort(
			(a, b) =>
				Number(a.action === 'deny') - Number(b.action === 'deny') || a.sequence - b.sequence,
		);
	for (const rule of missing) await changes.createRule(rule, describeState);
}

const sameRules = (current: ApiRule[], wanted: RuleSpec[]) =>
	current.length === wanted.length &&
	wanted.every((w) => current.some((c) => c.sequence === w.sequence && sameRule(c, w)));

// ----------------------------------------------------------------------------------------------
// Output

const firewallWord = (state: FirewallState): OriginalFirewall['firewall'] =>
	!state.exists ? 'none' : state.enabled ? 'enabled' : 'disabled';

/** "Enabling filters nothing" and the other rule-set mistakes OVH's guide warns about. */
function ruleWarnings(state: FirewallState): string[] {
	if (!state.exists || !state.enabled) return [];
	const rules = state.rules.filter((r) => r.state !== 'removalPending');
	if (rules.length === 0)
		return [
			'The Edge Network Firewall of this IP is enabled with no rules: it filters nothing. Add ' +
				'rules (ending with a deny ipv4) in the OVHcloud Control Panel, or activate in ' +
				'Lockdown mode.',
		];
	const last = rules[rules.length - 1];
	const warnings: string[] = [];
	if (!(
		last.action === 'deny' &&
		last.protocol === 'ipv4' &&
		normalizeSource(last.source) === null
	))
		warnings.push(
			'The Edge Network Firewall of this IP has no final "deny ipv4" rule: it drops only what ' +
				'your rules deny and lets everything else through.',
		);
	else if (
		!rules.some(
			(r) => r.action === 'permit' && r.protocol === 'tcp' && r.tcpOption === 'established',
		)
	)
		warnings.push(
			'The rules end with "deny ipv4" but have no "permit tcp established" rule before it: ' +
				"replies to the server's own outgoing TCP connections are dropped.",
		);
	return warnings;
}

function describe(target: OvhTarget, state: FirewallState): IDataObject {
	const pending = pendingTasks(state);
	return {
		ipBlock: target.ipBlock,
		ip: target.ip,
		firewall: firewallWord(state),
		firewallState: state.state,
		rules: state.rules.map((rule) => ({
			sequence: rule.sequence,
			action: rule.action,
			protocol: rule.protocol,
			source: rule.source,
			destinationPort: rule.destinationPort,
			sourcePort: rule.sourcePort,
			tcpOption: rule.tcpOption,
			fragments: rule.fragments,
			rule: rule.rule ?? null,
			state: rule.state,
		})),
		pending: pending.length > 0,
		...(pending.length > 0 ? { pendingTasks: pending } : {}),
	};
}

function result(
	target: OvhTarget,
	state: FirewallState,
	changed: boolean,
	extra: { note?: string; warnings?: string[]; original?: OriginalFirewall | null; mode?: Mode },
): MitigationResult {
	return {
		active: state.exists && state.enabled,
		changed,
		...(extra.mode ? { mode: extra.mode } : {}),
		...describe(target, state),
		original: extra.original ?? null,
		warnings: [...(extra.warnings ?? []), ...ruleWarnings(state)],
		...(extra.note ? { note: extra.note } : {}),
	};
}

/** The record of a running activation (a "withdrawn" marker is not one). */
function liveRecord(op: OperationContext, target: OvhTarget): FirewallRecord | undefined {
	const record = op.records.get<FirewallRecord>(recordKey(target));
	return record && !record.withdrawn ? record : undefined;
}

function originalRules(state: FirewallState): RuleSpec[] {
	const specs = state.rules.map(specOf);
	const unrestorable = specs.filter((s): s is string => typeof s === 'string');
	if (unrestorable.length > 0) {
		throw new InputError(
			`Lockdown refused: ${unrestorable.join('; ')}, which this node could not re-create ` +
				'exactly on withdraw',
			'OVH rules cannot be edited, only deleted and re-created, and the API creates rules with ' +
				'single ports. Use "Enable my Edge Network Firewall" mode, or replace such rules by ' +
				'single-port ones. Nothing was changed.',
		);
	}
	return specs as RuleSpec[];
}

/** The timeout to set during the incident, or undefined to leave the mitigation profile alone. */
function wantedTimeout(ctx: IExecuteFunctions, itemIndex: number): Timeout | undefined {
	const value = String(ctx.getNodeParameter('autoMitigationTimeOut', itemIndex, 'unchanged'));
	const minutes = Number(value);
	return TIMEOUTS.includes(minutes as Timeout) && value !== '' ? (minutes as Timeout) : undefined;
}

export const ovhDdosProtection: MitigationProvider<OvhTarget> = {
	name: 'ovhDdosProtection',
	api: ovhApi,

	readTarget(ctx: IExecuteFunctions, itemIndex: number, operation: string): OvhTarget {
		if (operation === 'listIpBlocks') return { ipBlock: '', ip: '' };
		const ipBlock = normalizeBlock(readLocator(ctx, 'ipBlock', itemIndex));
		if (operation === 'listMitigations') return { ipBlock, ip: '' };
		const target = {
			ipBlock,
			ip: resolveIp(ipBlock, String(ctx.getNodeParameter('ip', itemIndex, '') ?? '')),
		};
		// Checked here, with the target, so that bad input is refused before any request.
		if (
			operation === 'activate' &&
			ctx.getNodeParameter('mode', itemIndex, 'enableFirewall') === 'lockdown'
		)
			readLockdownPlan(ctx, itemIndex);
		if (operation === 'withdraw')
			readRestoreOverride(ctx, itemIndex, overrideSchema, OVERRIDE_SHAPE);
		return target;
	},

	describeTarget: (target) => target.ip || target.ipBlock,

	operations: {
		async getStatus(target, op): Promise<MitigationResult> {
			const state = await readFirewall(op.api, target);
			const [mitigation, profile] = await sideBySide([
				readMitigation(op.api, target),
				readProfile(op.api, target),
			]);
			const record = liveRecord(op, target);
			const warnings: string[] = [];
			if (mitigation?.permanent)
				warnings.push(
					'The IP still shows the retired "permanent mitigation" flag. OVH ended permanent ' +
						'mitigation on 2025-09-08: the flag has no effect.',
				);
			return {
				...result(target, state, false, { original: record?.original, warnings }),
				antiDdos: {
					underMitigation: mitigation !== undefined && mitigation.state !== 'removalPending',
					auto: mitigation?.auto ?? false,
					state: mitigation?.state ?? null,
					permanentFlag: mitigation?.permanent ?? false,
					autoMitigationTimeOut: timeoutOf(profile),
				},
			};
		},

		async activate(target, op): Promise<MitigationResult> {
			const mode = op.ctx.getNodeParameter('mode', op.itemIndex, 'enableFirewall') as Mode;
			const plan = mode === 'lockdown' ? readLockdownPlan(op.ctx, op.itemIndex) : undefined;
			const timeout = wantedTimeout(op.ctx, op.itemIndex);
			const changes = new Changes(op, target, 'activate');
			// The profile is read alongside the firewall: both decide the writes, neither depends on the
			// other.
			const [before, profileBefore] = await sideBySide([
				changes.idle(),
				timeout === undefined ? undefined : readProfile(op.api, target).then(timeoutOf),
			]);
			const key = recordKey(target);
			let record = liveRecord(op, target);

			const done = (plan ? sameRules(before.rules, plan.rules) : true) && profileBefore === timeout;
			if (before.exists && before.enabled && done) {
				// Already on: no write, and an existing record is kept (a repeat never replaces what was
				// saved).
				if (!record)
					op.records.set(key, {
						original: { firewall: 'enabled', ...(timeout ? { profile: timeout } : {}) },
					});
				return result(target, before, false, {
					mode,
					original: (record ?? liveRecord(op, target))?.original,
					note: plan ? 'Already locked down.' : 'The Edge Network Firewall was already enabled.',
				});
			}

			// Saved before the first write, so that a lost reply still leaves a complete record.
			// An earlier activation keeps what it saved; what it did not touch (the rules in enable
			// mode, the profile when not raised) is still the user's, and is added.
			const saved = record?.original;
			const original: OriginalFirewall = {
				firewall: saved?.firewall ?? firewallWord(before),
				...(saved?.rules ? { rules: saved.rules } : plan ? { rules: originalRules(before) } : {}),
				...(saved?.profile !== undefined
					? { profile: saved.profile }
					: profileBefore !== undefined
						? { profile: profileBefore }
						: {}),
			};
			if (!record || canonical(original) !== canonical(record.original))
				record = op.records.set(key, { original });

			const was = `the firewall is ${firewallWord(before)}`;
			if (!before.exists) await changes.createFirewall();
			if (plan) {
				await replaceRules(
					changes,
					before.rules,
					plan.rules,
					`${was === 'the firewall is none' ? 'the firewall exists' : was}; ` +
						'some rules are already replaced by the lockdown, the saved originals are kept',
				);
			}
			if (!before.enabled)
				await changes.setEnabled(
					true,
					plan ? 'the lockdown rules are in place; the firewall is not enabled yet' : was,
				);
			if (timeout !== undefined && profileBefore !== undefined && profileBefore !== timeout)
				await changes.setProfile(
					profileBefore,
					timeout,
					'the firewall is on; the auto-mitigation timeout is not raised yet',
				);
			const wait = op.ctx.getNodeParameter('waitUntilApplied', op.itemIndex, OVH_SETTLE.on);
			const note = wait ? await changes.settle(false) : undefined;
			const after = await changes.after(before);
			return {
				...result(target, after, changes.changed, { mode, original: record.original, note }),
				...(timeout !== undefined ? { autoMitigationTimeOut: timeout } : {}),
			};
		},

		async withdraw(target, op): Promise<MitigationResult> {
			const { ctx, itemIndex } = op;
			const override = readRestoreOverride(ctx, itemIndex, overrideSchema, OVERRIDE_SHAPE);
			const force = ctx.getNodeParameter('forceWithdraw', itemIndex, false) as boolean;
			const changes = new Changes(op, target, 'withdraw');
			const before = await changes.idle();
			const key = recordKey(target);
			const stored = op.records.get<FirewallRecord>(key);
			const record = stored && !stored.withdrawn ? stored : undefined;

			let goal: OriginalFirewall;
			let restoredFrom: string;
			if (override) {
				goal = Array.isArray(override)
					? {
							firewall: record?.original.firewall ?? (before.exists ? 'disabled' : 'none'),
							rules: override as RuleSpec[],
						}
					: (override as OriginalFirewall);
				restoredFrom = 'Configuration to Restore';
			} else if (record) {
				goal = record.original;
				restoredFrom = 'activation record';
			} else if (stored?.withdrawn) {
				// Already restored to an enabled firewall by an earlier withdraw: nothing left to undo.
				goal = { firewall: firewallWord(before) };
				restoredFrom = 'earlier withdraw';
			} else {
				// No record of any activation: turn the protection off, as a user pressing Withdraw
				// expects.
				goal = { firewall: before.exists ? 'disabled' : 'none' };
				restoredFrom = 'no record of the activation: firewall turned off, rules left as they are';
			}
			if (force && goal.firewall === 'enabled') goal = { ...goal, firewall: 'disabled' };

			const now = `the firewall is ${firewallWord(before)} with the rules it had before this run`;
			if (goal.firewall === 'none') {
				if (before.exists) await changes.deleteFirewall(now);
			} else {
				if (!before.exists) await changes.createFirewall();
				if (goal.firewall === 'disabled' && before.enabled) await changes.setEnabled(false, now);
				if (goal.rules)
					await replaceRules(
						changes,
						before.rules,
						goal.rules,
						'some of the original rules are re-created, the others are still to come',
					);
				if (goal.firewall === 'enabled' && !before.enabled)
					await changes.setEnabled(
						true,
						'the original rules are back; the firewall is not enabled yet',
					);
			}
			if (goal.profile !== undefined) {
				const profileNow = timeoutOf(await readProfile(op.api, target));
				if (profileNow !== goal.profile)
					await changes.setProfile(
						profileNow,
						goal.profile,
						'the firewall is restored; the auto-mitigation timeout is not yet',
					);
			}
			const wait = ctx.getNodeParameter('waitUntilApplied', itemIndex, OVH_SETTLE.on);
			const note = wait ? await changes.settle(false) : undefined;
			if (goal.firewall !== 'enabled') op.records.delete(key);
			else if (!stored?.withdrawn) op.records.set(key, { original: goal, withdrawn: true });
			const after = await changes.after(before);
			return {
				...result(target, after, changes.changed, { note, original: goal }),
				restoredFrom,
			};
		},

		async listMitigations(target, { api }) {
			const response = await ovhRequest<string[]>(api, {
				method: 'GET',
				path: `${blockPath(target)}/mitigation`,
			});
			const rows: IDataObject[] = [];
			for (const ip of response.body ?? []) {
				const entry = await readMitigation(api, { ...target, ip });
				if (entry)
					rows.push({
						ipBlock: target.ipBlock,
						ipOnMitigation: entry.ipOnMitigation,
						auto: entry.auto,
						state: entry.state,
						permanentFlag: entry.permanent,
					});
			}
			return rows;
		},

		async listIpBlocks(_target, { api }) {
			const response = await ovhRequest<string[]>(api, { method: 'GET', path: '/ip' });
			return (response.body ?? []).map((ipBlock) => ({ ipBlock }));
		},
	},
};
