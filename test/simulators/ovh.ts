import { createHash } from 'node:crypto';

import { Simulator, type SimRequest, type SimResponse } from './framework';

/**
 * OVHcloud API (/1.0) as the OVH node uses it: server time, signed requests checked exactly (application key,
 * consumer key, access rules, timestamp window, "$1$" SHA-1 signature over the URL and body as received),
 * IP blocks and permanent mitigation with its pending states. Error bodies follow OVH: `{errorCode, httpCode,
 * message}` for authentication, `{class, message}` for the rest. The signature is recomputed here with its own
 * code, from the raw request, not with the package's signing function.
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
	permanent: boolean;
	state: 'creationPending' | 'ok' | 'removalPending';
	/** Reads left before a pending state settles. */
	pendingReads: number;
}

export interface SimBlock {
	ip: string;
	type: string;
	description: string | null;
	routedTo: { serviceName: string | null };
	mitigations: Map<string, SimMitigation>;
}

export const ALL_RULES = [
	'GET /ip',
	'GET /ip/*',
	'GET /ip/*/mitigation/*',
	'POST /ip/*/mitigation',
	'DELETE /ip/*/mitigation/*',
];

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

export class OvhSimulator extends Simulator {
	protected readonly prefix = '/1.0';
	readonly applications = new Map<string, string>();
	readonly consumerKeys = new Map<string, SimConsumerKey>();
	readonly blocks = new Map<string, SimBlock>();
	/** OVH's clock minus this machine's, in seconds: a client must use GET /auth/time to sign in OVH's time. */
	clockOffsetS = 0;
	/** GET reads before creationPending / removalPending settle. */
	settleAfterReads = 1;
	/** Signatures that were checked and valid, for tests that want proof the client signed. */
	verifiedSignatures = 0;
	private consumerKey?: string;

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
				if (!entry) return notFoundObject(`ipOnMitigation = ${req.params.ip}`);
				this.advance(block, entry);
				return block.mitigations.has(entry.ipOnMitigation)
					? { status: 200, body: view(entry) }
					: notFoundObject(`ipOnMitigation = ${req.params.ip}`);
			}),
		);
		this.route('POST', '/ip/:address/:length/mitigation', (req) =>
			this.withBlock(req, (block) => {
				const ip = (req.body as { ipOnMitigation?: unknown } | undefined)?.ipOnMitigation;
				if (typeof ip !== 'string' || !inBlock(ip, block.ip)) {
					return classError(
						400,
						'Client::BadRequest',
						`Invalid IP ${String(ip)}: not in block ${block.ip}`,
					);
				}
				const existing = block.mitigations.get(ip);
				if (existing?.permanent)
					return classError(
						409,
						'Client::Conflict::AlreadyExists',
						`${ip} is already on permanent mitigation`,
					);
				if (existing) {
					// On automatic mitigation: it becomes permanent too.
					existing.permanent = true;
					return { status: 200, body: view(existing) };
				}
				const entry: SimMitigation = {
					ipOnMitigation: ip,
					auto: false,
					permanent: true,
					state: 'creationPending',
					pendingReads: this.settleAfterReads,
				};
				block.mitigations.set(ip, entry);
				return { status: 200, body: view(entry) };
			}),
		);
		this.route('DELETE', '/ip/:address/:length/mitigation/:ip', (req) =>
			this.withBlock(req, (block) => {
				const entry = block.mitigations.get(req.params.ip);
				if (!entry) return notFoundObject(`ipOnMitigation = ${req.params.ip}`);
				if (!entry.permanent)
					return classError(
						400,
						'Client::BadRequest',
						`${entry.ipOnMitigation} is not on permanent mitigation`,
					);
				if (entry.auto) {
					entry.permanent = false;
				} else {
					entry.state = 'removalPending';
					entry.pendingReads = this.settleAfterReads;
				}
				return { status: 200, body: view(entry) };
			}),
		);
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
		};
		this.blocks.set(ip, block);
		return block;
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
		// The credential itself can always be read (its status tells what is wrong); everything else needs a rule.
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

	/** The block from the path; it must arrive percent-encoded (203.0.113.0%2F24), as OVH routes on it. */
	private withBlock(req: SimRequest, handler: (block: SimBlock) => SimResponse): SimResponse {
		const ip = `${req.params.address}/${req.params.length}`;
		if (!req.rawPath.startsWith(`${this.prefix}/ip/${encodeURIComponent(ip)}`))
			return this.notFound(req);
		const block = this.blocks.get(ip);
		return block ? handler(block) : notFoundObject(`ip = ${ip}`);
	}

	private advance(block: SimBlock, entry: SimMitigation): void {
		if (entry.state === 'ok' || entry.pendingReads-- > 0) return;
		if (entry.state === 'creationPending') entry.state = 'ok';
		else block.mitigations.delete(entry.ipOnMitigation);
	}
}

function view(entry: SimMitigation) {
	return {
		ipOnMitigation: entry.ipOnMitigation,
		auto: entry.auto,
		permanent: entry.permanent,
		state: entry.state,
	};
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
