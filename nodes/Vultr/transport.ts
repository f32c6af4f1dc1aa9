import type { IDataObject, IHttpRequestMethods } from 'n8n-workflow';
import { setTimeout as sleep } from 'node:timers/promises';

import type {
	ApiResponse,
	FailureDescription,
	ProviderApiSpec,
	ProviderClient,
	RequestSpec,
} from '../shared/http';

export interface FirewallGroup {
	id: string;
	description: string;
	date_created?: string;
	date_modified?: string;
	instance_count: number;
	rule_count: number;
	max_rule_count: number;
}

export interface FirewallRule {
	id: number;
	ip_type: 'v4' | 'v6';
	action: string;
	protocol: string;
	port: string;
	subnet: string;
	subnet_size: number;
	source: string;
	notes: string;
}

export interface Instance {
	id: string;
	label: string;
	main_ip: string;
	firewall_group_id: string;
}

interface Meta {
	total?: number;
	links?: { next?: string; prev?: string };
}

export const vultrApi: ProviderApiSpec = {
	provider: 'Vultr',
	credentialType: 'vultrMitigationApi',
	defaultBaseUrl: 'https://api.vultr.com/v2',
	describeFailure,
};

function describeFailure(response: ApiResponse): FailureDescription {
	const body = response.body as { error?: string } | null;
	const providerMessage = typeof body?.error === 'string' ? body.error : undefined;
	const said = providerMessage ? `: ${providerMessage}` : '';
	switch (response.status) {
		case 401:
			return {
				providerMessage,
				message: 'Vultr rejected the API key',
				hint:
					'Copy the API key from my.vultr.com/settings/#settingsapi (API access must be ' +
					'enabled) and paste it without "Bearer".',
			};
		case 403:
			return {
				providerMessage,
				message: `Vultr refused the request (forbidden)${said}`,
				hint:
					"The API key is restricted to some IP addresses: add this n8n server's public IP " +
					"under Settings > API > Access Control, or check the user's firewall permission.",
			};
		case 404:
			return {
				providerMessage,
				message: `Vultr could not find the firewall group or instance${said}`,
				hint:
					'Check the Firewall Group ID (Products > Firewall > your group: the id in the URL) ' +
					'or pick the group from the list.',
			};
		case 429:
			return {
				providerMessage,
				message: 'Vultr rate limit reached (30 requests per second)',
				hint:
					'The request is retried after a pause; raise Max Attempts under Options if this ' +
					'persists.',
			};
		default:
			return { providerMessage, message: `Vultr answered HTTP ${response.status}${said}` };
	}
}

/**
 * Vultr answers 429 beyond 30 requests per second per IP: requests of one client are spaced to stay
 * under it.
 */
const MIN_SPACING_MS = 40;
const lastRequest = new WeakMap<ProviderClient, number>();

export async function vultrRequest<T>(
	api: ProviderClient,
	method: IHttpRequestMethods,
	path: string,
	body?: IDataObject,
	qs?: IDataObject,
	options: Pick<RequestSpec, 'findEffect'> = {},
): Promise<T> {
	// The slot is taken before waiting, so that requests sent side by side are spaced too.
	const now = Date.now();
	const slot = Math.max(now, (lastRequest.get(api) ?? 0) + MIN_SPACING_MS);
	lastRequest.set(api, slot);
	if (slot > now) await sleep(slot - now);
	return (await api.request<T>({ method, path, body, qs, ...options })).body;
}

/** Every item of a cursor-paged list, following meta.links.next until it is empty. */
export async function listAll<T>(
	api: ProviderClient,
	path: string,
	key: string,
	qs: IDataObject = {},
	maxPages = 100,
): Promise<T[]> {
	const all: T[] = [];
	let cursor = '';
	for (let page = 0; page < maxPages; page++) {
		const body = await vultrRequest<Record<string, unknown> & { meta?: Meta }>(
			api,
			'GET',
			path,
			undefined,
			{
				...qs,
				per_page: 500,
				...(cursor ? { cursor } : {}),
			},
		);
		all.push(...((body[key] as T[] | undefined) ?? []));
		cursor = body.meta?.links?.next ?? '';
		if (!cursor) break;
	}
	return all;
}
