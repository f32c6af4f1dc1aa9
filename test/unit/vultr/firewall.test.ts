import { lockdownDescription } from '../../../nodes/Vultr/operations';
import { jsonOf, listSearch, runNode, separateExecutions } from '../../helpers/runNode';
import { operationParams, rateLimited, rl, simulatorPerTest } from '../../helpers/fixture';
import type { SimGroup, VultrSimulator } from '../../simulators/vultr';
import { KEY, snapshot, startVultr, vultrRun } from './fixture';
import { restartableNode } from '../../simulators/restart';
import {
	type LockdownUnderTest,
	failThenRetry,
	failingBeforeAndAfter,
} from '../../helpers/lockdown';

/** A fresh node per test; `node.restart()` plays an n8n restart (no process-wide records). */
const node = restartableNode('Vultr/VultrFirewall.node', 'VultrFirewall');
let sim: VultrSimulator;
let web: SimGroup;

simulatorPerTest(async () => {
	({ sim, web } = await startVultr());
	return sim;
});

const params = operationParams(() => ({ firewallGroupId: rl(web.id) }));
const { run, failure } = separateExecutions(
	() => node,
	(parameters, extra) => vultrRun(sim, parameters, extra),
	params,
);
const lockdown = () =>
	[...sim.groups.values()].find((g) => g.description === lockdownDescription(web.id));
const membersOf = (groupId: string) =>
	[...sim.instances.values()].filter((i) => i.firewall_group_id === groupId).map((i) => i.label);

describe('Vultr firewall group lockdown', () => {
	it('reports status: not locked down, the instances in the group', async () => {
		expect(await run('getStatus')).toMatchObject({
			provider: 'vultrFirewall',
			target: web.id,
			active: false,
			changed: false,
			state: 'normal',
			attached: [
				expect.objectContaining({ label: 'web-1' }),
				expect.objectContaining({ label: 'web-2' }),
			],
			warnings: [],
		});
	});

	it('activate, activate again, withdraw in different workflows after restarts: rules (with their ids) and memberships are back', async () => {
		const before = snapshot(sim);
		const on = await run('activate');
		expect(on).toMatchObject({ active: true, changed: true, state: 'locked down' });
		expect(on.original).toEqual({
			instance_ids: [
				'a1b2c3d4-0000-4000-8000-000000000001',
				'a1b2c3d4-0000-4000-8000-000000000002',
			],
		});
		expect(lockdown()!.rules).toEqual([
			expect.objectContaining({
				ip_type: 'v4',
				protocol: 'tcp',
				port: '22',
				subnet: '203.0.113.0',
				subnet_size: 24,
			}),
			expect.objectContaining({
				ip_type: 'v6',
				protocol: 'tcp',
				port: '22',
				subnet: '2001:db8:1::',
				subnet_size: 48,
			}),
		]);
		// Management Sources left empty: the office ranges the group already allowed on port 22, not anywhere.
		expect(on.managementAccess).toEqual({
			sources: ['203.0.113.0/24', '2001:db8:1::/48'],
			ports: ['22'],
			from: 'the sources the firewall already allowed on the management ports',
		});
		expect(membersOf(lockdown()!.id)).toEqual(['web-1', 'web-2']);
		expect(membersOf(web.id)).toEqual([]);

		node.restart();
		const writes = sim.writes().length;
		expect(await run('activate', { managementPorts: '2222' })).toMatchObject({
			active: true,
			changed: false,
		});
		expect(sim.writes()).toHaveLength(writes);

		node.restart();
		expect(await run('withdraw')).toMatchObject({
			active: false,
			changed: true,
			restoredFrom: expect.stringContaining('lockdown group'),
		});
		expect(snapshot(sim)).toEqual(before);
		expect(sim.exposures).toEqual([]);
		expect(await run('withdraw')).toMatchObject({ changed: false });
	});

	it('turns management ranges into Vultr colon ranges, per source and port', async () => {
		await run('activate', {
			managementSources: '198.51.100.0/24, 2001:db8:aa::/48',
			managementPorts: '22, 8443-8444',
		});
		expect(
			lockdown()!.rules.map((r) => `${r.ip_type} ${r.subnet}/${r.subnet_size} ${r.port}`),
		).toEqual([
			'v4 198.51.100.0/24 22',
			'v4 198.51.100.0/24 8443:8444',
			'v6 2001:db8:aa::/48 22',
			'v6 2001:db8:aa::/48 8443:8444',
		]);
	});

	it('refuses bad lockdown options before any request', async () => {
		expect((await failure('activate', { managementSources: 'office' })).message).toMatch(
			/management sources/,
		);
		expect(sim.log).toHaveLength(0);
	});

	it('follows cursor pages and stays under 30 requests per second with many instances', async () => {
		for (let i = 0; i < 40; i++) {
			sim.addInstance({
				id: `b0000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
				label: `node-${i}`,
				main_ip: `192.0.2.${100 + i}`,
				firewall_group_id: web.id,
			});
		}
		for (let i = 0; i < 520; i++) sim.addGroup({ description: `spare-${i}` });
		const before = snapshot(sim);
		await run('activate');
		expect(membersOf(web.id)).toEqual([]);
		await run('withdraw');
		expect(snapshot(sim)).toEqual(before);
		expect(sim.log.filter((r) => r.status === 429)).toEqual([]);
	});

	describe('a failure at any step is reported with the provider state, and a retry completes without losing anything', () => {
		const serverError = { status: 500, body: { error: 'Internal error', status: 500 } };
		const writes = [
			{ operation: 'activate', method: 'POST', path: /^\/firewalls$/ },
			{ operation: 'activate', method: 'POST', path: /\/rules$/ },
			{ operation: 'activate', method: 'PATCH', path: /000000000001$/ },
			{ operation: 'activate', method: 'PATCH', path: /000000000002$/ },
			{ operation: 'withdraw', method: 'PATCH', path: /000000000001$/ },
			{ operation: 'withdraw', method: 'PATCH', path: /000000000002$/ },
			{ operation: 'withdraw', method: 'DELETE', path: /^\/firewalls\/[^/]+$/ },
		];
		const groups = (): LockdownUnderTest<VultrSimulator> => ({
			sim,
			snapshot,
			run,
			failure,
			restart: () => node.restart(),
			lockdowns: () =>
				[...sim.groups.values()].filter((g) => g.description === lockdownDescription(web.id)),
			lockedDown: () => {
				expect(membersOf(web.id)).toEqual([]);
				expect(lockdown()!.rules).toHaveLength(2);
			},
			restored: () => expect(sim.exposures).toEqual([]),
		});

		it.each(failingBeforeAndAfter(writes))(
			'$operation: $method $path fails (reply lost: $afterHandler)',
			(step) => failThenRetry(groups(), step, serverError),
		);
	});

	it('retries a 429', async () => {
		sim.inject(rateLimited('PATCH', { error: 'Rate limit exceeded.', status: 429 }));
		const [on] = jsonOf(
			await runNode(
				node,
				vultrRun(sim, params('activate', { requestOptions: { maxAttempts: 3 } })),
			),
		);
		expect(on).toMatchObject({ active: true, changed: true });
	});

	describe('when the lockdown group was deleted by hand (instances left with no group)', () => {
		const breakIt = async () => {
			const staticData = {};
			const on = jsonOf(await runNode(node, vultrRun(sim, params('activate'), { staticData })))[0];
			sim.groups.delete(lockdown()!.id);
			for (const instance of sim.instances.values())
				if (!sim.groups.has(instance.firewall_group_id)) instance.firewall_group_id = '';
			node.restart();
			return { staticData, on };
		};

		it('puts the instances back from the static-data copy', async () => {
			const before = snapshot(sim);
			const { staticData } = await breakIt();
			const [off] = jsonOf(await runNode(node, vultrRun(sim, params('withdraw'), { staticData })));
			expect(off).toMatchObject({
				changed: true,
				restoredFrom: expect.stringMatching(/activation record/),
			});
			expect(snapshot(sim)).toEqual(before);
		});

		it('puts back the instances given as input', async () => {
			const before = snapshot(sim);
			const { on } = await breakIt();
			expect(
				await run('withdraw', { restoreConfiguration: JSON.stringify(on.original) }),
			).toMatchObject({ restoredFrom: 'Configuration to Restore' });
			expect(snapshot(sim)).toEqual(before);
		});
	});

	it('warns when no instance is in the group', async () => {
		const empty = sim.addGroup({ description: 'empty' });
		const [status] = jsonOf(
			await runNode(node, vultrRun(sim, params('getStatus', { firewallGroupId: rl(empty.id) }))),
		);
		expect(status.warnings).toEqual([expect.stringMatching(/protects nothing/)]);
	});

	it('refuses the lockdown group as target, a malformed id before any request, and explains an unknown id', async () => {
		await run('activate');
		expect((await failure('withdraw', { firewallGroupId: rl(lockdown()!.id) })).message).toMatch(
			/lockdown group created by this node/,
		);
		const requests = sim.log.length;
		expect((await failure('getStatus', { firewallGroupId: rl('web prod') })).message).toMatch(
			/Firewall Group ID/,
		);
		expect(sim.log).toHaveLength(requests);
		expect(
			(await failure('getStatus', { firewallGroupId: rl('00000000-0000-4000-8000-000000000000') }))
				.message,
		).toMatch(/could not find/);
	});

	it('explains a rejected key (never retried, never shown) and an IP-restricted key', async () => {
		const options = vultrRun(sim, params('activate'));
		options.credentials.vultrMitigationApi.apiKey = 'REVOKEDKEY';
		const rejected = (await runNode(node, options).catch((e: Error) => e)) as Error;
		expect(rejected.message).toMatch(/rejected the API key/);
		expect(JSON.stringify(rejected)).not.toContain('REVOKEDKEY');
		// The state is read side by side: each read was sent once, never again.
		expect(sim.log.every((r) => r.status === 401)).toBe(true);
		expect(new Set(sim.log.map((r) => r.path)).size).toBe(sim.log.length);
		sim.addKey(KEY, false);
		expect((await failure('getStatus')).description).toMatch(/restricted to some IP addresses/);
	});

	it('lists firewall groups for the picker, without lockdown groups', async () => {
		await run('activate');
		const found = await listSearch(node, 'searchFirewallGroups', vultrRun(sim, {}));
		expect(found.results.map((r) => r.name)).toEqual([
			'web-prod (0 instances, 8 rules)',
			'db-private (1 instances, 1 rules)',
		]);
	});
});
