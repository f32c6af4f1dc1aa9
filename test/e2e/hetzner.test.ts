import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { N8nInstance, buildAndPack, installPackage } from '../../scripts/n8nHarness';
import type { HetznerSimulator } from '../simulators/hetzner';
import { RULES, SERVER, SERVER_IP, hetznerCredentials, startHetzner } from '../unit/hetzner/fixture';
import { PACKAGE, postJson, webhook, workflow } from './workflows';

const credentials = { hetznerRobotMitigationApi: { id: 'hzsim0000000001', name: 'Hetzner Robot (simulator)' } };
const owner = { email: 'operator@example.test', password: 'Local-test-1' };

const robotNode = (operation: string, suffix: string) => ({
	name: `Robot firewall ${suffix}`,
	type: `${PACKAGE}.hetznerRobotFirewall`,
	// The main IPv4, as users of the seed product enter it.
	parameters: { operation, server: { __rl: true, mode: 'id', value: SERVER_IP }, requestOptions: {} },
	credentials,
});

let sim: HetznerSimulator;
let n8n: N8nInstance;

beforeAll(async () => {
	sim = await startHetzner();
	const tarball = buildAndPack(mkdtempSync(join(tmpdir(), 'ddos-pack-')));
	n8n = await new N8nInstance({ owner }).prepare();
	installPackage(n8n.userFolder, tarball);
	n8n.importCredentials([{ ...credentials.hetznerRobotMitigationApi, type: 'hetznerRobotMitigationApi', data: hetznerCredentials(sim) }]);
	n8n.importWorkflows([
		workflow('hzMitigation0001', 'Hetzner mitigation', [
			[webhook('Activate', 'hz-activate'), robotNode('activate', 'on')],
			[webhook('Withdraw', 'hz-withdraw'), robotNode('withdraw', 'off')],
			[webhook('Status', 'hz-status'), robotNode('getStatus', 'status')],
		]),
	]);
	await n8n.start();
});

afterAll(async () => {
	await n8n?.stop();
	await sim?.stop();
	if (process.env.KEEP_N8N !== '1') n8n?.cleanup();
});

describe('Hetzner Robot Firewall inside a real n8n', () => {
	it('tests the credential through n8n (Basic auth on /server); a wrong password fails', async () => {
		const api = await n8n.login();
		const test = async (data: Record<string, string>) =>
			(await (
				await api('/rest/credentials/test', {
					method: 'POST',
					body: JSON.stringify({ credentials: { ...credentials.hetznerRobotMitigationApi, type: 'hetznerRobotMitigationApi', data } }),
				})
			).json()) as { data: { status: string } };
		expect(await test(hetznerCredentials(sim))).toMatchObject({ data: { status: 'OK' } });
		expect(await test(hetznerCredentials(sim, { password: 'wrong' }))).toMatchObject({ data: { status: 'Error' } });
	});

	it('activates through a 409 FIREWALL_IN_PROCESS, re-sending the form-encoded rules', async () => {
		sim.inject({ method: 'POST', response: { status: 409, body: { error: { status: 409, code: 'FIREWALL_IN_PROCESS', message: 'in process' } } } });
		const { status, json } = await postJson(`${n8n.url}/webhook/hz-activate`);
		expect(status).toBe(200);
		expect(json).toEqual([expect.objectContaining({ provider: 'hetznerRobotFirewall', active: true, changed: true, status: 'active', inputRules: 4 })]);
		expect(sim.firewall(SERVER)).toMatchObject({ status: 'active', filter_ipv6: true, whitelist_hos: false, rules: RULES });
	});

	it('after an n8n restart, withdraws back to disabled with every rule intact', async () => {
		await n8n.restart();
		const { json } = await postJson(`${n8n.url}/webhook/hz-withdraw`);
		expect(json).toEqual([expect.objectContaining({ active: false, changed: true, status: 'disabled' })]);
		expect(sim.firewall(SERVER)).toMatchObject({ status: 'disabled', filter_ipv6: true, whitelist_hos: false, rules: RULES });
	});

	it('reads status without writing', async () => {
		const writes = sim.writes().length;
		const { json } = await postJson(`${n8n.url}/webhook/hz-status`);
		expect(json).toEqual([expect.objectContaining({ active: false, changed: false, serverNumber: SERVER })]);
		expect(sim.writes()).toHaveLength(writes);
	});
});
