import type { ILoadOptionsFunctions, INodeListSearchResult } from 'n8n-workflow';

import { ProviderClient, type ProviderApiSpec } from '../shared/http';
import { listSearch } from '../shared/listSearch';
import { listBgpPrefixes, type BgpPrefix } from './MagicTransit/operations';
import { cloudflareListAll, cloudflareRequest } from './transport';

/** An IP prefix as GET /accounts/{account_id}/addressing/prefixes lists it. */
interface IpPrefix {
	id: string;
	cidr: string;
	description?: string;
	on_demand_enabled?: boolean;
}

/**
 * List-search methods for Cloudflare resource locators: accounts, prefixes of the chosen account,
 * BGP prefixes of the chosen prefix, zones.
 */
export function cloudflareListSearch(api: ProviderApiSpec) {
	return {
		searchAccounts: listSearch({
			api,
			list: async (client) =>
				await cloudflareListAll<{ id: string; name: string }>(client, '/accounts'),
			searchFields: (a) => [a.name, a.id],
			toResult: (a) => ({ name: a.name, value: a.id }),
		}),

		searchPrefixes: listSearch({
			api,
			requires: ['accountId'],
			list: async (client, { accountId }) =>
				await cloudflareListAll<IpPrefix>(client, `/accounts/${accountId}/addressing/prefixes`),
			searchFields: (p) => [p.cidr, p.description, p.id],
			toResult: (p) => ({ name: prefixLabel(p), value: p.id }),
		}),

		searchBgpPrefixes: listSearch({
			api,
			requires: ['accountId', 'prefixId'],
			list: async (client, { accountId, prefixId }) =>
				await listBgpPrefixes(client, { accountId, prefixId }),
			searchFields: (b) => [b.cidr, b.id],
			toResult: (b) => ({ name: `${b.cidr} (${bgpPrefixState(b)})`, value: b.id }),
		}),

		/** Zones are many: Cloudflare filters and pages them, where the other lists are read whole. */
		async searchZones(
			this: ILoadOptionsFunctions,
			filter?: string,
			paginationToken?: string,
		): Promise<INodeListSearchResult> {
			const client = await ProviderClient.create(this, api);
			const page = Number(paginationToken ?? 1);
			const envelope = await cloudflareRequest<Array<{ id: string; name: string }>>(
				client,
				'GET',
				'/zones',
				undefined,
				{
					page,
					per_page: 50,
					...(filter ? { name: `contains:${filter}` } : {}),
				},
			);
			const totalPages = envelope.result_info?.total_pages ?? 1;
			return {
				results: envelope.result.map((z) => ({
					name: z.name,
					value: z.id,
					url: `https://dash.cloudflare.com/?zone=${z.id}`,
				})),
				paginationToken: page < totalPages ? String(page + 1) : undefined,
			};
		},
	};
}

/** "203.0.113.0/24 (edge)", marked where the prefix cannot be advertised on demand. */
function prefixLabel(p: IpPrefix): string {
	const description = p.description ? ` (${p.description})` : '';
	return `${p.cidr}${description}${p.on_demand_enabled ? '' : ' [not on-demand]'}`;
}

function bgpPrefixState(bgpPrefix: BgpPrefix): string {
	const onDemand = bgpPrefix.on_demand;
	const state = onDemand?.advertised ? 'advertised' : 'withdrawn';
	if (!onDemand?.on_demand_enabled) return `${state}, not on-demand`;
	return onDemand.on_demand_locked ? `${state}, locked` : state;
}
