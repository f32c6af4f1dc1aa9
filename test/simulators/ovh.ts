import { createHash } from 'node:crypto';

import { Simulator, type SimRequest, type SimResponse } from './framework';

/**
 * OVHcloud API (/1.0) as the OVH node uses it: server time, signed requests checked exactly
 * (application key, consumer key, access rules, timestamp window, "$1$" SHA-1 signature over the
 * URL and body as received), IP blocks, the Edge Network Firewall and the Anti-DDoS mitigation
 * state. Error bodies follow OVH: `{errorCode, httpCode, message}` for authentication, `{class,
 * message}` for the rest. The signature is recomputed here with its own code, from the raw request,
 * not with the package's signing function.
 *
 * Edge Network Firewall: a firewall is created disabled; enabling, disabling, deleting it and
 * creating or deleting a rule are tasks that stay pending (enableFirewallPending, creationPending,
 * removalPending...) until enough reads of that firewall have happened (`settleAfterReads`); any
 * write on a firewall with a pending task answers 409. Rules have unique sequences 0-19 (so at most
 * 20) and cannot be edited, only deleted and re-created. OVH ended permanent mitigation on
 * 2025-09-08: POST /ip/{block}/mitigation still answers as it did, but protects nothing.
 */

export interface SimConsumerKey {
	applicationKey: string;
	status: 'validated' | 'pendingValidation' | 'expired' | 'refused';
	/** Access rules as on the createToken page, e.g. `GET /ip/*`. */
	rules: string[];
}

export interface SimMitigation {
	ipOnMitigation: string;
	auto: boolean;
	/** The retired permanent-mitigation flag: shown, with no effect. */
	permanent: boolean;
	state: 'creationPending' | 'ok' | 'removalPending';
}

export interface SimRule {
	sequence: number;
	action: 'permit' | 'deny';
	protocol: 'ah' | 'esp' | 'gre' | 'icmp' | 'ipv4' | 'tcp' | 'udp';
	/** "any" or an IPv4 block with its length. */
	source: string;
	/** As OVH shows ports: "eq 22", or null. */
	destinationPort: string | null;
	sourcePort: string | null;
	tcpOption: 'established' | 'syn' | null;
	fragments: boolean;
	state: 'creationPending' | 'ok' | 'removalPending';
	pendingReads: number;
}

export interface SimFirewall {
	ipOnFirewall: string;
	enabled: boolean;
	state: 'ok' | 'enableFirewallPending' | 'disableFirewallPending';
	/** DELETE accepted: the firewall and its rules disappear once the task settles. */
	removing: boolean;
	pendingReads: number;
	rules: Map<number, SimRule>;
}

export interface SimMitigationProfile {
	ipMitigationProfile: string;
	/** Minutes OVH keeps the IP in auto-mitigation after an attack. */
	autoMitigationTimeOut: number;
	state: 'ok' | 'tasksPending';
	/** DELETE accepted: the profile disappears once the task settles. */
	removing: boolean;
	pendingReads: number;
}

export interface SimBlock {
	ip: string;
	type: string;
	description: string | null;
	routedTo: { serviceName: string | null };
	mitigations: Map<string, SimMitigation>;
	firewalls: Map<string, SimFirewall>;
	mitigationProfiles: Map<string, SimMitigationProfile>;
}

/**
 * A write that takes effect but whose reply is lost (a 500, or the connection closed), or that
 * fails outright.
 */
export type WriteFault = 'lostReply' | 'dropAfterApply' | 'fail';

export const ALL_RULES = [
	'GET /ip',
	'GET /ip/*',
	'POST /ip/*/firewall',
	'PUT /ip/*/firewall/*',
	'DELETE /ip/*/firewall/*',
	'POST /ip/*/firewall/*/rule',
	'DELETE /ip/*/firewall/*/rule/*',
	'POST /ip/*/mitigationProfiles',
	'PUT /ip/*/mitigationProfiles/*',
	'DELETE /ip/*/mitigationProfiles/*',
];

const PROTOCOLS = ['ah', 'esp', 'gre', 'icmp', 'ipv4', 'tcp', 'udp'];

/** OVH rejects a timestamp further than this from its own clock. */
const TIMESTAMP_WINDOW_S = 60;

const authError = (status: number, errorCode: string, message: string): SimResponse => ({
	status,
	body: {
		errorCode,
		httpCode: `${status} ${status === 400 ? 'Bad Request' : 'Forbidden'}`,
		message,
	},
});
const classError = (status: number, cls: string, message: string): SimResponse => ({
	status,
	body: { class: cls, message },
});
const notFoundObject = (what: string) =>
	classError(404, 'Client::NotFound', `The requested object (${what}) does not exist`);
const badRequest = (message: string) => classError(400, 'Client::BadRequest', message);
const pendingTask = (ip: string) =>
	classError(409, 'Client::Conflict', `A task is already pending on firewall ${ip}, retry later`);

export class OvhSimulator extends Simulator {
	protected readonly prefix = '/1.0';
	readonly applications = new Map<string, string>();
	readonly consumerKeys = new Map<string, SimConsumerKey>();
	readonly blocks = new Map<string, SimBlock>();
	/**
	 * OVH's clock minus this machine's, in seconds: a client must use GET /auth/time to sign in OVH's
	 * time.
	 */
	clockOffsetS = 0;
	/**
	 * Reads of a firewall (or its rules) that leave a pending task pending; the next one settles it.
	 */
	settleAfterReads = 0;
	/** Signatures that were checked and valid, for tests that want proof the client signed. */
	verifiedSignatures = 0;
	/** Answers of the retired POST /ip/{block}/mitigation: it replies, and protects nothing. */
	retiredMitigationPosts = 0;
	private consumerKey?: string;
	private writeCount = 0;
	private plannedWriteFaults = new Map<number, WriteFault>();

	constructor() {
		super();
		this.route('GET', '/auth/time', () => ({ status: 200, body: this.serverTime() }));
		this.route('GET', '/auth/currentCredential', () => {
			const ck = this.consumerKeys.get(this.consumerKey!)!;
			return {
				status: 200,
				body: {
					credentialId: 4242,
					applicationId: 1234,
					status: ck.status,
					rules: ck.rules.map((rule) => ({ method: rule.split(' ')[0], path: rule.split(' ')[1] })),
					creation: '2026-01-01T00:00:00+01:00',
					expiration: null,
					lastUse: new Date().toISOString(),
					ovhSupport: false,
					allowedIPs: null,
				},
			};
		});
		this.route('GET', '/ip', () => ({ status: 200, body: [...this.blocks.keys()] }));
		this.route('GET', '/ip/:address/:length', (req) =>
			this.withBlock(req, (block) => ({
				status: 200,
				body: {
					ip: block.ip,
					type: block.type,
					description: block.description,
					routedTo: block.routedTo,
					isAdditionalIp: false,
				},
			})),
		);

		this.route('GET', '/ip/:address/:length/mitigation', (req) =>
			this.withBlock(req, (block) => ({ status: 200, body: [...block.mitigations.keys()] })),
		);
		this.route('GET', '/ip/:address/:length/mitigation/:ip', (req) =>
			this.withBlock(req, (block) => {
				const entry = block.mitigations.get(req.params.ip);
				return entry
					? { status: 200, body: { ...entry } }
					: notFoundObject(`ipOnMitigation = ${req.params.ip}`);
			}),
		);
		this.route('POST', '/ip/:address/:length/mitigation', (req) =>
			this.withBlock(req, (block) => {
				const ip = (req.body as { ipOnMitigation?: unknown } | undefined)?.ipOnMitigation;
				if (typeof ip !== 'string' || !inBlock(ip, block.ip))
					return badRequest(`Invalid IP ${String(ip)}: not in block ${block.ip}`);
				// Retired on 2025-09-08: the route still answers as before, and nothing is scrubbed.
				this.retiredMitigationPosts++;
				return {
					status: 200,
					body: { ipOnMitigation: ip, auto: false, permanent: true, state: 'creationPending' },
				};
			}),
		);

		this.route('GET', '/ip/:address/:length/firewall', (req) =>
			this.withBlock(req, (block) => {
				for (const firewall of [...block.firewalls.values()]) this.advance(block, firewall);
				return { status: 200, body: [...block.firewalls.keys()] };
			}),
		);
		this.route('POST', '/ip/:address/:length/firewall', (req) =>
			this.withBlock(req, (block) => {
				const ip = (req.body as { ipOnFirewall?: unknown } | undefined)?.ipOnFirewall;
				if (typeof ip !== 'string' || !inBlock(ip, block.ip))
					return badRequest(`Invalid IP ${String(ip)}: not an IPv4 address of block ${block.ip}`);
				if (block.firewalls.has(ip))
					return classError(409, 'Client::Conflict::AlreadyExists', `${ip} is already on firewall`);
				const firewall: SimFirewall = {
					ipOnFirewall: ip,
					enabled: false,
					state: 'ok',
					removing: false,
					pendingReads: 0,
					rules: new Map(),
				};
				block.firewalls.set(ip, firewall);
				return { status: 200, body: firewallView(firewall) };
			}),
		);
		this.route('GET', '/ip/:address/:length/firewall/:ip', (req) =>
			this.withFirewall(req, true, (firewall) => ({ status: 200, body: firewallView(firewall) })),
		);
		this.route('PUT', '/ip/:address/:length/firewall/:ip', (req) =>
			this.withFirewall(req, false, (firewall) => {
				const enabled = (req.body as { enabled?: unknown } | undefined)?.enabled;
				if (typeof enabled !== 'boolean') return badRequest('enabled must be a boolean');
				if (busy(firewall)) return pendingTask(firewall.ipOnFirewall);
				if (enabled !== firewall.enabled) {
					firewall.enabled = enabled;
					firewall.state = enabled ? 'enableFirewallPending' : 'disableFirewallPending';
					firewall.pendingReads = this.settleAfterReads;
				}
				return { status: 200, body: null };
			}),
		);
		this.route('DELETE', '/ip/:address/:length/firewall/:ip', (req) =>
			this.withFirewall(req, false, (firewall) => {
				if (busy(firewall)) return pendingTask(firewall.ipOnFirewall);
				firewall.removing = true;
				firewall.pendingReads = this.settleAfterReads;
				return { status: 200, body: null };
			}),
		);
		this.route('GET', '/ip/:address/:length/firewall/:ip/rule', (req) =>
			this.withFirewall(req, true, (firewall) => {
				const state = req.query.get('state');
				const sequences = [...firewall.rules.values()]
					.filter((rule) => state === null || rule.state === state)
					.map((rule) => rule.sequence)
					.sort((a, b) => a - b);
				return { status: 200, body: sequences };
			}),
		);
		this.route('POST', '/ip/:address/:length/firewall/:ip/rule', (req) =>
			this.withFirewall(req, false, (firewall) => {
				if (busy(firewall)) return pendingTask(firewall.ipOnFirewall);
				const parsed = parseRule(req.body);
				if (typeof parsed === 'string') return badRequest(parsed);
				if (firewall.rules.has(parsed.sequence))
					return classError(
						409,
						'Client::Conflict::AlreadyExists',
						`A rule with sequence ${parsed.sequence} already exists`,
					);
				const rule: SimRule = {
					...parsed,
					state: 'creationPending',
					pendingReads: this.settleAfterReads,
				};
				firewall.rules.set(rule.sequence, rule);
				return { status: 200, body: ruleView(rule, firewall) };
			}),
		);
		this.route('GET', '/ip/:address/:length/firewall/:ip/rule/:sequence', (req) =>
			this.withFirewall(req, true, (firewall) => {
				const rule = firewall.rules.get(Number(req.params.sequence));
				return rule
					? { status: 200, body: ruleView(rule, firewall) }
					: notFoundObject(`sequence = ${req.params.sequence}`);
			}),
		);
		this.route('DELETE', '/ip/:address/:length/firewall/:ip/rule/:sequence', (req) =>
			this.withFirewall(req, false, (firewall) => {
				const rule = firewall.rules.get(Number(req.params.sequence));
				if (!rule) return notFoundObject(`sequence = ${req.params.sequence}`);
				if (busy(firewall)) return pendingTask(firewall.ipOnFirewall);
				rule.state = 'removalPending';
				rule.pendingReads = this.settleAfterReads;
				return { status: 200, body: ruleView(rule, firewall) };
			}),
		);

		this.route('GET', '/ip/:address/:length/mitigationProfiles', (req) =>
			this.withBlock(req, (block) => {
				for (const profile of [...block.mitigationProfiles.values()])
					this.advanceProfile(block, profile);
				return { status: 200, body: [...block.mitigationProfiles.keys()] };
			}),
		);
		this.route('POST', '/ip/:address/:length/mitigationProfiles', (req) =>
			this.withBlock(req, (block) => {
				const body = (req.body ?? {}) as {
					ipMitigationProfile?: unknown;
					autoMitigationTimeOut?: unknown;
				};
				const ip = body.ipMitigationProfile;
				if (typeof ip !== 'string' || !inBlock(ip, block.ip))
					return badRequest(`Invalid IP ${String(ip)}: not an IPv4 address of block ${block.ip}`);
				if (!TIMEOUTS.includes(body.autoMitigationTimeOut as number))
					return badRequest(`autoMitigationTimeOut must be one of ${TIMEOUTS.join(', ')}`);
				if (block.mitigationProfiles.has(ip))
					return classError(409, 'Client::Conflict::AlreadyExists', `${ip} already has a profile`);
				const profile: SimMitigationProfile = {
					ipMitigationProfile: ip,
					autoMitigationTimeOut: body.autoMitigationTimeOut as number,
					state: 'tasksPending',
					removing: false,
					pendingReads: this.settleAfterReads,
				};
				block.mitigationProfiles.set(ip, profile);
				return { status: 200, body: profileView(profile) };
			}),
		);
		this.route('GET', '/ip/:address/:length/mitigationProfiles/:ip', (req) =>
			this.withProfile(req, true, (profile) => ({ status: 200, body: profileView(profile) })),
		);
		this.route('PUT', '/ip/:address/:length/mitigationProfiles/:ip', (req) =>
			this.withProfile(req, false, (profile) => {
				const timeout = (req.body as { autoMitigationTimeOut?: unknown } | undefined)
					?.autoMitigationTimeOut;
				if (!TIMEOUTS.includes(timeout as number))
					return badRequest(`autoMitigationTimeOut must be one of ${TIMEOUTS.join(', ')}`);
				if (profile.state !== 'ok' || profile.removing)
					return pendingTask(profile.ipMitigationProfile);
				profile.autoMitigationTimeOut = timeout as number;
				profile.state = 'tasksPending';
				profile.pendingReads = this.settleAfterReads;
				return { status: 200, body: null };
			}),
		);
		this.route('DELETE', '/ip/:address/:length/mitigationProfiles/:ip', (req) =>
			this.withProfile(req, false, (profile) => {
				if (profile.state !== 'ok' || profile.removing)
					return pendingTask(profile.ipMitigationProfile);
				profile.removing = true;
				profile.pendingReads = this.settleAfterReads;
				return { status: 200, body: null };
			}),
		);

		// Write faults planned by number: counted here, so that a test can fail each write step in
		// turn.
		this.onRequest = (req) => {
			if (req.method === 'GET') return;
			const fault = this.plannedWriteFaults.get(++this.writeCount);
			if (fault === 'fail')
				this.inject({
					response: badRequest('Simulated failure of this write; nothing was changed'),
				});
			else if (fault === 'lostReply')
				this.inject({
					afterHandler: true,
					response: classError(500, 'Server::InternalServerError', 'Internal server error'),
				});
			else if (fault === 'dropAfterApply') this.inject({ afterHandler: true, drop: true });
		};
	}

	/**
	 * Makes the n-th write from now (1-based, retries included) fail outright, or take effect and
	 * lose its reply (a 500, or the connection closed).
	 */
	faultWrite(n: number, fault: WriteFault): void {
		this.plannedWriteFaults.set(this.writeCount + n, fault);
	}

	addApplication(applicationKey: string, applicationSecret: string): void {
		this.applications.set(applicationKey, applicationSecret);
	}

	addConsumerKey(
		consumerKey: string,
		key: Partial<SimConsumerKey> & { applicationKey: string },
	): void {
		this.consumerKeys.set(consumerKey, { status: 'validated', rules: ALL_RULES, ...key });
	}

	addBlock(ip: string, serviceName = 'ns1234567.ip-203-0-113.eu'): SimBlock {
		const block: SimBlock = {
			ip,
			type: 'dedicated',
			description: null,
			routedTo: { serviceName },
			mitigations: new Map(),
			firewalls: new Map(),
			mitigationProfiles: new Map(),
		};
		this.blocks.set(ip, block);
		return block;
	}

	/**
	 * A firewall as the user set it up by hand, settled; rules as OVH shows them ("eq 22", source
	 * "any").
	 */
	addFirewall(
		block: string,
		ip: string,
		enabled: boolean,
		rules: Array<Partial<SimRule> & Pick<SimRule, 'sequence' | 'action' | 'protocol'>> = [],
	): SimFirewall {
		const firewall: SimFirewall = {
			ipOnFirewall: ip,
			enabled,
			state: 'ok',
			removing: false,
			pendingReads: 0,
			rules: new Map(),
		};
		for (const rule of rules) {
			firewall.rules.set(rule.sequence, {
				source: 'any',
				destinationPort: null,
				sourcePort: null,
				tcpOption: null,
				fragments: false,
				state: 'ok',
				pendingReads: 0,
				...rule,
			});
		}
		this.blocks.get(block)!.firewalls.set(ip, firewall);
		return firewall;
	}

	firewall(block: string, ip: string): SimFirewall | undefined {
		return this.blocks.get(block)?.firewalls.get(ip);
	}

	/**
	 * The firewall as a user compares it: 'none', or its enabled flag and its rules with every field
	 * a rule is created with; pending tasks are counted as done.
	 */
	firewallSnapshot(block: string, ip: string) {
		const firewall = this.firewall(block, ip);
		if (!firewall || firewall.removing) return 'none';
		return {
			enabled: firewall.enabled,
			rules: [...firewall.rules.values()]
				.filter((rule) => rule.state !== 'removalPending')
				.sort((a, b) => a.sequence - b.sequence)
				.map(({ state: _state, pendingReads: _reads, ...rule }) => rule),
		};
	}

	/** Whether OVH's edge filters traffic to the IP: its firewall exists and is enabled. */
	edgeFiltering(block: string, ip: string): boolean {
		const firewall = this.firewall(block, ip);
		return firewall !== undefined && !firewall.removing && firewall.enabled;
	}

	/** A mitigation profile as the user set it, settled. */
	addMitigationProfile(block: string, ip: string, autoMitigationTimeOut: number): void {
		this.blocks.get(block)!.mitigationProfiles.set(ip, {
			ipMitigationProfile: ip,
			autoMitigationTimeOut,
			state: 'ok',
			removing: false,
			pendingReads: 0,
		});
	}

	/**
	 * The profile's timeout as a user sees it ('none' without a profile), pending tasks counted as
	 * done.
	 */
	mitigationProfile(block: string, ip: string): number | 'none' {
		const profile = this.blocks.get(block)?.mitigationProfiles.get(ip);
		return !profile || profile.removing ? 'none' : profile.autoMitigationTimeOut;
	}

	mitigation(block: string, ip: string): SimMitigation | undefined {
		return this.blocks.get(block)?.mitigations.get(ip);
	}

	serverTime(): number {
		return Math.floor(Date.now() / 1000) + this.clockOffsetS;
	}

	protected authenticate(req: SimRequest): SimResponse | undefined {
		if (req.path === '/auth/time') return undefined;
		const applicationKey = req.headers['x-ovh-application'];
		const secret = applicationKey ? this.applications.get(applicationKey) : undefined;
		if (secret === undefined) return authError(403, 'INVALID_KEY', 'Invalid application key');
		const consumerKey = req.headers['x-ovh-consumer'] ?? '';
		const ck = this.consumerKeys.get(consumerKey);
		if (!ck || ck.applicationKey !== applicationKey)
			return authError(403, 'INVALID_CREDENTIAL', 'This credential does not exist');
		const timestamp = req.headers['x-ovh-timestamp'] ?? '';
		if (
			!/^\d+$/.test(timestamp) ||
			Math.abs(Number(timestamp) - this.serverTime()) > TIMESTAMP_WINDOW_S
		) {
			return authError(400, 'QUERY_TIME_OUT', 'Query out of time');
		}
		const url = `http://${req.headers.host}${req.rawPath}`;
		const expected =
			'$1$' +
			createHash('sha1')
				.update(`${secret}+${consumerKey}+${req.method}+${url}+${req.rawBody}+${timestamp}`)
				.digest('hex');
		if (req.headers['x-ovh-signature'] !== expected)
			return authError(400, 'INVALID_SIGNATURE', 'Invalid signature');
		this.verifiedSignatures++;
		this.consumerKey = consumerKey;
		// The credential itself can always be read (its status tells what is wrong); everything else
		// needs a rule.
		if (req.path === '/auth/currentCredential') return undefined;
		if (ck.status !== 'validated')
			return authError(403, 'NOT_CREDENTIAL', 'This credential is not valid');
		if (!ck.rules.some((rule) => granted(rule, req.method, req.path))) {
			return authError(403, 'NOT_GRANTED_CALL', 'This call has not been granted');
		}
		return undefined;
	}

	protected notFound(req: SimRequest): SimResponse {
		return classError(404, 'Client::NotFound', `Got an invalid (or empty) URL: ${req.path}`);
	}

	/**
	 * The block from the path; it must arrive percent-encoded (203.0.113.0%2F24), as OVH routes on
	 * it.
	 */
	private withBlock(req: SimRequest, handler: (block: SimBlock) => SimResponse): SimResponse {
		const ip = `${req.params.address}/${req.params.length}`;
		if (!req.rawPath.startsWith(`${this.prefix}/ip/${encodeURIComponent(ip)}`))
			return this.notFound(req);
		const block = this.blocks.get(ip);
		return block ? handler(block) : notFoundObject(`ip = ${ip}`);
	}

	/** The firewall of the path's IP; a read also lets its pending tasks move on. */
	private withFirewall(
		req: SimRequest,
		read: boolean,
		handler: (firewall: SimFirewall) => SimResponse,
	): SimResponse {
		return this.withIpObject(req, read, handler, {
			table: (block) => block.firewalls,
			advance: (block, firewall) => this.advance(block, firewall),
			key: 'ipOnFirewall',
		});
	}

	/** The mitigation profile of the path's IP; a read also lets its pending task move on. */
	private withProfile(
		req: SimRequest,
		read: boolean,
		handler: (profile: SimMitigationProfile) => SimResponse,
	): SimResponse {
		return this.withIpObject(req, read, handler, {
			table: (block) => block.mitigationProfiles,
			advance: (block, profile) => this.advanceProfile(block, profile),
			key: 'ipMitigationProfile',
		});
	}

	/** The path's IP's entry in one of its block's tables, advanced first on a read. */
	private withIpObject<T>(
		req: SimRequest,
		read: boolean,
		handler: (object: T) => SimResponse,
		kind: {
			table: (block: SimBlock) => Map<string, T>;
			advance: (block: SimBlock, object: T) => void;
			key: string;
		},
	): SimResponse {
		return this.withBlock(req, (block) => {
			const table = kind.table(block);
			if (read && table.has(req.params.ip)) kind.advance(block, table.get(req.params.ip)!);
			const object = table.get(req.params.ip);
			return object ? handler(object) : notFoundObject(`${kind.key} = ${req.params.ip}`);
		});
	}

	private advanceProfile(block: SimBlock, profile: SimMitigationProfile): void {
		if (!profile.removing && profile.state === 'ok') return;
		if (profile.pendingReads-- > 0) return;
		if (profile.removing) block.mitigationProfiles.delete(profile.ipMitigationProfile);
		else profile.state = 'ok';
	}

	/** One read's worth of time for the firewall's pending tasks. */
	private advance(block: SimBlock, firewall: SimFirewall): void {
		if (firewall.removing) {
			if (firewall.pendingReads-- <= 0) block.firewalls.delete(firewall.ipOnFirewall);
			return;
		}
		if (firewall.state !== 'ok' && firewall.pendingReads-- <= 0) firewall.state = 'ok';
		for (const rule of [...firewall.rules.values()]) {
			if (rule.state === 'ok' || rule.pendingReads-- > 0) continue;
			if (rule.state === 'creationPending') rule.state = 'ok';
			else firewall.rules.delete(rule.sequence);
		}
	}
}

const TIMEOUTS = [0, 15, 60, 360, 1560];

function profileView(profile: SimMitigationProfile) {
	return {
		ipMitigationProfile: profile.ipMitigationProfile,
		autoMitigationTimeOut: profile.autoMitigationTimeOut,
		state: profile.state,
	};
}

const busy = (firewall: SimFirewall) =>
	firewall.removing ||
	firewall.state !== 'ok' ||
	[...firewall.rules.values()].some((rule) => rule.state !== 'ok');

function firewallView(firewall: SimFirewall) {
	return { ipOnFirewall: firewall.ipOnFirewall, enabled: firewall.enabled, state: firewall.state };
}

function ruleView(rule: SimRule, firewall: SimFirewall) {
	const destination = `${firewall.ipOnFirewall}/32`;
	const text = [
		rule.action,
		rule.protocol,
		rule.source,
		rule.sourcePort,
		destination,
		rule.destinationPort,
		rule.tcpOption,
		rule.fragments ? 'fragments' : null,
	]
		.filter((part) => part !== null)
		.join(' ');
	return {
		sequence: rule.sequence,
		action: rule.action,
		protocol: rule.protocol,
		source: rule.source,
		destination,
		destinationPort: rule.destinationPort,
		sourcePort: rule.sourcePort,
		tcpOption: rule.tcpOption,
		fragments: rule.fragments,
		rule: text,
		state: rule.state,
		creationDate: '2026-01-01T00:00:00+01:00',
	};
}

/**
 * POST .../rule body, checked as OVH does: enums, sequence 0-19, ports only for TCP/UDP, options
 * only for TCP.
 */
function parseRule(body: unknown): Omit<SimRule, 'state' | 'pendingReads'> | string {
	const b = (body ?? {}) as Record<string, unknown>;
	if (b.action !== 'permit' && b.action !== 'deny') return 'action must be permit or deny';
	if (typeof b.protocol !== 'string' || !PROTOCOLS.includes(b.protocol))
		return `protocol must be one of ${PROTOCOLS.join(', ')}`;
	const sequence = b.sequence;
	if (typeof sequence !== 'number' || !Number.isInteger(sequence) || sequence < 0 || sequence > 19)
		return 'sequence must be an integer from 0 to 19';
	const protocol = b.protocol as SimRule['protocol'];
	const portOf = (name: string): string | null | undefined => {
		const value = b[name];
		if (value === undefined || value === null) return null;
		if (protocol !== 'tcp' && protocol !== 'udp') return undefined;
		if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 65535)
			return undefined;
		return `eq ${value}`;
	};
	const destinationPort = portOf('destinationPort');
	const sourcePort = portOf('sourcePort');
	if (destinationPort === undefined || sourcePort === undefined)
		return 'ports are numbers 0-65535, and only with the tcp or udp protocol';
	let source = 'any';
	if (b.source !== undefined && b.source !== null) {
		const parsed = typeof b.source === 'string' ? parseIpv4Block(b.source) : undefined;
		if (!parsed) return `source ${String(b.source)} is not an IPv4 block`;
		source = parsed;
	}
	let tcpOption: SimRule['tcpOption'] = null;
	let fragments = false;
	if (b.tcpOption !== undefined && b.tcpOption !== null) {
		if (protocol !== 'tcp') return 'tcpOption can only be used with the tcp protocol';
		const option = b.tcpOption as { option?: unknown; fragments?: unknown };
		if (option.option !== undefined && option.option !== 'established' && option.option !== 'syn')
			return 'tcpOption.option must be established or syn';
		tcpOption = (option.option as SimRule['tcpOption']) ?? null;
		fragments = option.fragments === true;
	}
	return {
		sequence,
		action: b.action,
		protocol,
		source,
		destinationPort,
		sourcePort,
		tcpOption,
		fragments,
	};
}

function parseIpv4Block(value: string): string | undefined {
	const [address, length = '32', extra] = value.split('/');
	if (extra !== undefined || !/^\d{1,3}(\.\d{1,3}){3}$/.test(address)) return undefined;
	if (address.split('.').some((octet) => Number(octet) > 255)) return undefined;
	if (!/^\d{1,2}$/.test(length) || Number(length) > 32) return undefined;
	return `${address}/${length}`;
}

/** OVH access rules: method must match, `*` matches any characters (slashes included). */
function granted(rule: string, method: string, path: string): boolean {
	const [ruleMethod, rulePath] = rule.split(' ');
	if (ruleMethod !== method) return false;
	const pattern = new RegExp(
		'^' +
			rulePath
				.split('*')
				.map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
				.join('.*') +
			'$',
	);
	return pattern.test(path);
}

function inBlock(ip: string, block: string): boolean {
	const toInt = (v: string) => v.split('.').reduce((n, o) => n * 256 + Number(o), 0);
	if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(ip)) return false;
	const [address, length] = block.split('/');
	const size = 2 ** (32 - Number(length));
	const offset = toInt(ip) - toInt(address);
	return offset >= 0 && offset < size;
}
