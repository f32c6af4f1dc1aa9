import { lockdownDescription } from '../../nodes/Vultr/operations';
import type { N8nInstance } from '../../scripts/n8nHarness';
import type { SimGroup, VultrSimulator } from '../simulators/vultr';
import { KEY, snapshot, startVultr } from '../unit/vultr/fixture';
import { callWebhook, listSearch, startN8nWithWorkflows, stopAll, testCredential } from './harness';
import { locator, lockdownAndRestore, packageNode, simulatorCredential } from './workflows';

const { credential, credentials } = simulatorCredential(
	'vultrMitigationApi',
	'vusim000000001',
	'Vultr',
);
let sim: VultrSimulator;
let web: SimGroup;
let n8n: N8nInstance;
let before: ReturnType<typeof snapshot>;

const groupNode = (operation: string) =>
	packageNode(
		`Vultr ${operation}`,
		'vultrFirewall',
		{ operation, firewallGroupId: locator(web.id) },
		credentials,
	);

beforeAll(async () => {
	({ sim, web } = await startVultr());
	before = snapshot(sim);
	n8n = await startN8nWithWorkflows(
		[{ ...credential, data: { apiKey: KEY, baseUrl: sim.baseUrl } }],
		// Only the lockdown group at Vultr connects the two.
		lockdownAndRestore('vu', 'Vultr', groupNode),
	);
});

afterAll(async () => await stopAll(n8n, sim));

describe('Vultr Firewall node inside a real n8n', () => {
	it('tests the credential through n8n', async () => {
		const test = (apiKey: string) =>
			testCredential(n8n, credential, { apiKey, baseUrl: sim.baseUrl });
		expect(await test(KEY)).toMatchObject({ status: 'OK' });
		expect(await test('WRONGKEY')).toMatchObject({ status: 'Error' });
	});

	it('moves the instances to a lockdown group from one workflow', async () => {
		expect(await callWebhook(n8n, 'vu-activate')).toEqual([
			expect.objectContaining({ provider: 'vultrFirewall', active: true, changed: true }),
		]);
		const lockdown = [...sim.groups.values()].find(
			(g) => g.description === lockdownDescription(web.id),
		)!;
		expect(
			[...sim.instances.values()].filter((i) => i.firewall_group_id === lockdown.id),
		).toHaveLength(2);
	});

	it(
		'withdraws from another workflow, through a rate limit: ' +
			'groups, rules and memberships as before',
		async () => {
			sim.inject({
				method: 'PATCH',
				response: { status: 429, body: { error: 'Rate limit exceeded.', status: 429 } },
			});
			expect(await callWebhook(n8n, 'vu-withdraw')).toEqual([
				expect.objectContaining({ provider: 'vultrFirewall', active: false, changed: true }),
			]);
			expect(snapshot(sim)).toEqual(before);
			expect(sim.exposures).toEqual([]);
		},
	);

	it(
		"lists the account's firewall groups for the editor's " +
			'picker, filtered by what the user types',
		async () => {
			const search = (filter?: string) =>
				listSearch(n8n, {
					nodeType: 'vultrFirewall',
					methodName: 'searchFirewallGroups',
					parameter: 'firewallGroupId',
					credentials,
					filter,
				});
			expect((await search()).map((g) => g.value)).toContain(web.id);
			expect(await search('web-pr')).toEqual([expect.objectContaining({ value: web.id })]);
		},
	);
});
