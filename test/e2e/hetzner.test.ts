import type { N8nInstance } from '../../scripts/n8nHarness';
import type { HetznerSimulator } from '../simulators/hetzner';
import {
	RULES,
	SERVER,
	SERVER_IP,
	hetznerCredentials,
	startHetzner,
} from '../unit/hetzner/fixture';
import { OWNER, listSearch, startN8nWith, stopN8n, testCredential } from './harness';
import { PACKAGE, locator, postJson, webhook, workflow } from './workflows';

const credentials = {
	hetznerRobotMitigationApi: { id: 'hzsim0000000001', name: 'Hetzner Robot (simulator)' },
};

const robotNode = (operation: string, suffix: string) => ({
	name: `Robot firewall ${suffix}`,
	type: `${PACKAGE}.hetznerRobotFirewall`,
	// The main IPv4, as users of the seed product enter it.
	parameters: { operation, server: locator(SERVER_IP), requestOptions: {} },
	credentials,
});

let sim: HetznerSimulator;
let n8n: N8nInstance;

beforeAll(async () => {
	sim = await startHetzner();
	n8n = await startN8nWith({ owner: OWNER }, (instance) => {
		instance.importCredentials([
			{
				...credentials.hetznerRobotMitigationApi,
				type: 'hetznerRobotMitigationApi',
				data: hetznerCredentials(sim),
			},
		]);
		instance.importWorkflows([
			workflow('hzMitigation0001', 'Hetzner mitigation', [
				[webhook('Activate', 'hz-activate'), robotNode('activate', 'on')],
				[webhook('Withdraw', 'hz-withdraw'), robotNode('withdraw', 'off')],
				[webhook('Status', 'hz-status'), robotNode('getStatus', 'status')],
			]),
		]);
	});
});

afterAll(async () => {
	await stopN8n(n8n);
	await sim?.stop();
});

describe('Hetzner Robot Firewall inside a real n8n', () => {
	it('tests the credential through n8n (Basic auth on /server); a wrong password fails', async () => {
		const test = (data: Record<string, string>) =>
			testCredential(
				n8n,
				{ ...credentials.hetznerRobotMitigationApi, type: 'hetznerRobotMitigationApi' },
				data,
			);
		expect(await test(hetznerCredentials(sim))).toMatchObject({ status: 'OK' });
		expect(await test(hetznerCredentials(sim, { password: 'wrong' }))).toMatchObject({
			status: 'Error',
		});
	});

	it('activates through a 409 FIREWALL_IN_PROCESS, re-sending the form-encoded rules', async () => {
		sim.inject({
			method: 'POST',
			response: {
				status: 409,
				body: { error: { status: 409, code: 'FIREWALL_IN_PROCESS', message: 'in process' } },
			},
		});
		const { status, json } = await postJson(`${n8n.url}/webhook/hz-activate`);
		expect(status).toBe(200);
		expect(json).toEqual([
			expect.objectContaining({
				provider: 'hetznerRobotFirewall',
				active: true,
				changed: true,
				status: 'active',
				inputRules: 4,
			}),
		]);
		expect(sim.firewall(SERVER)).toMatchObject({
			status: 'active',
			filter_ipv6: true,
			whitelist_hos: false,
			rules: RULES,
		});
	});

	it('after an n8n restart, withdraws back to disabled with every rule intact', async () => {
		await n8n.restart();
		const { json } = await postJson(`${n8n.url}/webhook/hz-withdraw`);
		expect(json).toEqual([
			expect.objectContaining({ active: false, changed: true, status: 'disabled' }),
		]);
		expect(sim.firewall(SERVER)).toMatchObject({
			status: 'disabled',
			filter_ipv6: true,
			whitelist_hos: false,
			rules: RULES,
		});
	});

	it('reads status without writing', async () => {
		const writes = sim.writes().length;
		const { json } = await postJson(`${n8n.url}/webhook/hz-status`);
		expect(json).toEqual([
			expect.objectContaining({ active: false, changed: false, serverNumber: SERVER }),
		]);
		expect(sim.writes()).toHaveLength(writes);
	});

	it("lists the Robot servers for the editor's Server picker", async () => {
		const servers = await listSearch(n8n, {
			nodeType: 'hetznerRobotFirewall',
			methodName: 'searchServers',
			parameter: 'server',
			credentials,
		});
		expect(servers.map((s) => s.value)).toContain(String(SERVER));
	});
});
