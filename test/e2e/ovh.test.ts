import type { N8nInstance } from '../../scripts/n8nHarness';
import type { OvhSimulator } from '../simulators/ovh';
import { BLOCK, IP, SINGLE, ovhCredentials, startOvh } from '../unit/ovh/fixture';
import { OWNER, listSearch, startN8nWith, stopN8n, testCredential } from './harness';
import { PACKAGE, locator, postJson, webhook, workflow, type WorkflowNode } from './workflows';

const credentials = { ovhMitigationApi: { id: 'ovhsim000000001', name: 'OVH (simulator)' } };
const SINGLE_IP = SINGLE.split('/')[0];

const ovhNode = (name: string, parameters: Record<string, unknown>): WorkflowNode => ({
	name,
	type: `${PACKAGE}.ovhDdosProtection`,
	parameters: { requestOptions: {}, ...parameters },
	credentials,
});
/**
 * The /24's IP has no firewall: Enable mode creates one. The single IP has the user's own rules:
 * Lockdown.
 */
const blockIp = { ipBlock: locator(BLOCK), ip: IP };
const singleIp = { ipBlock: locator(SINGLE), ip: '' };

let sim: OvhSimulator;
let n8n: N8nInstance;
let singleBefore: ReturnType<OvhSimulator['firewallSnapshot']>;

beforeAll(async () => {
	sim = await startOvh();
	sim.addFirewall(SINGLE, SINGLE_IP, true, [
		{
			sequence: 0,
			action: 'permit',
			protocol: 'tcp',
			source: '192.0.2.0/24',
			destinationPort: 'eq 22',
		},
		{ sequence: 1, action: 'permit', protocol: 'tcp', tcpOption: 'established' },
		{
			sequence: 2,
			action: 'permit',
			protocol: 'udp',
			destinationPort: 'eq 53',
			sourcePort: 'eq 53',
		},
		{ sequence: 19, action: 'deny', protocol: 'ipv4' },
	]);
	singleBefore = sim.firewallSnapshot(SINGLE, SINGLE_IP);
	n8n = await startN8nWith({ owner: OWNER }, (instance) => {
		instance.importCredentials([
			{ ...credentials.ovhMitigationApi, type: 'ovhMitigationApi', data: ovhCredentials(sim) },
		]);
		instance.importWorkflows([
			workflow('ovhActivate00001', 'OVH activate', [
				[
					webhook('Activate', 'ovh-activate'),
					ovhNode('Enable firewall', { operation: 'activate', ...blockIp }),
					ovhNode('Lockdown', {
						operation: 'activate',
						mode: 'lockdown',
						servicePorts: '443/tcp, 27015/udp',
						...singleIp,
					}),
				],
			]),
			workflow('ovhWithdraw00001', 'OVH withdraw', [
				[
					webhook('Withdraw', 'ovh-withdraw'),
					ovhNode('Withdraw block IP', { operation: 'withdraw', ...blockIp }),
					ovhNode('Withdraw single IP', { operation: 'withdraw', ...singleIp }),
				],
				[
					webhook('Restore', 'ovh-restore'),
					ovhNode('Restore single IP', {
						operation: 'withdraw',
						restoreConfiguration: '={{ JSON.stringify($json.body.original) }}',
						...singleIp,
					}),
				],
				[
					webhook('Status', 'ovh-status'),
					ovhNode('Read status', { operation: 'getStatus', ...singleIp }),
				],
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
const activate = async () => await postJson(`${n8n.url}/webhook/ovh-activate`);
const lockdownRules = [
	expect.objectContaining({
		sequence: 0,
		action: 'permit',
		protocol: 'tcp',
		tcpOption: 'established',
	}),
	expect.objectContaining({
		sequence: 1,
		protocol: 'tcp',
		source: 'any',
		destinationPort: 'eq 22',
	}),
	expect.objectContaining({ sequence: 2, protocol: 'tcp', destinationPort: 'eq 443' }),
	expect.objectContaining({ sequence: 3, protocol: 'udp', destinationPort: 'eq 27015' }),
	expect.objectContaining({ sequence: 19, action: 'deny', protocol: 'ipv4' }),
];

describe('OVH DDoS Protection inside a real n8n', () => {
	it('tests the credential: signed with OVH server time; a wrong secret fails', async () => {
		const before = sim.verifiedSignatures;
		expect(await testOvhCredential(ovhCredentials(sim))).toMatchObject({ status: 'OK' });
		expect(sim.verifiedSignatures).toBe(before + 1);
		const bad = await testOvhCredential(ovhCredentials(sim, { applicationSecret: 'wrong-secret' }));
		expect(bad.status).toBe('Error');
	});

	it('activates from one workflow: a new firewall enabled, the other IP locked down', async () => {
		const { status, json } = await activate();
		expect(status).toBe(200);
		expect(json).toEqual([
			expect.objectContaining({
				provider: 'ovhDdosProtection',
				target: SINGLE_IP,
				mode: 'lockdown',
				active: true,
				changed: true,
				pending: false,
			}),
		]);
		expect(sim.firewallSnapshot(BLOCK, IP)).toEqual({ enabled: true, rules: [] });
		expect(sim.firewallSnapshot(SINGLE, SINGLE_IP)).toEqual({
			enabled: true,
			rules: lockdownRules,
		});
		expect(sim.retiredMitigationPosts).toBe(0);
	});

	it('withdraws from another workflow: the firewall gone again, the rules back', async () => {
		const { status, json } = await postJson(`${n8n.url}/webhook/ovh-withdraw`);
		expect(status).toBe(200);
		expect(json).toEqual([
			expect.objectContaining({ target: SINGLE_IP, active: true, changed: true }),
		]);
		expect(sim.firewallSnapshot(BLOCK, IP)).toBe('none');
		expect(sim.firewallSnapshot(SINGLE, SINGLE_IP)).toEqual(singleBefore);
	});

	it('after a restart, restores the rules from the "original" of the activation', async () => {
		const { json } = await activate();
		const [lockdown] = json as Array<{ original: unknown }>;
		await n8n.restart();
		const { status } = await postJson(`${n8n.url}/webhook/ovh-restore`, {
			original: lockdown.original,
		});
		expect(status).toBe(200);
		expect(sim.firewallSnapshot(SINGLE, SINGLE_IP)).toEqual(singleBefore);
	});

	it('reads status without writing', async () => {
		const writes = sim.writes().length;
		const { json } = await postJson(`${n8n.url}/webhook/ovh-status`);
		expect(json).toEqual([
			expect.objectContaining({
				target: SINGLE_IP,
				active: true,
				changed: false,
				firewall: 'enabled',
				antiDdos: expect.objectContaining({ underMitigation: false }),
			}),
		]);
		expect(sim.writes()).toHaveLength(writes);
	});

	it(
		"lists the account's IP blocks for the editor's IP Block picker, every request signed " +
			'inside n8n',
		async () => {
			const blocks = await listSearch(n8n, {
				nodeType: 'ovhDdosProtection',
				methodName: 'searchIpBlocks',
				parameter: 'ipBlock',
				credentials,
			});
			expect(blocks.map((b) => b.value)).toEqual(expect.arrayContaining([BLOCK, SINGLE]));
		},
	);
});
