import type { N8nInstance } from '../../scripts/n8nHarness';
import type { OvhSimulator } from '../simulators/ovh';
import { BLOCK, IP, SINGLE, ovhCredentials, startOvh } from '../unit/ovh/fixture';
import { OWNER, listSearch, startN8nWith, stopN8n, testCredential } from './harness';
import { PACKAGE, locator, postJson, webhook, workflow, type WorkflowNode } from './workflows';

const credentials = { ovhMitigationApi: { id: 'ovhsim000000001', name: 'OVH (simulator)' } };
const SINGLE_IP = SINGLE.split('/')[0];

/** Two OVH nodes: an IP of the /24 (off before), and a single-IP block the user put on permanent mitigation by hand. */
function ovhNodes(operation: string, suffix: string): WorkflowNode[] {
	return [
		{
			name: `OVH block ${suffix}`,
			type: `${PACKAGE}.ovhDdosProtection`,
			parameters: { operation, ipBlock: locator(BLOCK), ip: IP, requestOptions: {} },
			credentials,
		},
		{
			name: `OVH single ${suffix}`,
			type: `${PACKAGE}.ovhDdosProtection`,
			parameters: { operation, ipBlock: locator(SINGLE), ip: '', requestOptions: {} },
			credentials,
		},
	];
}

let sim: OvhSimulator;
let n8n: N8nInstance;

beforeAll(async () => {
	sim = await startOvh();
	sim.blocks.get(SINGLE)!.mitigations.set(SINGLE_IP, {
		ipOnMitigation: SINGLE_IP,
		auto: false,
		permanent: true,
		state: 'ok',
		pendingReads: 0,
	});
	n8n = await startN8nWith({ owner: OWNER }, (instance) => {
		instance.importCredentials([
			{ ...credentials.ovhMitigationApi, type: 'ovhMitigationApi', data: ovhCredentials(sim) },
		]);
		instance.importWorkflows([
			workflow('ovhMitigation001', 'OVH mitigation', [
				[webhook('Activate', 'ovh-activate'), ...ovhNodes('activate', 'on')],
				[webhook('Withdraw', 'ovh-withdraw'), ...ovhNodes('withdraw', 'off')],
				[webhook('Status', 'ovh-status'), ...ovhNodes('getStatus', 'status')],
			]),
		]);
	});
});

afterAll(async () => {
	await stopN8n(n8n);
	await sim?.stop();
});

const testOvhCredential = (data: Record<string, string>) =>
	testCredential(n8n, { ...credentials.ovhMitigationApi, type: 'ovhMitigationApi' }, data);

describe('OVH DDoS Protection inside a real n8n', () => {
	it('tests the credential through n8n: signed with OVH server time, and a wrong secret fails', async () => {
		const before = sim.verifiedSignatures;
		expect(await testOvhCredential(ovhCredentials(sim))).toMatchObject({ status: 'OK' });
		expect(sim.verifiedSignatures).toBe(before + 1);
		const bad = await testOvhCredential(ovhCredentials(sim, { applicationSecret: 'wrong-secret' }));
		expect(bad.status).toBe('Error');
	});

	it('puts the IP on permanent mitigation from a webhook, every request signed inside n8n', async () => {
		const logStart = sim.log.length;
		const { status, json } = await postJson(`${n8n.url}/webhook/ovh-activate`);
		expect(status).toBe(200);
		expect(json).toEqual([
			expect.objectContaining({
				provider: 'ovhDdosProtection',
				target: SINGLE_IP,
				active: true,
				changed: false,
			}),
		]);
		expect(sim.mitigation(BLOCK, IP)).toMatchObject({ permanent: true });
		// Accepted signatures only: the one 404 is "not on mitigation" for the /24 IP.
		expect(
			sim.log
				.slice(logStart)
				.map((r) => r.status)
				.filter((s) => s >= 400),
		).toEqual([404]);
		expect(sim.writes()).toEqual([
			{ method: 'POST', path: `/ip/${BLOCK}/mitigation`, status: 200 },
		]);
	});

	it('after an n8n restart, withdraws only what it activated (static data), through a 429', async () => {
		await n8n.restart();
		sim.inject({
			method: 'DELETE',
			response: {
				status: 429,
				headers: { 'retry-after': '1' },
				body: { message: 'Too many requests' },
			},
		});
		const { status, json } = await postJson(`${n8n.url}/webhook/ovh-withdraw`);
		expect(status).toBe(200);
		expect(json).toEqual([
			expect.objectContaining({ target: SINGLE_IP, active: true, changed: false }),
		]);
		expect(sim.mitigation(BLOCK, IP)).toMatchObject({ state: 'removalPending' });
		expect(sim.mitigation(SINGLE, SINGLE_IP)).toMatchObject({ permanent: true, state: 'ok' });
		expect(sim.log.filter((r) => r.method === 'DELETE').map((r) => r.status)).toEqual([429, 200]);
	});

	it('reads status without writing', async () => {
		const writes = sim.writes().length;
		const { json } = await postJson(`${n8n.url}/webhook/ovh-status`);
		expect(json).toEqual([
			expect.objectContaining({ target: SINGLE_IP, active: true, changed: false }),
		]);
		expect(sim.writes()).toHaveLength(writes);
	});

	it("lists the account's IP blocks for the editor's IP Block picker, every request signed inside n8n", async () => {
		const blocks = await listSearch(n8n, {
			nodeType: 'ovhDdosProtection',
			methodName: 'searchIpBlocks',
			parameter: 'ipBlock',
			credentials,
		});
		expect(blocks.map((b) => b.value)).toEqual(expect.arrayContaining([BLOCK, SINGLE]));
	});
});
