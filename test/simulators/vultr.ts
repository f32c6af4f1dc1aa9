import { randomUUID } from 'node:crypto';
import { isIP } from 'node:net';

import { Simulator, type SimRequest, type SimResponse } from './framework';

/**
 * Vultr firewall groups and instances as specs/vultr.json describes them: accept-only rules added
 * and deleted one by one (no replace), duplicates and more than 50 rules refused, cursor paging
 * with meta.links.next, one group per instance switched by PATCH /instances/{id}, deleting a group
 * detaches its instances, `{error, status}` bodies, API keys that may be IP-restricted, and 429
 * beyond 30 requests per second. It also records any moment where an instance that had a firewall
 * group was left with none.
 */

export interface SimRule {
	id: number;
	ip_type: 'v4' | 'v6';
	action: 'accept';
	protocol: string;
	port: string;
	subnet: string;
	subnet_size: number;
	source: string;
	notes: string;
}

export interface SimGroup {
	id: string;
	description: string;
	date_created: string;
	date_modified: string;
	rules: SimRule[];
}

export interface SimInstance {
	id: string;
	label: string;
	main_ip: string;
	firewall_group_id: string;
}

const fail = (status: number, error: string): SimResponse => ({ status, body: { error, status } });
const PROTOCOLS = ['icmp', 'tcp', 'udp', 'gre', 'esp', 'ah'];

export class VultrSimulator extends Simulator {
	protected readonly prefix = '/v2';
	readonly keys = new Map<string, { allowed: boolean }>();
	readonly groups = new Map<string, SimGroup>();
	readonly instances = new Map<string, SimInstance>();
	/** Instances left without any firewall group by a call. */
	readonly exposures: Array<{ instanceId: string; after: string }> = [];
	/** Requests per second beyond which Vultr answers 429. */
	rateLimit = 30;
	private recent: number[] = [];
	private nextRuleId = 1;

	constructor() {
		super();
		this.route('GET', '/account', () => ({
			status: 200,
			body: {
				account: {
					name: 'Ops',
					email: 'ops@example.com',
					acls: ['manage_users', 'subscriptions', 'firewall'],
					balance: 0,
					pending_charges: 0,
				},
			},
		}));
		this.route('GET', '/firewalls', (req) =>
			this.paged(
				req,
				'firewall_groups',
				[...this.groups.values()].map((g) => this.view(g)),
			),
		);
		this.route('POST', '/firewalls', (req) => {
			const description = (req.body as { description?: unknown } | undefined)?.description;
			const group = this.addGroup({
				description: typeof description === 'string' ? description : '',
			});
			return { status: 201, body: { firewall_group: this.view(group) } };
		});
		this.route('GET', '/firewalls/:id', (req) =>
			this.withGroup(req, (g) => ({ status: 200, body: { firewall_group: this.view(g) } })),
		);
		this.route('DELETE', '/firewalls/:id', (req) =>
			this.withGroup(req, (g) =>
				this.watch(`DELETE ${req.path}`, () => {
					this.groups.delete(g.id);
					for (const instance of this.instances.values())
						if (instance.firewall_group_id === g.id) instance.firewall_group_id = '';
					return { status: 204 };
				}),
			),
		);
		this.route('GET', '/firewalls/:id/rules', (req) =>
			this.withGroup(req, (g) => this.paged(req, 'firewall_rules', structuredClone(g.rules))),
		);
		this.route('POST', '/firewalls/:id/rules', (req) =>
			this.withGroup(req, (g) => this.addRule(g, req)),
		);
		this.route('DELETE', '/firewalls/:id/rules/:ruleId', (req) =>
			this.withGroup(req, (g) => {
				const index = g.rules.findIndex((r) => r.id === Number(req.params.ruleId));
				if (index < 0) return fail(404, 'Firewall rule not found.');
				g.rules.splice(index, 1);
				return { status: 204 };
			}),
		);
		this.route('GET', '/instances', (req) => {
			const groupId = req.query.get('firewall_group_id');
			const all = [...this.instances.values()].filter(
				(i) => groupId === null || i.firewall_group_id === groupId,
			);
			return this.paged(req, 'instances', structuredClone(all));
		});
		this.route('GET', '/instances/:id', (req) => {
			const instance = this.instances.get(req.params.id);
			return instance ? { status: 200, body: { instance } } : fail(404, 'Invalid instance-id.');
		});
		this.route('PATCH', '/instances/:id', (req) => {
			const instance = this.instances.get(req.params.id);
			if (!instance) return fail(404, 'Invalid instance-id.');
			const groupId = (req.body as { firewall_group_id?: unknown } | undefined)?.firewall_group_id;
			if (groupId === undefined) return { status: 202, body: { instance } };
			if (typeof groupId !== 'string' || (groupId !== '' && !this.groups.has(groupId)))
				return fail(400, 'Invalid firewall group.');
			return this.watch(`PATCH ${req.path}`, () => {
				instance.firewall_group_id = groupId;
				return { status: 202, body: { instance } };
			});
		});
	}

	addKey(key: string, allowed = true): void {
		this.keys.set(key, { allowed });
	}

	addGroup(group: Partial<SimGroup> & { description: string }): SimGroup {
		const now = new Date().toISOString();
		const full: SimGroup = {
			id: randomUUID(),
			date_created: now,
			date_modified: now,
			rules: [],
			...group,
		};
		this.groups.set(full.id, full);
		return full;
	}

	/** Adds a rule as the API would, returning its new id. */
	addGroupRule(
		groupId: string,
		rule: Omit<SimRule, 'id' | 'action' | 'source' | 'notes'> & Partial<SimRule>,
	): SimRule {
		const full: SimRule = {
			id: this.nextRuleId++,
			action: 'accept',
			source: '',
			notes: '',
			...rule,
		};
		this.groups.get(groupId)!.rules.push(full);
		return full;
	}

	addInstance(instance: SimInstance): void {
		this.instances.set(instance.id, instance);
	}

	protected authenticate(req: SimRequest): SimResponse | undefined {
		const now = Date.now();
		this.recent = this.recent.filter((t) => now - t < 1000);
		this.recent.push(now);
		if (this.recent.length > this.rateLimit) return fail(429, 'Rate limit exceeded.');
		const match = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '');
		const key = match ? this.keys.get(match[1]) : undefined;
		if (!key) return fail(401, 'Invalid API token.');
		if (!key.allowed) return fail(403, 'Unauthorized IP address: 203.0.113.99');
		return undefined;
	}

	protected notFound(): SimResponse {
		return fail(404, 'Not found.');
	}

	private view(group: SimGroup) {
		const { rules, ...rest } = group;
		const instanceCount = [...this.instances.values()].filter(
			(i) => i.firewall_group_id === group.id,
		).length;
		return { ...rest, instance_count: instanceCount, rule_count: rules.length, max_rule_count: 50 };
	}

	private withGroup(req: SimRequest, handler: (group: SimGroup) => SimResponse): SimResponse {
		const group = this.groups.get(req.params.id);
		return group ? handler(group) : fail(404, 'Firewall group not found.');
	}

	/**
	 * Cursor paging: the cursor is opaque (here base64 of an offset); next is "" on the last page.
	 */
	private paged(req: SimRequest, key: string, all: unknown[]): SimResponse {
		const perPage = Math.min(Number(req.query.get('per_page') ?? 100), 500);
		const cursor = req.query.get('cursor');
		const offset = cursor
			? Number(Buffer.from(cursor, 'base64').toString('utf8').replace('next__', ''))
			: 0;
		if (!Number.isInteger(offset) || offset < 0) return fail(400, 'Invalid cursor.');
		const slice = all.slice(offset, offset + perPage);
		const next =
			offset + perPage < all.length
				? Buffer.from(`next__${offset + perPage}`).toString('base64')
				: '';
		const prev =
			offset > 0 ? Buffer.from(`next__${Math.max(0, offset - perPage)}`).toString('base64') : '';
		return {
			status: 200,
			body: { [key]: slice, meta: { total: all.length, links: { next, prev } } },
		};
	}

	private addRule(group: SimGroup, req: SimRequest): SimResponse {
		const body = (req.body ?? {}) as Record<string, unknown>;
		const ipType = body.ip_type;
		const protocol = typeof body.protocol === 'string' ? body.protocol.toLowerCase() : '';
		if (ipType !== 'v4' && ipType !== 'v6') return fail(400, 'Invalid ip_type, must be v4 or v6.');
		if (!PROTOCOLS.includes(protocol)) return fail(400, 'Invalid protocol.');
		if (typeof body.subnet !== 'string' || isIP(body.subnet) !== (ipType === 'v4' ? 4 : 6))
			return fail(400, 'Invalid subnet for ip_type.');
		const size = Number(body.subnet_size);
		if (!Number.isInteger(size) || size < 0 || size > (ipType === 'v4' ? 32 : 128))
			return fail(400, 'Invalid subnet_size.');
		const port = body.port === undefined ? '' : String(body.port);
		if (port && !['tcp', 'udp'].includes(protocol))
			return fail(400, 'Port is only allowed for TCP and UDP.');
		if (port && !/^\d{1,5}(:\d{1,5})?$/.test(port))
			return fail(400, 'Invalid port, use a port or a colon separated range.');
		const rule: SimRule = {
			id: this.nextRuleId++,
			ip_type: ipType,
			action: 'accept',
			protocol,
			port,
			subnet: body.subnet,
			subnet_size: size,
			source: typeof body.source === 'string' ? body.source : '',
			notes: typeof body.notes === 'string' ? body.notes : '',
		};
		const duplicate = group.rules.some(
			(r) =>
				r.ip_type === rule.ip_type &&
				r.protocol === rule.protocol &&
				r.port === rule.port &&
				r.subnet === rule.subnet &&
				r.subnet_size === rule.subnet_size &&
				r.source === rule.source,
		);
		if (duplicate)
			return fail(400, 'Unable to create firewall rule: This rule is already defined.');
		if (group.rules.length >= 50)
			return fail(400, 'Unable to create firewall rule: maximum number of rules reached.');
		group.rules.push(rule);
		group.date_modified = new Date().toISOString();
		return { status: 201, body: { firewall_rule: rule } };
	}

	private watch(what: string, change: () => SimResponse): SimResponse {
		const before = [...this.instances.values()]
			.filter((i) => i.firewall_group_id !== '')
			.map((i) => i.id);
		const response = change();
		for (const id of before)
			if (this.instances.get(id)?.firewall_group_id === '')
				this.exposures.push({ instanceId: id, after: what });
		return response;
	}
}
