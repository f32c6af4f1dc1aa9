import { createHash } from 'node:crypto';

import { Simulator, type SimRequest, type SimResponse } from './framework';

/**
 * Cloudflare API v4 as the two Cloudflare nodes use it: token verification, accounts, Magic Transit
 * prefixes with on-demand BGP advertisement (whole prefix through bgp/status, or per BGP prefix
 * through bgp/prefixes), zones and the security_level setting. Envelopes and error codes follow the
 * official API schema; permissions are enforced per token.
 */

export type Permission =
	| 'accounts:read'
	| 'prefixes:read'
	| 'prefixes:write'
	| 'zones:read'
	| 'zone_settings:read'
	| 'zone_settings:write';

export interface SimToken {
	status: 'active' | 'disabled' | 'expired';
	permissions: Permission[];
	/** Account-owned tokens verify at /accounts/{id}/tokens/verify only. */
	accountId?: string;
}

export interface SimPrefix {
	id: string;
	cidr: string;
	asn: number;
	description: string;
	on_demand_enabled: boolean;
	on_demand_locked: boolean;
	advertised: boolean;
	advertised_modified_at: string | null;
}

/** The on-demand part of a BGP prefix, as `on_demand` in the API. */
export interface SimOnDemand {
	advertised: boolean;
	advertised_modified_at: string | null;
	on_demand_enabled: boolean;
	on_demand_locked: boolean;
}

/**
 * A BGP prefix: a subnet of an IP prefix (or the prefix itself) that Cloudflare can announce on its
 * own.
 */
export interface SimBgpPrefix {
	id: string;
	cidr: string;
	asn: number | null;
	asn_prepend_count: number;
	auto_advertise_withdraw: boolean;
	bgp_signal_opts: { enabled: boolean; modified_at: string | null };
	created_at: string;
	modified_at: string;
	on_demand: SimOnDemand;
}

export interface SimZone {
	id: string;
	name: string;
	security_level: string;
	editable: boolean;
	modified_on: string | null;
}

const SECURITY_LEVELS = ['off', 'essentially_off', 'low', 'medium', 'high', 'under_attack'];

export const hex32 = (seed: string) =>
	Buffer.from(seed.padEnd(16, '0').slice(0, 16)).toString('hex');

const ok = (result: unknown, extra: Record<string, unknown> = {}): SimResponse => ({
	status: 200,
	body: { success: true, errors: [], messages: [], result, ...extra },
});

const fail = (
	status: number,
	code: number,
	message: string,
	chain?: Array<{ code: number; message: string }>,
): SimResponse => ({
	status,
	body: {
		success: false,
		errors: [{ code, message, ...(chain ? { error_chain: chain } : {}) }],
		messages: [],
		result: null,
	},
});

export class CloudflareSimulator extends Simulator {
	protected readonly prefix = '/client/v4';
	readonly tokens = new Map<string, SimToken>();
	readonly accounts = new Map<string, { name: string; prefixes: Map<string, SimPrefix> }>();
	readonly zones = new Map<string, SimZone>();
	/** BGP prefixes by IP prefix id, then by BGP prefix id. */
	readonly bgpPrefixes = new Map<string, Map<string, SimBgpPrefix>>();
	private token?: SimToken;

	constructor() {
		super();
		this.route('GET', '/user/tokens/verify', () => this.verify());
		this.route('GET', '/accounts/:accountId/tokens/verify', (req) =>
			this.verify(req.params.accountId),
		);
		this.route('GET', '/accounts', (req) => {
			if (!this.can('accounts:read')) return this.forbidden();
			return this.paged(
				[...this.accounts.entries()].map(([id, a]) => ({ id, name: a.name })),
				req,
			);
		});
		this.route('GET', '/accounts/:accountId/addressing/prefixes', (req) =>
			this.withAccount(req, 'prefixes:read', (account) =>
				ok([...account.prefixes.values()].map((p) => ({ ...p }))),
			),
		);
		this.route('GET', '/accounts/:accountId/addressing/prefixes/:prefixId', (req) =>
			this.withPrefix(req, 'prefixes:read', (prefix) => ok({ ...prefix })),
		);
		this.route('GET', '/accounts/:accountId/addressing/prefixes/:prefixId/bgp/status', (req) =>
			this.withPrefix(req, 'prefixes:read', (prefix) => ok(advertisement(prefix))),
		);
		this.route('PATCH', '/accounts/:accountId/addressing/prefixes/:prefixId/bgp/status', (req) =>
			this.withPrefix(req, 'prefixes:write', (prefix) => {
				const body = req.body as { advertised?: unknown } | undefined;
				if (typeof body?.advertised !== 'boolean') {
					return fail(400, 1001, 'advertised: expected a boolean');
				}
				if (!prefix.on_demand_enabled || prefix.on_demand_locked) {
					return fail(400, 1202, 'Prefix is not enabled for on-demand advertisement or is locked');
				}
				if (prefix.advertised !== body.advertised) {
					prefix.advertised = body.advertised;
					prefix.advertised_modified_at = new Date().toISOString();
				}
				return ok(advertisement(prefix));
			}),
		);
		this.route('GET', '/accounts/:accountId/addressing/prefixes/:prefixId/bgp/prefixes', (req) =>
			this.withPrefix(req, 'prefixes:read', (prefix) =>
				ok([...this.bgpPrefixesOf(prefix.id).values()]),
			),
		);
		this.route(
			'GET',
			'/accounts/:accountId/addressing/prefixes/:prefixId/bgp/prefixes/:bgpPrefixId',
			(req) => this.withBgpPrefix(req, 'prefixes:read', (bgpPrefix) => ok(bgpPrefix)),
		);
		this.route(
			'PATCH',
			'/accounts/:accountId/addressing/prefixes/:prefixId/bgp/prefixes/:bgpPrefixId',
			(req) =>
				this.withBgpPrefix(req, 'prefixes:write', (bgpPrefix) => {
					const advertised = (req.body as { on_demand?: { advertised?: unknown } } | undefined)
						?.on_demand?.advertised;
					if (typeof advertised !== 'boolean') {
						return fail(400, 1001, 'on_demand.advertised: expected a boolean');
					}
					const onDemand = bgpPrefix.on_demand;
					if (!onDemand.on_demand_enabled || onDemand.on_demand_locked) {
						return fail(
							400,
							1202,
							'BGP prefix is not enabled for on-demand advertisement or is locked',
						);
					}
					if (onDemand.advertised !== advertised) {
						const now = new Date().toISOString();
						onDemand.advertised = advertised;
						onDemand.advertised_modified_at = now;
						bgpPrefix.modified_at = now;
					}
					return ok(bgpPrefix);
				}),
		);
		this.route('GET', '/zones', (req) => {
			if (!this.can('zones:read')) return this.forbidden();
			const name = req.query.get('name') ?? '';
			const needle = name.startsWith('contains:') ? name.slice('contains:'.length) : '';
			const zones = [...this.zones.values()]
				.filter((z) => (needle ? z.name.includes(needle) : !name || z.name === name))
				.map((z) => ({ id: z.id, name: z.name, status: 'active' }));
			return this.paged(zones, req);
		});
		this.route('GET', '/zones/:zoneId/settings/security_level', (req) =>
			this.withZone(req, 'zone_settings:read', (zone) => ok(setting(zone))),
		);
		this.route('PATCH', '/zones/:zoneId/settings/security_level', (req) =>
			this.withZone(req, 'zone_settings:write', (zone) => {
				const value = (req.body as { value?: unknown } | undefined)?.value;
				if (typeof value !== 'string' || !SECURITY_LEVELS.includes(value)) {
					return fail(400, 1007, `Invalid value for zone setting security_level`);
				}
				if (!zone.editable) return fail(400, 1025, 'This setting is not editable for this zone');
				if (zone.security_level !== value) {
					zone.security_level = value;
					zone.modified_on = new Date().toISOString();
				}
				return ok(setting(zone));
			}),
		);
	}

	addToken(token: string, permissions: Permission[], extra: Partial<SimToken> = {}): void {
		this.tokens.set(token, { status: 'active', permissions, ...extra });
	}

	addPrefix(
		accountId: string,
		prefix: Partial<SimPrefix> & { id: string; cidr: string },
		accountName = 'Example Networks',
	): SimPrefix {
		if (!this.accounts.has(accountId))
			this.accounts.set(accountId, { name: accountName, prefixes: new Map() });
		const full: SimPrefix = {
			asn: 64500,
			description: '',
			on_demand_enabled: true,
			on_demand_locked: false,
			advertised: false,
			advertised_modified_at: null,
			...prefix,
		};
		this.accounts.get(accountId)!.prefixes.set(prefix.id, full);
		// Every IP prefix has a BGP prefix of its own CIDR; its on-demand state is the prefix's, so
		// bgp/status and bgp/prefixes always agree about it.
		const id = createHash('md5').update(`bgp:${prefix.id}`).digest('hex');
		this.bgpPrefixes.set(
			prefix.id,
			new Map([
				[id, { ...newBgpPrefix(id, full.cidr, full.asn), on_demand: linkedOnDemand(full) }],
			]),
		);
		return full;
	}

	/** Onboards another BGP prefix (e.g. a /24 of a /22) under an IP prefix added before. */
	addBgpPrefix(
		prefixId: string,
		bgpPrefix: Partial<Omit<SimBgpPrefix, 'on_demand'>> & {
			id: string;
			cidr: string;
			on_demand?: Partial<SimOnDemand>;
		},
	): SimBgpPrefix {
		const { on_demand: onDemand, ...fields } = bgpPrefix;
		const full: SimBgpPrefix = {
			...newBgpPrefix(bgpPrefix.id, bgpPrefix.cidr, 64500),
			...fields,
			on_demand: {
				advertised: false,
				advertised_modified_at: null,
				on_demand_enabled: true,
				on_demand_locked: false,
				...onDemand,
			},
		};
		this.bgpPrefixesOf(prefixId).set(full.id, full);
		return full;
	}

	bgpPrefixesOf(prefixId: string): Map<string, SimBgpPrefix> {
		const bgpPrefixes = this.bgpPrefixes.get(prefixId);
		if (!bgpPrefixes) throw new Error(`simulator: no IP prefix ${prefixId}`);
		return bgpPrefixes;
	}

	addZone(zone: Partial<SimZone> & { id: string; name: string }): SimZone {
		const full: SimZone = { security_level: 'medium', editable: true, modified_on: null, ...zone };
		this.zones.set(zone.id, full);
		return full;
	}

	protected authenticate(req: SimRequest): SimResponse | undefined {
		const header = req.headers.authorization;
		if (!header)
			return fail(400, 9106, 'Missing X-Auth-Key, X-Auth-Email or Authorization headers');
		const match = /^Bearer ([A-Za-z0-9_-]+)$/.exec(header);
		if (!match) {
			return fail(400, 6003, 'Invalid request headers', [
				{ code: 6111, message: 'Invalid format for Authorization header' },
			]);
		}
		const token = this.tokens.get(match[1]);
		if (!token || token.status !== 'active') {
			// Token verification answers for disabled/expired tokens with their status; other calls
			// refuse them.
			if (token && req.path.endsWith('/tokens/verify')) {
				this.token = token;
				return undefined;
			}
			return fail(401, 1000, 'Invalid API Token');
		}
		this.token = token;
		return undefined;
	}

	protected notFound(req: SimRequest): SimResponse {
		return fail(404, 7000, `No route for the URI: ${req.path}`);
	}

	private verify(accountId?: string): SimResponse {
		const token = this.token!;
		if ((token.accountId ?? undefined) !== accountId) return fail(401, 1000, 'Invalid API Token');
		return ok(
			{ id: 'ed17574386854bf78a67040be0a770b0', status: token.status },
			{ messages: [{ code: 10000, message: 'This API Token is valid and active' }] },
		);
	}

	private can(permission: Permission): boolean {
		return this.token?.permissions.includes(permission) ?? false;
	}

	private forbidden(): SimResponse {
		return fail(403, 10000, 'Authentication error');
	}

	private paged(all: unknown[], req: SimRequest): SimResponse {
		const perPage = Math.min(Number(req.query.get('per_page') ?? 20), 50);
		const page = Number(req.query.get('page') ?? 1);
		const slice = all.slice((page - 1) * perPage, page * perPage);
		return ok(slice, {
			result_info: {
				page,
				per_page: perPage,
				count: slice.length,
				total_count: all.length,
				total_pages: Math.max(1, Math.ceil(all.length / perPage)),
			},
		});
	}

	private withAccount(
		req: SimRequest,
		permission: Permission,
		handler: (account: { name: string; prefixes: Map<string, SimPrefix> }) => SimResponse,
	): SimResponse {
		const { accountId } = req.params;
		return this.routed(this.accounts.get(accountId), `/accounts/${accountId}`, permission, handler);
	}

	/** An unknown account or zone id is a 404 (code 7003), given before the token is checked. */
	private routed<T>(
		found: T | undefined,
		path: string,
		permission: Permission,
		handler: (found: T) => SimResponse,
	): SimResponse {
		if (!found) {
			return fail(
				404,
				7003,
				`Could not route to ${path}, perhaps your object identifier is invalid?`,
			);
		}
		if (!this.can(permission)) return this.forbidden();
		return handler(found);
	}

	private withPrefix(
		req: SimRequest,
		permission: Permission,
		handler: (prefix: SimPrefix) => SimResponse,
	): SimResponse {
		return this.withAccount(req, permission, (account) =>
			orNotFound(account.prefixes.get(req.params.prefixId), 'Prefix', handler),
		);
	}

	private withBgpPrefix(
		req: SimRequest,
		permission: Permission,
		handler: (bgpPrefix: SimBgpPrefix) => SimResponse,
	): SimResponse {
		return this.withPrefix(req, permission, (prefix) =>
			orNotFound(this.bgpPrefixesOf(prefix.id).get(req.params.bgpPrefixId), 'BGP prefix', handler),
		);
	}

	private withZone(
		req: SimRequest,
		permission: Permission,
		handler: (zone: SimZone) => SimResponse,
	): SimResponse {
		const { zoneId } = req.params;
		const path = `/zones/${zoneId}/settings/security_level`;
		return this.routed(this.zones.get(zoneId), path, permission, handler);
	}
}

function advertisement(prefix: SimPrefix) {
	return { advertised: prefix.advertised, advertised_modified_at: prefix.advertised_modified_at };
}

function newBgpPrefix(
	id: string,
	cidr: string,
	asn: number | null,
): Omit<SimBgpPrefix, 'on_demand'> {
	const now = new Date().toISOString();
	return {
		id,
		cidr,
		asn,
		asn_prepend_count: 0,
		auto_advertise_withdraw: false,
		bgp_signal_opts: { enabled: false, modified_at: null },
		created_at: now,
		modified_at: now,
	};
}

/**
 * An `on_demand` whose fields read and write the IP prefix's own advertisement and on-demand flags.
 */
function linkedOnDemand(prefix: SimPrefix): SimOnDemand {
	const view = {} as SimOnDemand;
	for (const key of [
		'advertised',
		'advertised_modified_at',
		'on_demand_enabled',
		'on_demand_locked',
	] as const) {
		Object.defineProperty(view, key, {
			enumerable: true,
			get: () => prefix[key],
			set: (value: never) => (prefix[key] = value),
		});
	}
	return view;
}

function setting(zone: SimZone) {
	return {
		id: 'security_level',
		value: zone.security_level,
		editable: zone.editable,
		modified_on: zone.modified_on,
	};
}

/** A prefix or BGP prefix id the account does not hold: 404 with code 1000. */
function orNotFound<T>(
	found: T | undefined,
	what: string,
	handler: (found: T) => SimResponse,
): SimResponse {
	return found ? handler(found) : fail(404, 1000, `${what} not found`);
}
