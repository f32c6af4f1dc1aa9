import type {
	ILoadOptionsFunctions,
	INodeListSearchItems,
	INodeListSearchResult,
} from 'n8n-workflow';

import { ProviderClient, type ProviderApiSpec } from '../shared/http';
import { matchesSearch } from '../shared/properties';
import { listBgpPrefixes, type BgpPrefix } from './MagicTransit/operations';
import { cloudflareListAll, cloudflareRequest } from './transport';

function currentValue(ctx: ILoadOptionsFunctions, name: string): string {
	const value = ctx.getCurrentNodeParameter(name, { extractValue: true });
	return typeof value === 'string' ? value.trim() : '';
}

/**
 * List-search methods for Cloudflare resource locators: accounts, prefixes of the chosen account, BGP prefixes of the
 * chosen prefix, zones.
 */
export function cloudflareListSearch(api: ProviderApiSpec) {
	return {
		async searchAccounts(
			this: ILoadOptionsFunctions,
			filter?: string,
		): Promise<INodeListSearchResult> {
			const client = await ProviderClient.create(this, api);
			const accounts = await cloudflareListAll<{ id: string; name: string }>(client, '/accounts');
			return {
				results: accounts
					.filter((a) => matchesSearch(filter, a.name, a.id))
					.map((a) => ({ name: a.name, value: a.id })),
			};
		},

		async searchPrefixes(
			this: ILoadOptionsFunctions,
			filter?: string,
		): Promise<INodeListSearchResult> {
			const accountId = currentValue(this, 'accountId');
			if (!accountId) return { results: [] };
			const client = await ProviderClient.create(this, api);
			const prefixes = await cloudflareListAll<{
				id: string;
				cidr: string;
				description?: string;
				on_demand_enabled?: boolean;
			}>(client, `/accounts/${accountId}/addressing/prefixes`);
			const results: INodeListSearchItems[] = prefixes
				.filter((p) => matchesSearch(filter, p.cidr, p.description, p.id))
				.map((p) => ({
					name: `${p.cidr}${p.description ? ` (${p.description})` : ''}${p.on_demand_enabled ? '' : ' [not on-demand]'}`,
					value: p.id,
				}));
			return { results };
		},

		async searchBgpPrefixes(
			this: ILoadOptionsFunctions,
			filter?: string,
		): Promise<INodeListSearchResult> {
			const accountId = currentValue(this, 'accountId');
			const prefixId = currentValue(this, 'prefixId');
			if (!accountId || !prefixId) return { results: [] };
			const client = await ProviderClient.create(this, api);
			const results: INodeListSearchItems[] = (
				await listBgpPrefixes(client, { accountId, prefixId })
			)
				.filter((b) => matchesSearch(filter, b.cidr, b.id))
				.map((b) => ({ name: `${b.cidr} (${bgpPrefixState(b)})`, value: b.id }));
			return { results };
		},

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

function bgpPrefixState(bgpPrefix: BgpPrefix): string {
	const onDemand = bgpPrefix.on_demand;
	const state = onDemand?.advertised ? 'advertised' : 'withdrawn';
	if (!onDemand?.on_demand_enabled) return `${state}, not on-demand`;
	return onDemand.on_demand_locked ? `${state}, locked` : state;
}
