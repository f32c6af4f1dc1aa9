import type { N8nInstance } from '../../scripts/n8nHarness';
import type { CloudflareSimulator } from '../simulators/cloudflare';
import { ACCOUNT, PREFIX, TOKEN, ZONE, startCloudflare } from '../unit/cloudflare/fixture';
import { cloudflareCredentials as credentials, importCloudflareMitigation } from './cloudflareWorkflow';
import { OWNER, startN8nWith, stopN8n } from './harness';
import { postJson } from './workflows';

let sim: CloudflareSimulator;
let n8n: N8nInstance;

beforeAll(async () => {
	sim = await startCloudflare();
	n8n = await startN8nWith({ owner: OWNER }, (instance) => {
		importCloudflareMitigation(instance, sim);
	});
});

afterAll(async () => {
	await stopN8n(n8n);
	await sim?.stop();
});

describe('Cloudflare nodes inside a real n8n', () => {
	it('loads the package as a community package and tests the credential through n8n', async () => {
		const api = await n8n.login();
		const response = await api('/rest/credentials/test', {
			method: 'POST',
			body: JSON.stringify({
				credentials: { id: credentials.cloudflareMitigationApi.id, name: 'Cloudflare (simulator)', type: 'cloudflareMitigationApi', data: { apiToken: TOKEN, baseUrl: sim.baseUrl, accountId: '' } },
			}),
		});
		expect(await response.json()).toMatchObject({ data: { status: 'OK' } });
		const bad = await api('/rest/credentials/test', {
			method: 'POST',
			body: JSON.stringify({
				credentials: { id: credentials.cloudflareMitigationApi.id, name: 'bad', type: 'cloudflareMitigationApi', data: { apiToken: 'wrong', baseUrl: sim.baseUrl, accountId: '' } },
			}),
		});
		expect(await bad.json()).toMatchObject({ data: { status: 'Error' } });
	});

	it('advertises the prefix and turns Under Attack on, from a webhook', async () => {
		const { status, json } = await postJson(`${n8n.url}/webhook/cf-activate`);
		expect(status).toBe(200);
		expect(json).toEqual([expect.objectContaining({ provider: 'cloudflareUnderAttack', active: true, changed: true, previousLevel: 'high' })]);
		expect(sim.accounts.get(ACCOUNT)!.prefixes.get(PREFIX)!.advertised).toBe(true);
		expect(sim.zones.get(ZONE)!.security_level).toBe('under_attack');
	});

	it('after an n8n restart, withdraws and restores the original level (high) from static data', async () => {
		await n8n.restart();
		sim.inject({ method: 'PATCH', path: /security_level/, response: { status: 429, headers: { 'retry-after': '1' }, body: { success: false, errors: [{ code: 971, message: 'rate limited' }] } } });
		const { status, json } = await postJson(`${n8n.url}/webhook/cf-withdraw`);
		expect(status).toBe(200);
		expect(json).toEqual([expect.objectContaining({ provider: 'cloudflareUnderAttack', active: false, changed: true, securityLevel: 'high' })]);
		expect(sim.accounts.get(ACCOUNT)!.prefixes.get(PREFIX)!.advertised).toBe(false);
		expect(sim.zones.get(ZONE)!.security_level).toBe('high');
		expect(sim.log.filter((r) => r.method === 'PATCH' && r.status === 429)).toHaveLength(1);
	});

	it('reads status without writing', async () => {
		const writes = sim.writes().length;
		const { json } = await postJson(`${n8n.url}/webhook/cf-status`);
		expect(json).toEqual([expect.objectContaining({ active: false, changed: false, securityLevel: 'high' })]);
		expect(sim.writes()).toHaveLength(writes);
	});
});
