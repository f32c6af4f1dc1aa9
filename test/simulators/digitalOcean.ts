import { randomUUID } from 'node:crypto';
import { isIP } from 'node:net';

import { Simulator, type Handler, type SimRequest, type SimResponse } from './framework';

/**
 * DigitalOcean Cloud Firewalls as the API really behaves (specs/digitalocean.json): PUT replaces
 * the whole object and resets anything left out (trap 1: droplets detached), create needs a rule,
 * documented limits (10 Droplets, 5 tags, 50 rules) and existing Droplets/tags/load balancers,
 * `{id, message}` errors, page links with the public host, and `ratelimit-*` headers on every
 * answer. It also watches the property that matters during a lockdown: a Droplet that had a
 * firewall must never be left without one, even for one call.
 */

export type Scope = 'read' | 'write';

interface RuleTarget {
	addresses?: string[];
	droplet_ids?: number[];
	load_balancer_uids?: string[];
	kubernetes_ids?: string[];
	tags?: string[] | null;
}

export interface SimRule {
	protocol: string;
	ports: string;
	sources?: RuleTarget;
	destinations?: RuleTarget;
}

export interface SimFirewall {
	id: string;
	name: string;
	status: string;
	created_at: string;
	droplet_ids: number[];
	tags: string[];
	inbound_rules: SimRule[];
	outbound_rules: SimRule[];
	pending_changes: unknown[];
}

/** A moment where a Droplet that had a firewall had none (open to everything). */
export interface Exposure {
	dropletId: number;
	after: string;
}

const NAME = /^[a-zA-Z0-9][a-zA-Z0-9.-]+$/;
const PUBLIC_ROOT = 'https://api.digitalocean.com';

const error = (status: number, id: string, message: string): SimResponse => ({
	status,
	body: { id, message, request_id: randomUUID() },
});

export class DigitalOceanSimulator extends Simulator {
	protected readonly prefix = '';
	readonly tokens = new Map<string, Scope[]>();
	readonly firewalls = new Map<string, SimFirewall>();
	/** Droplet id -> its tags. */
	readonly droplets = new Map<number, string[]>();
	readonly loadBalancers = new Set<string>();
	readonly exposures: Exposure[] = [];
	rateLimitRemaining = 5000;
	/** Reads of a new firewall before its status turns from "waiting" to "succeeded". */
	settleAfterReads = 0;
	private readonly waiting = new Map<string, number>();

	constructor() {
		super();
		this.on('GET', '/v2/account', () => ({
			status: 200,
			body: {
				account: {
					droplet_limit: 25,
					floating_ip_limit: 3,
					email: 'ops@example.com',
					uuid: 'b6fr89dbf6d9156cace5f3c78dc9851d957381ef',
					email_verified: true,
					status: 'active',
					status_message: '',
				},
			},
		}));
		this.on('GET', '/v2/firewalls', (req) => this.list(req));
		this.on('POST', '/v2/firewalls', (req) =>
			this.write(`POST ${req.path}`, () => this.create(req)),
		);
		this.on('GET', '/v2/firewalls/:id', (req) =>
			this.withFirewall(req, (fw) => {
				this.settle(fw);
				return { status: 200, body: { firewall: fw } };
			}),
		);
		this.on('PUT', '/v2/firewalls/:id', (req) =>
			this.withFirewall(req, (fw) => this.write(`PUT ${req.path}`, () => this.update(fw, req))),
		);
		this.on('DELETE', '/v2/firewalls/:id', (req) =>
			this.withFirewall(req, (fw) =>
				this.write(`DELETE ${req.path}`, () => {
					this.firewalls.delete(fw.id);
					return { status: 204 };
				}),
			),
		);
		for (const part of ['droplets', 'tags', 'rules'] as const) {
			this.on('POST', `/v2/firewalls/:id/${part}`, (req) =>
				this.withFirewall(req, (fw) =>
					this.write(`POST ${req.path}`, () => this.changePart(fw, part, req, 'add')),
				),
			);
			this.on('DELETE', `/v2/firewalls/:id/${part}`, (req) =>
				this.withFirewall(req, (fw) =>
					this.write(`DELETE ${req.path}`, () => this.changePart(fw, part, req, 'remove')),
				),
			);
		}
	}

	addToken(token: string, scopes: Scope[] = ['read', 'write']): void {
		this.tokens.set(token, scopes);
	}

	addDroplet(id: number, tags: string[] = []): void {
		this.droplets.set(id, tags);
	}

	addFirewall(firewall: Partial<SimFirewall> & { name: string }): SimFirewall {
		const full: SimFirewall = {
			id: randomUUID(),
			status: 'succeeded',
			created_at: '2024-03-01T10:00:00Z',
			droplet_ids: [],
			tags: [],
			inbound_rules: [],
			outbound_rules: [],
			pending_changes: [],
			...firewall,
		};
		this.firewalls.set(full.id, full);
		return full;
	}

	/** Every route answers with the rate-limit headers DigitalOcean sends. */
	private on(method: string, path: string, handler: Handler): void {
		this.route(method, path, async (req) => {
			const response = await handler(req);
			this.rateLimitRemaining = Math.max(0, this.rateLimitRemaining - 1);
			return {
				...response,
				headers: {
					'ratelimit-limit': '5000',
					'ratelimit-remaining': String(this.rateLimitRemaining),
					'ratelimit-reset': String(Math.floor(Date.now() / 1000) + 3600),
					...response.headers,
				},
			};
		});
	}

	protected authenticate(req: SimRequest): SimResponse | undefined {
		const match = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '');
		const scopes = match ? this.tokens.get(match[1]) : undefined;
		if (!scopes) return error(401, 'unauthorized', 'Unable to authenticate you');
		if (req.method !== 'GET' && !scopes.includes('write')) {
			return error(403, 'forbidden', 'You do not have permission to perform this action.');
		}
		return undefined;
	}

	protected notFound(): SimResponse {
		return error(404, 'not_found', 'The resource you were accessing could not be found.');
	}

	/** Droplets covered by at least one firewall, directly or by tag. */
	protectedDroplets(): Set<number> {
		const covered = new Set<number>();
		for (const fw of this.firewalls.values()) {
			for (const [id, tags] of this.droplets) {
				if (fw.droplet_ids.includes(id) || tags.some((tag) => fw.tags.includes(tag)))
					covered.add(id);
			}
		}
		return covered;
	}

	private write(what: string, change: () => SimResponse): SimResponse {
		const before = this.protectedDroplets();
		const response = change();
		const after = this.protectedDroplets();
		for (const id of before)
			if (!after.has(id)) this.exposures.push({ dropletId: id, after: what });
		return response;
	}

	private withFirewall(req: SimRequest, handler: (fw: SimFirewall) => SimResponse): SimResponse {
		const fw = this.firewalls.get(req.params.id);
		return fw ? handler(fw) : this.notFound();
	}

	private list(req: SimRequest): SimResponse {
		const perPage = Math.min(Math.max(Number(req.query.get('per_page') ?? 20), 1), 200);
		const page = Math.max(Number(req.query.get('page') ?? 1), 1);
		const all = [...this.firewalls.values()];
		const last = Math.max(1, Math.ceil(all.length / perPage));
		const link = (p: number) => `${PUBLIC_ROOT}/v2/firewalls?page=${p}&per_page=${perPage}`;
		const pages: Record<string, string> = {};
		if (page > 1) Object.assign(pages, { first: link(1), prev: link(page - 1) });
		if (page < last) Object.assign(pages, { next: link(page + 1), last: link(last) });
		return {
			status: 200,
			body: {
				firewalls: all.slice((page - 1) * perPage, page * perPage),
				links: { pages },
				meta: { total: all.length },
			},
		};
	}

	private create(req: SimRequest): SimResponse {
		const body = (req.body ?? {}) as Record<string, unknown>;
		const problem = this.validate(body, true) ?? refuseZeroPorts(body);
		if (problem) return problem;
		const fw = this.addFirewall({
			name: body.name as string,
			status: 'waiting',
			created_at: new Date().toISOString(),
			...this.attributes(body),
		});
		fw.pending_changes = fw.droplet_ids.map((id) => ({
			droplet_id: id,
			removing: false,
			status: 'waiting',
		}));
		const answer = { status: 202, body: { firewall: structuredClone(fw) } };
		this.waiting.set(fw.id, this.settleAfterReads);
		this.settle(fw);
		return answer;
	}

	/** A new firewall is "waiting" while DigitalOcean applies it to its Droplets. */
	private settle(fw: SimFirewall): void {
		const left = this.waiting.get(fw.id);
		if (left === undefined) return;
		if (left > 0) {
			this.waiting.set(fw.id, left - 1);
			return;
		}
		this.waiting.delete(fw.id);
		fw.status = 'succeeded';
		fw.pending_changes = [];
	}

	private update(fw: SimFirewall, req: SimRequest): SimResponse {
		const body = (req.body ?? {}) as Record<string, unknown>;
		const problem = this.validate(body, true) ?? refuseZeroPorts(body);
		if (problem) return problem;
		// Anything not sent is reset to its default: this is how a partial PUT detaches every Droplet.
		Object.assign(fw, { name: body.name as string }, this.attributes(body));
		return { status: 200, body: { firewall: fw } };
	}

	private changePart(
		fw: SimFirewall,
		part: 'droplets' | 'tags' | 'rules',
		req: SimRequest,
		how: 'add' | 'remove',
	): SimResponse {
		const body = (req.body ?? {}) as Record<string, unknown>;
		const next = structuredClone(fw) as unknown as Record<string, unknown>;
		const apply = <T>(key: string, values: T[], same: (a: T, b: T) => boolean) => {
			const current = next[key] as T[];
			next[key] =
				how === 'add'
					? [...current, ...values.filter((v) => !current.some((c) => same(c, v)))]
					: current.filter((c) => !values.some((v) => same(c, v)));
		};
		if (part === 'droplets')
			apply('droplet_ids', (body.droplet_ids as number[]) ?? [], (a, b) => a === b);
		if (part === 'tags') apply('tags', (body.tags as string[]) ?? [], (a, b) => a === b);
		if (part === 'rules') {
			const zero = refuseZeroPorts(body);
			if (zero) return zero;
			if (!body.inbound_rules && !body.outbound_rules)
				return error(
					400,
					'bad_request',
					'at least one of inbound_rules or outbound_rules is required',
				);
			const same = (a: SimRule, b: SimRule) =>
				JSON.stringify(normalizeRule(a)) === JSON.stringify(normalizeRule(b));
			apply('inbound_rules', ((body.inbound_rules as SimRule[]) ?? []).map(normalizeRule), same);
			apply('outbound_rules', ((body.outbound_rules as SimRule[]) ?? []).map(normalizeRule), same);
		}
		const problem = this.validate(next, false);
		if (problem) return problem;
		Object.assign(fw, this.attributes(next));
		return { status: 204 };
	}

	private attributes(body: Record<string, unknown>) {
		return {
			droplet_ids: [...((body.droplet_ids as number[] | null) ?? [])],
			tags: [...((body.tags as string[] | null) ?? [])],
			inbound_rules: ((body.inbound_rules as SimRule[] | null) ?? []).map(normalizeRule),
			outbound_rules: ((body.outbound_rules as SimRule[] | null) ?? []).map(normalizeRule),
		};
	}

	private validate(
		body: Record<string, unknown>,
		requireRulesKey: boolean,
	): SimResponse | undefined {
		if (typeof body.name !== 'string' || !NAME.test(body.name)) {
			return error(
				422,
				'unprocessable_entity',
				'name must contain only letters, numbers, dots and dashes',
			);
		}
		if (requireRulesKey && body.inbound_rules === undefined && body.outbound_rules === undefined) {
			return error(
				400,
				'bad_request',
				'at least one of inbound_rules or outbound_rules is required',
			);
		}
		const dropletIds = (body.droplet_ids as number[] | null) ?? [];
		const tags = (body.tags as string[] | null) ?? [];
		const inbound = (body.inbound_rules as SimRule[] | null) ?? [];
		const outbound = (body.outbound_rules as SimRule[] | null) ?? [];
		if (dropletIds.length > 10)
			return error(422, 'unprocessable_entity', 'must have no more than 10 droplets');
		if (tags.length > 5) return error(422, 'unprocessable_entity', 'must have no more than 5 tags');
		if (inbound.length + outbound.length > 50)
			return error(422, 'unprocessable_entity', 'must have no more than 50 rules');
		for (const id of dropletIds)
			if (!this.droplets.has(id))
				return error(422, 'unprocessable_entity', `droplet ${id} not found`);
		const knownTags = new Set([...this.droplets.values()].flat());
		for (const tag of tags)
			if (!knownTags.has(tag)) return error(422, 'unprocessable_entity', `tag ${tag} not found`);
		for (const rule of [...inbound, ...outbound]) {
			const problem = this.validateRule(rule, knownTags);
			if (problem) return error(422, 'unprocessable_entity', problem);
		}
		return undefined;
	}

	private validateRule(rule: SimRule, knownTags: Set<string>): string | undefined {
		if (!['tcp', 'udp', 'icmp'].includes(rule.protocol))
			return 'You specified an invalid protocol.';
		if (
			rule.protocol !== 'icmp' &&
			!/^(all|0|\d{1,5}(-\d{1,5})?)$/.test(String(rule.ports ?? ''))
		) {
			return 'You must specify a positive value for ports.';
		}
		const target = rule.sources ?? rule.destinations;
		if (!target) return 'You specified an invalid type for one of the sources.';
		for (const address of target.addresses ?? [])
			if (isIP(address.split('/')[0]) === 0) return `invalid address ${address}`;
		for (const id of target.droplet_ids ?? [])
			if (!this.droplets.has(id)) return `droplet ${id} not found`;
		for (const uid of target.load_balancer_uids ?? [])
			if (!this.loadBalancers.has(uid)) return `load balancer ${uid} not found`;
		for (const tag of target.tags ?? []) if (!knownTags.has(tag)) return `tag ${tag} not found`;
		return undefined;
	}
}

/**
 * DigitalOcean stores every port ("all", "1-65535") as "0", and ICMP rules always read back with ports "0"; a
 * write that sends "0" back is refused with 422 (digitalocean/api-v2#171, digitalocean/droplet_kit#249).
 */
function normalizeRule(rule: SimRule): SimRule {
	const ports =
		rule.protocol === 'icmp' ||
		rule.ports === 'all' ||
		rule.ports === '1-65535' ||
		rule.ports === undefined
			? '0'
			: String(rule.ports);
	return { ...rule, ports };
}

function refuseZeroPorts(body: Record<string, unknown>): SimResponse | undefined {
	const rules = [
		...((body.inbound_rules as SimRule[] | null) ?? []),
		...((body.outbound_rules as SimRule[] | null) ?? []),
	];
	const zero = rules.find((r) => r.ports === '0');
	if (zero) return error(422, 'unprocessable_entity', 'ports: must be a port, a range, or "all"');
	return undefined;
}
