import { lockdownName } from '../../nodes/DigitalOcean/operations';
import type { N8nInstance } from '../../scripts/n8nHarness';
import type { DigitalOceanSimulator, SimFirewall } from '../simulators/digitalOcean';
import { TOKEN, lockdownOfWeb, snapshot, startDigitalOcean } from '../unit/digitalOcean/fixture';
import { callWebhook, listSearch, startN8nWithWorkflows, stopAll, testCredential } from './harness';
import {
	locator,
	lockdownAndRestore,
	packageNode,
	simulatorCredential,
	webhook,
} from './workflows';
import { rateLimited } from '../helpers/fixture';

const { credential, credentials } = simulatorCredential(
	'digitalOceanMitigationApi',
	'dosim000000001',
	'DigitalOcean',
);
let sim: DigitalOceanSimulator;
let web: SimFirewall;
let n8n: N8nInstance;
let before: ReturnType<typeof snapshot>;

const firewallNode = (operation: string, extra: Record<string, unknown> = {}) =>
	packageNode(
		`DigitalOcean ${operation}`,
		'digitalOceanFirewall',
		{ operation, firewallId: locator(web.id), ...extra },
		credentials,
	);

beforeAll(async () => {
	({ sim, web } = await startDigitalOcean());
	before = snapshot(sim);
	n8n = await startN8nWithWorkflows(
		[{ ...credential, data: { accessToken: TOKEN, baseUrl: sim.baseUrl } }],
		lockdownAndRestore(
			'do',
			'DigitalOcean',
			firewallNode,
			firewallNode('activate', { managementSources: '203.0.113.0/24, 2001:db8:1::/48' }),
			[webhook('Status', 'do-status'), firewallNode('getStatus')],
		),
	);
});

afterAll(async () => await stopAll(n8n, sim));

describe('DigitalOcean Cloud Firewall node inside a real n8n', () => {
	it('tests the credential through n8n', async () => {
		const test = (accessToken: string) =>
			testCredential(n8n, credential, { accessToken, baseUrl: sim.baseUrl });
		expect(await test(TOKEN)).toMatchObject({ status: 'OK' });
		expect(await test('dop_v1_wrong')).toMatchObject({ status: 'Error' });
	});

	it('locks the firewall down from one workflow, keeping the management sources open', async () => {
		expect(await callWebhook(n8n, 'do-activate')).toEqual([
			expect.objectContaining({ provider: 'digitalOceanFirewall', active: true, changed: true }),
		]);
		const lockdown = [...sim.firewalls.values()].find((f) => f.name === lockdownName(web.id))!;
		expect(lockdown).toMatchObject(lockdownOfWeb());
		expect(sim.firewalls.get(web.id)).toMatchObject({ droplet_ids: [], tags: [] });
	});

	it('after an n8n restart, a second activate changes nothing', async () => {
		await n8n.restart();
		const writes = sim.writes().length;
		expect(await callWebhook(n8n, 'do-activate')).toEqual([
			expect.objectContaining({ active: true, changed: false }),
		]);
		expect(sim.writes()).toHaveLength(writes);
	});

	it('withdraws from another workflow through a rate limit, and the account is exactly as before', async () => {
		// Withdraw re-attaches the original firewall with POST .../droplets (never a whole-firewall PUT).
		sim.inject({
			...rateLimited('POST', { id: 'too_many_requests', message: 'API rate limit exceeded.' }, '1'),
			path: /\/droplets$/,
		});
		expect(await callWebhook(n8n, 'do-withdraw')).toEqual([
			expect.objectContaining({ provider: 'digitalOceanFirewall', active: false, changed: true }),
		]);
		expect(snapshot(sim)).toEqual(before);
		expect(sim.exposures).toEqual([]);
		expect(sim.log.filter((r) => r.status === 429)).toHaveLength(1);
	});

	it('reports status without writing', async () => {
		const writes = sim.writes().length;
		expect(await callWebhook(n8n, 'do-status')).toEqual([
			expect.objectContaining({ active: false, changed: false, state: 'normal' }),
		]);
		expect(sim.writes()).toHaveLength(writes);
	});

	it("lists the account's firewalls for the editor's Firewall picker, filtered by what the user types", async () => {
		const search = (filter?: string) =>
			listSearch(n8n, {
				nodeType: 'digitalOceanFirewall',
				methodName: 'searchFirewalls',
				parameter: 'firewallId',
				credentials,
				filter,
			});
		expect((await search()).map((f) => f.value)).toContain(web.id);
		expect(await search('web-pr')).toEqual([expect.objectContaining({ value: web.id })]);
	});
});
