import type { IDataObject, IHttpRequestMethods } from 'n8n-workflow';

import type {
	ApiResponse,
	FailureDescription,
	ProviderApiSpec,
	ProviderClient,
} from '../shared/http';

export interface LinodeRule {
	action: 'ACCEPT' | 'DROP';
	protocol: 'TCP' | 'UDP' | 'ICMP' | 'IPENCAP' | 'ALL';
	ports?: string | null;
	addresses: { ipv4?: string[]; ipv6?: string[] };
	label?: string;
	description?: string;
}

/** The writable part of a firewall's rules: PUT replaces all of it, both policies included. */
export interface RuleSet {
	inbound: LinodeRule[] | null;
	inbound_policy: 'ACCEPT' | 'DROP';
	outbound: LinodeRule[] | null;
	outbound_policy: 'ACCEPT' | 'DROP';
}

export interface Firewall {
	id: number;
	label: string;
	status: 'enabled' | 'disabled' | 'deleted';
	tags: string[];
	rules: RuleSet & { fingerprint?: string; version?: number };
	entities?: Array<{ id: number; type: string; label?: string }>;
}

interface LinodeErrors {
	errors?: Array<{ reason?: string; field?: string }>;
}

export const linodeApi: ProviderApiSpec = {
	provider: 'Linode',
	credentialType: 'linodeMitigationApi',
	defaultBaseUrl: 'https://api.linode.com/v4',
	describeFailure,
};

function describeFailure(response: ApiResponse): FailureDescription {
	const errors = (response.body as LinodeErrors | null)?.errors ?? [];
	const providerMessage =
		errors.map((e) => (e.field ? `${e.field}: ${e.reason}` : e.reason)).join('; ') || undefined;
	const common = { providerMessage };
	const said = providerMessage ? `: ${providerMessage}` : '';
	switch (response.status) {
		case 401:
			return {
				...common,
				message: 'Linode rejected the access token (invalid or expired)',
				hint:
					'Create a personal access token at cloud.linode.com/profile/tokens with Firewalls: ' +
					'Read/Write and paste it without "Bearer".',
			};
		case 403:
			return {
				...common,
				message: `Linode refused the request (forbidden)${said}`,
				hint:
					'The token needs Firewalls: Read/Write (a Read Only token fails on Activate and ' +
					'Withdraw). For a restricted user, also grant read_write on this firewall.',
			};
		case 404:
			return {
				...common,
				message: 'Linode could not find the firewall',
				hint:
					'Check the Firewall ID (the number in the URL under Network > Firewalls) or pick ' +
					'the firewall from the list.',
			};
		case 429:
			return {
				...common,
				message: 'Linode rate limit reached',
				hint:
					'The request is retried after Retry-After; raise Max Attempts or Max Retry Time ' +
					'under Options if this persists.',
			};
		default:
			return {
				...common,
				message: `Linode answered HTTP ${response.status}${said}`,
				// "Linode busy." is transient: Linode's own client retries it.
				retryable:
					response.status === 400 && errors.some((e) => /busy/i.test(e.reason ?? ''))
						? true
						: undefined,
			};
	}
}

export async function linodeRequest<T>(
	api: ProviderClient,
	method: IHttpRequestMethods,
	path: string,
	body?: IDataObject,
	extra: { qs?: IDataObject; headers?: IDataObject } = {},
): Promise<T> {
	return (await api.request<T>({ method, path, body, ...extra })).body;
}

/** Every firewall matching an optional X-Filter, all pages. */
export async function listFirewalls(
	api: ProviderClient,
	filter?: IDataObject,
	maxPages = 50,
): Promise<Firewall[]> {
	const all: Firewall[] = [];
	for (let page = 1; page <= maxPages; page++) {
		const body = await linodeRequest<{ data: Firewall[]; page: number; pages: number }>(
			api,
			'GET',
			'/networking/firewalls',
			undefined,
			{
				qs: { page, page_size: 500 },
				headers: filter ? { 'X-Filter': JSON.stringify(filter) } : undefined,
			},
		);
		all.push(...(body.data ?? []));
		if (page >= (body.pages ?? 1)) break;
	}
	return all;
}

export const ruleSetOf = (rules: RuleSet): RuleSet => ({
	inbound: rules.inbound,
	inbound_policy: rules.inbound_policy,
	outbound: rules.outbound,
	outbound_policy: rules.outbound_policy,
});
