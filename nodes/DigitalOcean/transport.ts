import type { IDataObject, IHttpRequestMethods } from 'n8n-workflow';

import type {
	ApiResponse,
	FailureDescription,
	ProviderApiSpec,
	ProviderClient,
	RequestSpec,
} from '../shared/http';

/** DigitalOcean's error body: `{"id": "not_found", "message": "...", "request_id": "..."}`. */
interface DigitalOceanError {
	id?: string;
	message?: string;
}

export interface RuleTarget {
	addresses?: string[];
	droplet_ids?: number[];
	load_balancer_uids?: string[];
	kubernetes_ids?: string[];
	tags?: string[];
}

export interface InboundRule {
	protocol: 'tcp' | 'udp' | 'icmp';
	ports?: string;
	sources: RuleTarget;
}

export interface OutboundRule {
	protocol: 'tcp' | 'udp' | 'icmp';
	ports?: string;
	destinations: RuleTarget;
}

export interface Firewall {
	id: string;
	name: string;
	status?: string;
	created_at?: string;
	droplet_ids: number[] | null;
	tags: string[] | null;
	inbound_rules: InboundRule[] | null;
	outbound_rules: OutboundRule[] | null;
	pending_changes?: Array<{ droplet_id: number; removing: boolean; status: string }>;
}

/**
 * The writable attributes; a PUT must carry all of them, as anything left out is reset (droplets
 * detached).
 */
export type FirewallBody = Pick<
	Firewall,
	'name' | 'droplet_ids' | 'tags' | 'inbound_rules' | 'outbound_rules'
>;

export const digitalOceanApi: ProviderApiSpec = {
	provider: 'DigitalOcean',
	credentialType: 'digitalOceanMitigationApi',
	defaultBaseUrl: 'https://api.digitalocean.com',
	describeFailure,
};

function describeFailure(response: ApiResponse): FailureDescription {
	const body = (response.body ?? {}) as DigitalOceanError;
	const common = { providerCode: body.id, providerMessage: body.message };
	const said = body.message ? `: ${body.message}` : '';
	switch (response.status) {
		case 401:
			return {
				...common,
				message: 'DigitalOcean rejected the access token (unauthorized)',
				hint:
					'Create a personal access token at cloud.digitalocean.com/account/api/tokens (not ' +
					'an OAuth app token) with the firewall scopes (read, create, update, delete) and ' +
					'paste it without "Bearer".',
			};
		case 403:
			return {
				...common,
				message: `DigitalOcean refused the request (forbidden)${said}`,
				hint:
					'The token lacks a scope: give it firewall:read, firewall:create, firewall:update ' +
					'and firewall:delete (or full read + write), plus droplet:read and tag:read for ' +
					'the Droplets and tags the firewall is attached to.',
			};
		case 404:
			return {
				...common,
				message: 'DigitalOcean could not find the firewall',
				hint:
					'Check the Firewall ID (the UUID in the dashboard URL under Networking > ' +
					'Firewalls) or pick the firewall from the list.',
			};
		case 429:
			return {
				...common,
				message: 'DigitalOcean rate limit reached (5000 requests per hour, 250 per minute)',
				hint:
					'The request is retried after Retry-After (or the ratelimit-reset time); raise Max ' +
					'Attempts or Max Retry Time under Options if this persists.',
				retryAfterMs: resetDelay(response.headers['ratelimit-reset']),
			};
		case 422:
			return { ...common, message: `DigitalOcean refused the firewall change${said}` };
		default:
			return { ...common, message: `DigitalOcean answered HTTP ${response.status}${said}` };
	}
}

/** `ratelimit-reset` is the Unix time (seconds) when the window frees up. */
function resetDelay(header: string | undefined, now = Date.now()): number | undefined {
	const epoch = Number(header);
	if (!header || !Number.isFinite(epoch)) return undefined;
	return Math.max(0, epoch * 1000 - now);
}

export async function doRequest<T>(
	api: ProviderClient,
	method: IHttpRequestMethods,
	path: string,
	body?: IDataObject,
	qs?: IDataObject,
	options: Pick<RequestSpec, 'findEffect' | 'idempotent'> = {},
): Promise<T> {
	return (await api.request<T>({ method, path, body, qs, ...options })).body;
}

/**
 * A rule as DigitalOcean accepts it on a write. Reads give all ports as "0" and ICMP rules with
 * "0", which a write refuses with 422 (digitalocean/api-v2#171, digitalocean/droplet_kit#249).
 */
export function writableRule<R extends InboundRule | OutboundRule>(rule: R): R {
	if (rule.protocol === 'icmp') {
		const { ports: _ports, ...rest } = rule;
		return rest as R;
	}
	return rule.ports === '0' || rule.ports === 'all' || !rule.ports
		? { ...rule, ports: '1-65535' }
		: rule;
}

export async function getFirewall(api: ProviderClient, id: string): Promise<Firewall> {
	return (await doRequest<{ firewall: Firewall }>(api, 'GET', `/v2/firewalls/${id}`)).firewall;
}

/** Every firewall of the account, following `links.pages.next` (200 per page, the maximum). */
export async function listFirewalls(api: ProviderClient, maxPages = 50): Promise<Firewall[]> {
	const all: Firewall[] = [];
	let page = 1;
	for (let fetched = 0; fetched < maxPages; fetched++) {
		const body = await doRequest<{ firewalls: Firewall[]; links?: { pages?: { next?: string } } }>(
			api,
			'GET',
			'/v2/firewalls',
			undefined,
			{ page, per_page: 200 },
		);
		all.push(...(body.firewalls ?? []));
		const next = body.links?.pages?.next;
		// The link names api.digitalocean.com even behind a gateway: only its page number is used.
		const nextPage = next
			? Number(new URL(next, 'https://api.digitalocean.com').searchParams.get('page'))
			: NaN;
		if (!Number.isInteger(nextPage) || nextPage <= page) break;
		page = nextPage;
	}
	return all;
}

/** The body a PUT must send: the whole object as read, with the given changes. */
export function wholeBody(firewall: Firewall, changes: Partial<FirewallBody> = {}): FirewallBody {
	return {
		name: firewall.name,
		droplet_ids: firewall.droplet_ids,
		tags: firewall.tags,
		inbound_rules: (firewall.inbound_rules ?? []).map(writableRule),
		outbound_rules: (firewall.outbound_rules ?? []).map(writableRule),
		...changes,
	};
}

export async function putFirewall(
	api: ProviderClient,
	id: string,
	body: FirewallBody,
): Promise<Firewall> {
	return (
		await doRequest<{ firewall: Firewall }>(
			api,
			'PUT',
			`/v2/firewalls/${id}`,
			body as unknown as IDataObject,
		)
	).firewall;
}
