import type { ILoadOptionsFunctions } from 'n8n-workflow';

import { listSearch, matchesSearch } from '../../../nodes/shared/listSearch';

interface Firewall {
	id: number;
	label: string;
}

const FIREWALLS: Firewall[] = [
	{ id: 11, label: 'web' },
	{ id: 12, label: 'Database' },
	{ id: 13, label: 'n8n-lockdown-web' },
];

/** A list-search context whose node has the given current parameters. */
function context(current: Record<string, unknown>) {
	return {
		getCredentials: async () => ({}),
		getCurrentNodeParameter: (name: string) => current[name],
	} as unknown as ILoadOptionsFunctions;
}

function searchFirewalls(listed: Array<Record<string, string>>) {
	return listSearch<Firewall>({
		api: {
			provider: 'Example',
			credentialType: 'exampleApi',
			defaultBaseUrl: 'http://127.0.0.1:9',
			describeFailure: () => ({ message: 'unused' }),
		},
		requires: ['accountId'],
		list: async (_client, current) => {
			listed.push(current);
			return FIREWALLS;
		},
		hide: (f) => f.label.startsWith('n8n-lockdown-'),
		searchFields: (f) => [f.label, f.id],
		toResult: (f) => ({ name: f.label, value: String(f.id), url: `https://example.test/${f.id}` }),
	});
}

describe('listSearch: one resource-locator list for every provider', () => {
	it('lists every item but the hidden ones, with the parameters it depends on', async () => {
		const listed: Array<Record<string, string>> = [];
		const found = await searchFirewalls(listed).call(context({ accountId: ' acc-1 ' }));
		expect(found.results).toEqual([
			{ name: 'web', value: '11', url: 'https://example.test/11' },
			{ name: 'Database', value: '12', url: 'https://example.test/12' },
		]);
		expect(listed).toEqual([{ accountId: 'acc-1' }]);
	});

	it('filters on any search field, ignoring case', async () => {
		const search = searchFirewalls([]);
		const byLabel = await search.call(context({ accountId: 'acc-1' }), 'DATA');
		const byId = await search.call(context({ accountId: 'acc-1' }), '11');
		expect(byLabel.results.map((r) => r.value)).toEqual(['12']);
		expect(byId.results.map((r) => r.value)).toEqual(['11']);
	});

	it('is empty without a request while a parameter it depends on is empty', async () => {
		const listed: Array<Record<string, string>> = [];
		const found = await searchFirewalls(listed).call(context({ accountId: '  ' }));
		expect(found.results).toEqual([]);
		expect(listed).toEqual([]);
	});
});

describe('matchesSearch', () => {
	it('matches everything on an empty or blank filter', () => {
		expect(matchesSearch(undefined, 'web')).toBe(true);
		expect(matchesSearch('  ', 'web')).toBe(true);
	});

	it('matches across fields, skipping missing ones', () => {
		expect(matchesSearch('edge 203', 'edge', undefined, '203.0.113.0/24')).toBe(true);
		expect(matchesSearch('198.51', 'edge', undefined, '203.0.113.0/24')).toBe(false);
	});
});
