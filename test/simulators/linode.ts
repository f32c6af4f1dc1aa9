import { createHash } from 'node:crypto';
import { isIP } from 'node:net';

import { Simulator, type SimRequest, type SimResponse } from './framework';

/**
 * Linode (Akamai) Cloud Firewalls as specs/linode.json describes them: PUT /rules replaces every
 * rule and both policies (unknown keys refused, at most 25 rules, version and fingerprint bumped),
 * labels 3-32 characters and unique, one firewall per Linode, `{errors: [{reason, field}]}` errors,
 * page/pages lists with X-Filter, and read-only versus read-write tokens.
 */

export type Grant = 'read_only' | 'read_write';

export interface SimRule {
	action: string;
	protocol: string;
	ports?: string | null;
	addresses: { ipv4?: string[]; ipv6?: string[] };
	label?: string;
	description?: string;
}

export interface SimRules {
	inbound: SimRule[] | null;
	inbound_policy: string;
	outbound: SimRule[] | null;
	outbound_policy: string;
	version: number;
	fingerprint: string;
}

export interface SimFirewall {
	id: number;
	label: string;
	status: 'enabled' | 'disabled';
	tags: string[];
	created: string;
	updated: string;
	rules: SimRules;
	/** Linode ids the firewall is assigned to. */
	linodes: number[];
}

const LABEL = /^[a-zA-Z0-9](?!.*(--|__|\.\.))[a-zA-Z0-9_.-]{1,30}[a-zA-Z0-9]$/;
const RULE_LABEL = /^[a-zA-Z][a-zA-Z0-9_.-]{2,31}$/;
const RULE_KEYS = ['inbound', 'inbound_policy', 'outbound', 'outbound_policy'];

const fail = (status: number, reason: string, field?: string): SimResponse => ({
	status,
	body: { errors: [{ reason, ...(field ? { field } : {}) }] },
});

export class LinodeSimulator extends Simulator {
	protected readonly prefix = '/v4';
	readonly tokens = new Map<string, Grant>();
	readonly firewalls = new Map<number, SimFirewall>();
	readonly linodes = new Map<number, string>();
	private nextId = 30000;

	constructor() {
		super();
		this.route('GET', '/profile', () => ({
			status: 200,
			body: { uid: 1, username: 'ops', email: 'ops@example.com', restricted: false },
		}));
		this.route('GET', '/networking/firewalls', (req) => this.list(req));
		this.route('POST', '/networking/firewalls', (req) => this.create(req));
		this.route('GET', '/networking/firewalls/:id', (req) =>
			this.withFirewall(req, (fw) => ({ status: 200, body: this.view(fw) })),
		);
		this.route('PUT', '/networking/firewalls/:id', (req) =>
			this.withFirewall(req, (fw) => {
				const body = (req.body ?? {}) as { label?: string; tags?: string[]; status?: string };
				if (body.label !== undefined) fw.label = body.label;
				if (body.tags !== undefined) fw.tags = [...body.tags];
				if (body.status === 'enabled' || body.status === 'disabled') fw.status = body.status;
				return { status: 200, body: this.view(fw) };
			}),
		);
		this.route('DELETE', '/networking/firewalls/:id', (req) =>
			this.withFirewall(req, (fw) => {
				this.firewalls.delete(fw.id);
				return { status: 200, body: {} };
			}),
		);
		this.route('GET', '/networking/firewalls/:id/rules', (req) =>
			this.withFirewall(req, (fw) => ({ status: 200, body: fw.rules })),
		);
		this.route('PUT', '/networking/firewalls/:id/rules', (req) =>
			this.withFirewall(req, (fw) => this.replaceRules(fw, req)),
		);
		this.route('GET', '/networking/firewalls/:id/devices', (req) =>
			this.withFirewall(req, (fw) => {
				const data = fw.linodes.map((id, i) => ({
					id: fw.id * 100 + i,
					created: fw.created,
					updated: fw.updated,
					entity: {
						id,
						type: 'linode',
						label: this.linodes.get(id),
						url: `/v4/linode/instances/${id}`,
						parent_entity: null,
					},
				}));
				return { status: 200, body: { data, page: 1, pages: 1, results: data.length } };
			}),
		);
	}

	addToken(token: string, grant: Grant = 'read_write'): void {
		this.tokens.set(token, grant);
	}

	addFirewall(
		firewall: Partial<Omit<SimFirewall, 'rules'>> & {
			label: string;
			rules: Omit<SimRules, 'version' | 'fingerprint'>;
		},
	): SimFirewall {
		const full: SimFirewall = {
			id: this.nextId++,
			status: 'enabled',
			tags: [],
			created: '2024-03-01T10:00:00',
			updated: '2024-03-01T10:00:00',
			linodes: [],
			...firewall,
			rules: { ...firewall.rules, version: 1, fingerprint: fingerprint(firewall.rules) },
		};
		this.firewalls.set(full.id, full);
		return full;
	}

	protected authenticate(req: SimRequest): SimResponse | undefined {
		const match = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '');
		const grant = match ? this.tokens.get(match[1]) : undefined;
		if (!grant) return fail(401, 'Invalid Token');
		if (req.method !== 'GET' && grant !== 'read_write') return fail(403, 'Unauthorized');
		return undefined;
	}

	protected notFound(): SimResponse {
		return fail(404, 'Not found');
	}

	private view(fw: SimFirewall) {
		const { linodes, ...rest } = fw;
		return {
			...structuredClone(rest),
			entities: linodes.map((id) => ({
				id,
				type: 'linode',
				label: this.linodes.get(id),
				url: `/v4/linode/instances/${id}`,
				parent_entity: null,
			})),
		};
	}

	private withFirewall(req: SimRequest, handler: (fw: SimFirewall) => SimResponse): SimResponse {
		const fw = this.firewalls.get(Number(req.params.id));
		return fw && /^\d+$/.test(req.params.id) ? handler(fw) : this.notFound();
	}

	private list(req: SimRequest): SimResponse {
		const pageSize = Number(req.query.get('page_size') ?? 100);
		if (pageSize < 25 || pageSize > 500)
			return fail(400, 'Must be a value between 25 and 500', 'page_size');
		const page = Number(req.query.get('page') ?? 1);
		let all = [...this.firewalls.values()];
		const filter = req.headers['x-filter'];
		if (filter) {
			const { label } = JSON.parse(filter) as { label?: string };
			if (label !== undefined) all = all.filter((f) => f.label === label);
		}
		const pages = Math.max(1, Math.ceil(all.length / pageSize));
		const data = all.slice((page - 1) * pageSize, page * pageSize).map((fw) => this.view(fw));
		return { status: 200, body: { data, page, pages, results: all.length } };
	}

	private create(req: SimRequest): SimResponse {
		const body = (req.body ?? {}) as {
			label?: unknown;
			tags?: string[];
			rules?: Record<string, unknown>;
			devices?: { linodes?: number[] };
		};
		if (typeof body.label !== 'string' || !LABEL.test(body.label))
			return fail(400, 'Label must be 3-32 characters, alphanumerics, -, _ and .', 'label');
		if ([...this.firewalls.values()].some((f) => f.label === body.label))
			return fail(400, 'Label must be unique among your Cloud Firewalls', 'label');
		if (!body.rules) return fail(400, 'This field is required.', 'rules');
		const problem = validateRules(body.rules);
		if (problem) return problem;
		for (const id of body.devices?.linodes ?? []) {
			if ([...this.firewalls.values()].some((f) => f.linodes.includes(id))) {
				return fail(400, `Linode ${id} already has an active firewall assigned`, 'devices.linodes');
			}
		}
		const now = new Date().toISOString().slice(0, 19);
		const fw = this.addFirewall({
			label: body.label,
			tags: body.tags ?? [],
			created: now,
			updated: now,
			linodes: body.devices?.linodes ?? [],
			rules: pickRules(body.rules),
		});
		return { status: 200, body: this.view(fw) };
	}

	private replaceRules(fw: SimFirewall, req: SimRequest): SimResponse {
		const body = (req.body ?? {}) as Record<string, unknown>;
		const problem = validateRules(body);
		if (problem) return problem;
		const rules = pickRules(body);
		fw.rules = { ...rules, version: fw.rules.version + 1, fingerprint: fingerprint(rules) };
		fw.updated = new Date().toISOString().slice(0, 19);
		return { status: 200, body: fw.rules };
	}
}

function pickRules(body: Record<string, unknown>): Omit<SimRules, 'version' | 'fingerprint'> {
	return {
		inbound: structuredClone((body.inbound as SimRule[] | null | undefined) ?? null),
		inbound_policy: body.inbound_policy as string,
		outbound: structuredClone((body.outbound as SimRule[] | null | undefined) ?? null),
		outbound_policy: body.outbound_policy as string,
	};
}

function fingerprint(rules: unknown): string {
	return createHash('sha1').update(JSON.stringify(rules)).digest('hex').slice(0, 8);
}

function validateRules(body: Record<string, unknown>): SimResponse | undefined {
	const unknown = Object.keys(body).filter(
		(k) => !RULE_KEYS.includes(k) && k !== 'version' && k !== 'fingerprint',
	);
	if (unknown.length) return fail(400, `Keys must be one of: ${RULE_KEYS.join(', ')}`, 'rules');
	for (const policy of ['inbound_policy', 'outbound_policy']) {
		if (body[policy] !== 'ACCEPT' && body[policy] !== 'DROP')
			return fail(400, 'Must be one of ACCEPT, DROP', policy);
	}
	const inbound = (body.inbound as SimRule[] | null | undefined) ?? [];
	const outbound = (body.outbound as SimRule[] | null | undefined) ?? [];
	if (inbound.length + outbound.length > 25)
		return fail(400, 'Too many rules (maximum 25)', 'rules');
	for (const [direction, rules] of [
		['inbound', inbound],
		['outbound', outbound],
	] as const) {
		for (const [i, rule] of rules.entries()) {
			const reason = ruleProblem(rule);
			if (reason) return fail(400, reason, `${direction}[${i}]`);
		}
	}
	return undefined;
}

function ruleProblem(rule: SimRule): string | undefined {
	if (!['ACCEPT', 'DROP'].includes(rule.action)) return 'action must be ACCEPT or DROP';
	if (!['TCP', 'UDP', 'ICMP', 'IPENCAP', 'ALL'].includes(rule.protocol))
		return 'protocol must be TCP, UDP, ICMP, IPENCAP or ALL';
	if (rule.ports !== undefined && rule.ports !== null) {
		if (rule.protocol === 'ICMP' || rule.protocol === 'IPENCAP')
			return 'Ports are not allowed for ICMP and IPENCAP protocols';
		const pieces = rule.ports.split(/,\s?/);
		let weight = 0;
		for (const piece of pieces) {
			const match = /^([1-9]\d{0,4})(?:-([1-9]\d{0,4}))?$/.exec(piece);
			if (
				!match ||
				Number(match[1]) > 65535 ||
				(match[2] && (Number(match[2]) > 65535 || Number(match[2]) <= Number(match[1])))
			) {
				return `Invalid port or range: ${piece}`;
			}
			weight += match[2] ? 2 : 1;
		}
		if (weight > 15) return 'At most 15 ports (a range counts as two)';
	}
	if (rule.label !== undefined && !RULE_LABEL.test(rule.label))
		return 'label must be 3-32 characters and start with a letter';
	const { ipv4, ipv6 } = rule.addresses ?? {};
	if (!ipv4 && !ipv6) return 'addresses must contain ipv4, ipv6, or both';
	if ((ipv4 && ipv4.length === 0) || (ipv6 && ipv6.length === 0))
		return 'Must not be an empty list';
	if ((ipv4?.length ?? 0) + (ipv6?.length ?? 0) > 255) return 'At most 255 addresses per rule';
	for (const address of ipv4 ?? [])
		if (isIP(address.split('/')[0]) !== 4) return `Invalid IPv4 address or network: ${address}`;
	for (const address of ipv6 ?? [])
		if (isIP(address.split('/')[0]) !== 6) return `Invalid IPv6 address or network: ${address}`;
	return undefined;
}
