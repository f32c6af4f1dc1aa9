import { snapshotLabel } from '../../nodes/Linode/operations';
import type { N8nInstance } from '../../scripts/n8nHarness';
import type { LinodeSimulator, SimFirewall } from '../simulators/linode';
import { TOKEN, snapshot, startLinode } from '../unit/linode/fixture';
import { OWNER, listSearch, startN8nWith, stopN8n, testCredential } from './harness';
import { PACKAGE, locator, postJson, webhook, workflow, type WorkflowNode } from './workflows';

const credentials = { linodeMitigationApi: { id: 'lnsim000000001', name: 'Linode (simulator)' } };
let sim: LinodeSimulator;
let web: SimFirewall;
let n8n: N8nInstance;
let before: ReturnType<typeof snapshot>;

function firewallNode(operation: string, extra: Record<string, unknown> = {}): WorkflowNode {
	return {
		name: `Linode ${operation}`,
		type: `${PACKAGE}.linodeFirewall`,
		parameters: { operation, firewallId: locator(String(web.id)), requestOptions: {}, ...extra },
		credentials,
	};
}

beforeAll(async () => {
	({ sim, web } = await startLinode());
	before = snapshot(sim);
	n8n = await startN8nWith({ owner: OWNER }, (instance) => {
		instance.importCredentials([
			{
				...credentials.linodeMitigationApi,
				type: 'linodeMitigationApi',
				data: { accessToken: TOKEN, baseUrl: sim.baseUrl },
			},
		]);
		// Activate and withdraw in different workflows: only the copy kept at Linode connects them.
		instance.importWorkflows([
			workflow('lnLockdown00001', 'Linode lockdown', [
				[
					webhook('Activate', 'ln-activate'),
					firewallNode('activate', { managementSources: '203.0.113.0/24, 2001:db8:1::/48' }),
				],
			]),
			workflow('lnRestore000001', 'Linode restore', [
				[webhook('Withdraw', 'ln-withdraw'), firewallNode('withdraw')],
			]),
		]);
	});
});

afterAll(async () => {
	await stopN8n(n8n);
	await sim?.stop();
});

describe('Linode Cloud Firewall node inside a real n8n', () => {
	it('tests the credential through n8n', async () => {
		const test = (accessToken: string) =>
			testCredential(
				n8n,
				{ ...credentials.linodeMitigationApi, type: 'linodeMitigationApi' },
				{ accessToken, baseUrl: sim.baseUrl },
			);
		expect(await test(TOKEN)).toMatchObject({ status: 'OK' });
		expect(await test('wrong-token')).toMatchObject({ status: 'Error' });
	});

	it('locks down from one workflow and keeps the original rules at Linode', async () => {
		const { status, json } = await postJson(`${n8n.url}/webhook/ln-activate`);
		expect(status).toBe(200);
		expect(json).toEqual([
			expect.objectContaining({ provider: 'linodeFirewall', active: true, changed: true }),
		]);
		expect(web.rules).toMatchObject({
			inbound_policy: 'DROP',
			inbound: [
				expect.objectContaining({
					addresses: { ipv4: ['203.0.113.0/24'], ipv6: ['2001:db8:1::/48'] },
				}),
			],
		});
		expect([...sim.firewalls.values()].some((f) => f.label === snapshotLabel(web.id))).toBe(true);
	});

	it('withdraws from another workflow, through a rate limit, and every rule and policy is back', async () => {
		sim.inject({
			method: 'PUT',
			response: {
				status: 429,
				headers: { 'retry-after': '1' },
				body: { errors: [{ reason: 'Too many requests' }] },
			},
		});
		const { status, json } = await postJson(`${n8n.url}/webhook/ln-withdraw`);
		expect(status).toBe(200);
		expect(json).toEqual([
			expect.objectContaining({ provider: 'linodeFirewall', active: false, changed: true }),
		]);
		expect(snapshot(sim)).toEqual(before);
	});

	it("lists the account's firewalls for the editor's Firewall picker, filtered by what the user types", async () => {
		const search = (filter?: string) =>
			listSearch(n8n, {
				nodeType: 'linodeFirewall',
				methodName: 'searchFirewalls',
				parameter: 'firewallId',
				credentials,
				filter,
			});
		expect((await search()).map((f) => f.value)).toContain(String(web.id));
		expect(await search('web-pr')).toEqual([expect.objectContaining({ value: String(web.id) })]);
	});
});
