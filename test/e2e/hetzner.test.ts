import type { N8nInstance } from '../../scripts/n8nHarness';
import type { HetznerSimulator } from '../simulators/hetzner';
import {
	RULES,
	SERVER,
	SERVER_IP,
	hetznerCredentials,
	startHetzner,
} from '../unit/hetzner/fixture';
import { callWebhook, listSearch, startN8nWithWorkflows, stopAll, testCredential } from './harness';
import { locator, packageNode, simulatorCredential, webhook, workflow } from './workflows';

const { credential, credentials } = simulatorCredential(
	'hetznerRobotMitigationApi',
	'hzsim0000000001',
	'Hetzner Robot',
);

const robotNode = (operation: string, suffix: string) =>
	packageNode(
		`Robot firewall ${suffix}`,
		'hetznerRobotFirewall',
		// The main IPv4, as users of the seed product enter it.
		{ operation, server: locator(SERVER_IP) },
		credentials,
	);

let sim: HetznerSimulator;
let n8n: N8nInstance;

beforeAll(async () => {
	sim = await startHetzner();
	n8n = await startN8nWithWorkflows(
		[{ ...credential, data: hetznerCredentials(sim) }],
		[
			workflow('hzMitigation0001', 'Hetzner mitigation', [
				[webhook('Activate', 'hz-activate'), robotNode('activate', 'on')],
				[webhook('Withdraw', 'hz-withdraw'), robotNode('withdraw', 'off')],
				[webhook('Status', 'hz-status'), robotNode('getStatus', 'status')],
			]),
		],
	);
});

afterAll(async () => await stopAll(n8n, sim));

describe('Hetzner Robot Firewall inside a real n8n', () => {
	it('tests the credential in n8n (Basic auth on /server); a wrong password fails', async () => {
		const test = (data: Record<string, string>) => testCredential(n8n, credential, data);
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
		expect(await callWebhook(n8n, 'hz-activate')).toEqual([
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
		expect(await callWebhook(n8n, 'hz-withdraw')).toEqual([
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
		expect(await callWebhook(n8n, 'hz-status')).toEqual([
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
