import type { ILoadOptionsFunctions, INodeListSearchResult } from 'n8n-workflow';

import { ProviderClient } from '../shared/http';
import { listPage, pagerDutyApi } from './transport';

interface NamedObject {
	id: string;
	name?: string;
	summary?: string;
	html_url?: string;
}

async function search(
	ctx: ILoadOptionsFunctions,
	collection: 'services' | 'teams',
	filter: string | undefined,
	paginationToken: string | undefined,
): Promise<INodeListSearchResult> {
	const client = await ProviderClient.create(ctx, pagerDutyApi);
	const page = await listPage<NamedObject>(
		client,
		collection,
		filter?.trim() || undefined,
		Number(paginationToken ?? 0),
	);
	return {
		results: page.items.map((item) => ({
			name: item.name ?? item.summary ?? item.id,
			value: item.id,
			url: item.html_url,
		})),
		paginationToken: page.more ? String(page.offset) : undefined,
	};
}

/** PagerDuty searches by name server-side (`query`) and pages with limit/offset. */
export const pagerDutyListSearch = {
	async searchServices(this: ILoadOptionsFunctions, filter?: string, paginationToken?: string) {
		return await search(this, 'services', filter, paginationToken);
	},
	async searchTeams(this: ILoadOptionsFunctions, filter?: string, paginationToken?: string) {
		return await search(this, 'teams', filter, paginationToken);
	},
};
