import type { N8nInstance } from '../../scripts/n8nHarness';
import type { OvhSimulator } from '../simulators/ovh';
import {
	BLOCK,
	IP,
	LOCKDOWN_RULES,
	SINGLE,
	addUsersFirewall,
	ovhCredentials,
	startOvh,
} from '../unit/ovh/fixture';
import { callWebhook, listSearch, startN8nWithWorkflows, stopAll, testCredential } from './harness';
import { locator, packageNode, simulatorCredential, webhook, workflow } from './workflows';

const { credential, credentials } = simulatorCredential(
	'ovhMitigationApi',
	'ovhsim000000001',
	'OVH',
);
const SINGLE_IP = SINGLE.split('/')[0];

const ovhNode = (name: string, parameters: Record<string, unknown>) =>
	packageNode(name, 'ovhDdosProtection', parameters, credentials);
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
	addUsersFirewall(sim, true, SINGLE, SINGLE_IP);
	singleBefore = sim.firewallSnapshot(SINGLE, SINGLE_IP);
	n8n = await startN8nWithWorkflows(
		[{ ...credential, data: ovhCredentials(sim) }],
		[
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
		],
	);
});

afterAll(async () => await stopAll(n8n, sim));

const testOvhCredential = (data: Record<string, string>) => testCredential(n8n, credential, data);
const activate = async () => await callWebhook(n8n, 'ovh-activate');

describe('OVH DDoS Protection inside a real n8n', () => {
	it('tests the credential: signed with OVH server time; a wrong secret fails', async () => {
		const before = sim.verifiedSignatures;
		expect(await testOvhCredential(ovhCredentials(sim))).toMatchObject({ status: 'OK' });
		expect(sim.verifiedSignatures).toBe(before + 1);
		const bad = await testOvhCredential(ovhCredentials(sim, { applicationSecret: 'wrong-secret' }));
		expect(bad.status).toBe('Error');
	});

	it('activates from one workflow: a new firewall enabled, the other IP locked down', async () => {
		expect(await activate()).toEqual([
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
			rules: LOCKDOWN_RULES.map((rule) => expect.objectContaining(rule)),
		});
		expect(sim.retiredMitigationPosts).toBe(0);
	});

	it('withdraws from another workflow: the firewall gone again, the rules back', async () => {
		expect(await callWebhook(n8n, 'ovh-withdraw')).toEqual([
			expect.objectContaining({ target: SINGLE_IP, active: true, changed: true }),
		]);
		expect(sim.firewallSnapshot(BLOCK, IP)).toBe('none');
		expect(sim.firewallSnapshot(SINGLE, SINGLE_IP)).toEqual(singleBefore);
	});

	it('after a restart, restores the rules from the "original" of the activation', async () => {
		const [lockdown] = (await activate()) as Array<{ original: unknown }>;
		await n8n.restart();
		await callWebhook(n8n, 'ovh-restore', { original: lockdown.original });
		expect(sim.firewallSnapshot(SINGLE, SINGLE_IP)).toEqual(singleBefore);
	});

	it('reads status without writing', async () => {
		const writes = sim.writes().length;
		expect(await callWebhook(n8n, 'ovh-status')).toEqual([
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
