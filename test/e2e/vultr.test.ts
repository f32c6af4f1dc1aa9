import { lockdownDescription } from '../../nodes/Vultr/operations';
import type { N8nInstance } from '../../scripts/n8nHarness';
import type { SimGroup, VultrSimulator } from '../simulators/vultr';
import { KEY, snapshot, startVultr } from '../unit/vultr/fixture';
import { OWNER, listSearch, startN8nWith, stopN8n, testCredential } from './harness';
import { PACKAGE, locator, postJson, webhook, workflow, type WorkflowNode } from './workflows';

const credentials = { vultrMitigationApi: { id: 'vusim000000001', name: 'Vultr (simulator)' } };
let sim: VultrSimulator;
let web: SimGroup;
let n8n: N8nInstance;
let before: ReturnType<typeof snapshot>;

function groupNode(operation: string): WorkflowNode {
	return {
		name: `Vultr ${operation}`,
		type: `${PACKAGE}.vultrFirewall`,
		parameters: { operation, firewallGroupId: locator(web.id), requestOptions: {} },
		credentials,
	};
}

beforeAll(async () => {
	({ sim, web } = await startVultr());
	before = snapshot(sim);
	n8n = await startN8nWith({ owner: OWNER }, (instance) => {
		instance.importCredentials([
			{
				...credentials.vultrMitigationApi,
				type: 'vultrMitigationApi',
				data: { apiKey: KEY, baseUrl: sim.baseUrl },
			},
		]);
		// Activate and withdraw in different workflows: only the lockdown group at Vultr connects them.
		instance.importWorkflows([
			workflow('vuLockdown00001', 'Vultr lockdown', [
				[webhook('Activate', 'vu-activate'), groupNode('activate')],
			]),
			workflow('vuRestore000001', 'Vultr restore', [
				[webhook('Withdraw', 'vu-withdraw'), groupNode('withdraw')],
			]),
		]);
	});
});

afterAll(async () => {
	await stopN8n(n8n);
	await sim?.stop();
});

describe('Vultr Firewall node inside a real n8n', () => {
	it('tests the credential through n8n', async () => {
		const test = (apiKey: string) =>
			testCredential(
				n8n,
				{ ...credentials.vultrMitigationApi, type: 'vultrMitigationApi' },
				{ apiKey, baseUrl: sim.baseUrl },
			);
		expect(await test(KEY)).toMatchObject({ status: 'OK' });
		expect(await test('WRONGKEY')).toMatchObject({ status: 'Error' });
	});

	it('moves the instances to a lockdown group from one workflow', async () => {
		const { status, json } = await postJson(`${n8n.url}/webhook/vu-activate`);
		expect(status).toBe(200);
		expect(json).toEqual([
			expect.objectContaining({ provider: 'vultrFirewall', active: true, changed: true }),
		]);
		const lockdown = [...sim.groups.values()].find(
			(g) => g.description === lockdownDescription(web.id),
		)!;
		expect(
			[...sim.instances.values()].filter((i) => i.firewall_group_id === lockdown.id),
		).toHaveLength(2);
	});

	it('withdraws from another workflow, through a rate limit: groups, rules and memberships as before', async () => {
		sim.inject({
			method: 'PATCH',
			response: { status: 429, body: { error: 'Rate limit exceeded.', status: 429 } },
		});
		const { status, json } = await postJson(`${n8n.url}/webhook/vu-withdraw`);
		expect(status).toBe(200);
		expect(json).toEqual([
			expect.objectContaining({ provider: 'vultrFirewall', active: false, changed: true }),
		]);
		expect(snapshot(sim)).toEqual(before);
		expect(sim.exposures).toEqual([]);
	});

	it("lists the account's firewall groups for the editor's picker, filtered by what the user types", async () => {
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
	});
});
