import { lockdownName } from '../../../nodes/DigitalOcean/operations';
import { jsonOf, listSearch, runNode, separateExecutions } from '../../helpers/runNode';
import { operationParams, rateLimited, rl, simulatorPerTest } from '../../helpers/fixture';
import type { DigitalOceanSimulator, SimFirewall } from '../../simulators/digitalOcean';
import { TOKEN, digitalOceanRun, lockdownOfWeb, snapshot, startDigitalOcean } from './fixture';
import { restartableNode } from '../../simulators/restart';
import {
	type LockdownUnderTest,
	failThenRetry,
	failingBeforeAndAfter,
} from '../../helpers/lockdown';

/** A fresh node per test; `node.restart()` plays an n8n restart (no process-wide records). */
const node = restartableNode('DigitalOcean/DigitalOceanFirewall.node', 'DigitalOceanFirewall');
let sim: DigitalOceanSimulator;
let web: SimFirewall;

simulatorPerTest(async () => {
	({ sim, web } = await startDigitalOcean());
	return sim;
});

const params = operationParams(() => ({ firewallId: rl(web.id) }));
const { run, failure } = separateExecutions(
	() => node,
	(parameters, extra) => digitalOceanRun(sim, parameters, extra),
	params,
);
const lockdown = () => [...sim.firewalls.values()].find((f) => f.name === lockdownName(web.id));

describe('DigitalOcean Cloud Firewall lockdown', () => {
	it('reports status: not locked down, what the firewall is attached to', async () => {
		const status = await run('getStatus');
		expect(status).toMatchObject({
			provider: 'digitalOceanFirewall',
			target: web.id,
			operation: 'getStatus',
			active: false,
			changed: false,
			state: 'normal',
			attached: { droplet_ids: [101, 102], tags: ['web'] },
			lockdownFirewall: null,
			warnings: [],
		});
	});

	it('activate, activate again, withdraw in three different workflows after restarts: the account ends exactly as it was', async () => {
		const before = snapshot(sim);
		const originalRules = structuredClone({
			inbound: web.inbound_rules,
			outbound: web.outbound_rules,
		});

		const on = await run('activate');
		expect(on).toMatchObject({
			active: true,
			changed: true,
			state: 'locked down',
			original: { droplet_ids: [101, 102], tags: ['web'] },
		});
		expect(on.originalLivesAt).toMatch(/unchanged/);
		const locked = lockdown()!;
		// Management Sources left empty: the office ranges already allowed on port 22.
		expect(locked).toMatchObject({ ...lockdownOfWeb(), outbound_rules: originalRules.outbound });
		expect(sim.firewalls.get(web.id)).toMatchObject({
			droplet_ids: [],
			tags: [],
			inbound_rules: originalRules.inbound,
		});

		node.restart();
		const writes = sim.writes().length;
		const again = await run('activate', { managementPorts: '2222' });
		expect(again).toMatchObject({
			active: true,
			changed: false,
			original: { droplet_ids: [101, 102], tags: ['web'] },
		});
		expect(sim.writes()).toHaveLength(writes);

		node.restart();
		const status = await run('getStatus');
		expect(status).toMatchObject({
			active: true,
			lockdownFirewall: { id: locked.id },
			staticDataCopy: null,
		});

		node.restart();
		const off = await run('withdraw');
		expect(off).toMatchObject({
			active: false,
			changed: true,
			restoredFrom: expect.stringContaining('lockdown firewall'),
		});
		expect(snapshot(sim)).toEqual(before);
		expect(sim.exposures).toEqual([]);

		const idle = await run('withdraw');
		expect(idle).toMatchObject({ active: false, changed: false });
		// Re-attach Droplets, re-attach tags, delete the lockdown firewall.
		expect(sim.writes()).toHaveLength(writes + 3);
	});

	it('keeps the management sources and ports the user chose, IPv4 and IPv6', async () => {
		await run('activate', {
			managementSources: '198.51.100.0/24, 2001:db8:aa::/48 192.0.2.10',
			managementPorts: '22, 8443-8444',
		});
		const addresses = ['198.51.100.0/24', '2001:db8:aa::/48', '192.0.2.10/32'];
		expect(lockdown()!.inbound_rules).toEqual([
			{ protocol: 'tcp', ports: '22', sources: { addresses } },
			{ protocol: 'tcp', ports: '8443-8444', sources: { addresses } },
		]);
	});

	it.each([
		[{ managementSources: '10.0.0.0/33' }, /management sources/],
		[{ managementSources: 'fe80::1%eth0' }, /management sources/],
		[{ managementPorts: '70000' }, /management ports/],
		[{ managementPorts: '' }, /at least one management port/],
	])('refuses bad lockdown options %j before any request', async (options, message) => {
		const error = await failure('activate', options);
		expect(error.message).toMatch(message);
		expect(sim.log).toHaveLength(0);
	});

	describe('a failure at any step is reported with the provider state, and a retry completes without losing anything', () => {
		const writes = [
			{ operation: 'activate', method: 'POST', path: /^\/v2\/firewalls$/ },
			{ operation: 'activate', method: 'DELETE', path: /\/droplets$/ },
			{ operation: 'withdraw', method: 'POST', path: /\/droplets$/ },
			{ operation: 'withdraw', method: 'DELETE', path: /^\/v2\/firewalls\/[^/]+$/ },
		];
		const serverError = {
			status: 500,
			body: { id: 'server_error', message: 'Unexpected server-side error' },
		};
		const firewalls = (): LockdownUnderTest<DigitalOceanSimulator> => ({
			sim,
			snapshot,
			run,
			failure,
			restart: () => node.restart(),
			lockdowns: () => [...sim.firewalls.values()].filter((f) => f.name === lockdownName(web.id)),
			lockedDown: () =>
				expect(sim.firewalls.get(web.id)).toMatchObject({ droplet_ids: [], tags: [] }),
			restored: () => expect(sim.exposures).toEqual([]),
		});

		it.each(failingBeforeAndAfter(writes))(
			'$operation: $method $path fails (reply lost: $afterHandler)',
			(step) =>
				failThenRetry(firewalls(), step, serverError, {
					// A lost reply to the last step means the withdraw did finish: the retry then has
					// nothing left to do.
					changed: !(step.afterHandler && step.method === 'DELETE'),
				}),
		);

		it('an activate interrupted after creating the lockdown firewall can also be undone by withdraw', async () => {
			const before = snapshot(sim);
			sim.inject({ method: 'DELETE', path: /\/droplets$/, response: serverError });
			await failure('activate');
			expect(await run('getStatus')).toMatchObject({
				active: false,
				state: expect.stringMatching(/interrupted/),
			});
			expect(await run('withdraw')).toMatchObject({ changed: true });
			expect(snapshot(sim)).toEqual(before);
		});
	});

	it('waits out a 429 with Retry-After, and with only ratelimit-reset', async () => {
		sim.inject(
			rateLimited('POST', { id: 'too_many_requests', message: 'API rate limit exceeded.' }),
		);
		sim.inject({
			method: 'DELETE',
			path: /\/droplets$/,
			response: {
				status: 429,
				headers: {
					'ratelimit-remaining': '0',
					'ratelimit-reset': String(Math.floor(Date.now() / 1000)),
				},
				body: { id: 'too_many_requests', message: 'API rate limit exceeded.' },
			},
		});
		const on = jsonOf(
			await runNode(
				node,
				digitalOceanRun(sim, params('activate', { requestOptions: { maxAttempts: 3 } })),
			),
		)[0];
		expect(on).toMatchObject({ active: true, changed: true });
		expect(sim.log.filter((r) => r.status === 429)).toHaveLength(2);
	});

	it('restores from the static-data copy when someone deleted the lockdown firewall by hand', async () => {
		const before = snapshot(sim);
		const staticData = {};
		await runNode(node, digitalOceanRun(sim, params('activate'), { staticData }));
		sim.firewalls.delete(lockdown()!.id);
		node.restart();
		const [off] = jsonOf(
			await runNode(node, digitalOceanRun(sim, params('withdraw'), { staticData })),
		);
		expect(off).toMatchObject({
			changed: true,
			restoredFrom: expect.stringMatching(/activation record/),
		});
		expect(snapshot(sim)).toEqual(before);
	});

	it('restores the configuration given as input, overriding what is saved', async () => {
		const before = snapshot(sim);
		const on = await run('activate');
		sim.firewalls.delete(lockdown()!.id);
		node.restart();
		const off = await run('withdraw', { restoreConfiguration: JSON.stringify(on.original) });
		expect(off).toMatchObject({ changed: true, restoredFrom: 'Configuration to Restore' });
		expect(snapshot(sim)).toEqual(before);
	});

	it('refuses a malformed configuration to restore before any request', async () => {
		const error = await failure('withdraw', { restoreConfiguration: '{"droplet_ids": ["x"]}' });
		expect(error.message).toMatch(/Configuration to Restore/);
		expect(sim.log).toHaveLength(0);
	});

	it('warns when the firewall protects nothing', async () => {
		const empty = sim.addFirewall({
			name: 'spare',
			inbound_rules: [{ protocol: 'tcp', ports: '22', sources: { addresses: ['0.0.0.0/0'] } }],
		});
		const [status] = jsonOf(
			await runNode(node, digitalOceanRun(sim, params('getStatus', { firewallId: rl(empty.id) }))),
		);
		expect(status.warnings).toEqual([expect.stringMatching(/protects nothing/)]);
		const [on] = jsonOf(
			await runNode(node, digitalOceanRun(sim, params('activate', { firewallId: rl(empty.id) }))),
		);
		expect(on.warnings).toEqual([expect.stringMatching(/protects nothing/)]);
		await runNode(node, digitalOceanRun(sim, params('withdraw', { firewallId: rl(empty.id) })));
		expect([...sim.firewalls.values()].map((f) => f.name).sort()).toEqual([
			'db-private',
			'spare',
			'web-prod',
		]);
	});

	it('finds the lockdown firewall beyond the first page of firewalls', async () => {
		for (let i = 0; i < 230; i++) sim.addFirewall({ name: `other-${i}`, inbound_rules: [] });
		const before = snapshot(sim);
		await run('activate');
		expect((await run('activate')).changed).toBe(false);
		await run('withdraw');
		expect(snapshot(sim)).toEqual(before);
		expect(
			sim.log.some((r) => r.method === 'GET' && r.path === '/v2/firewalls' && r.status === 200),
		).toBe(true);
	});

	it('refuses the lockdown firewall itself as target', async () => {
		await run('activate');
		const error = await failure('withdraw', { firewallId: rl(lockdown()!.id) });
		expect(error.message).toMatch(/lockdown firewall created by this node/);
	});

	it('refuses a malformed id before any request and explains an unknown one', async () => {
		expect((await failure('getStatus', { firewallId: rl('web-prod') })).message).toMatch(/UUID/);
		expect(sim.log).toHaveLength(0);
		const unknown = await failure('getStatus', {
			firewallId: rl('00000000-0000-4000-8000-000000000000'),
		});
		expect(unknown.message).toMatch(/could not find the firewall/);
	});

	it('explains a rejected token without retrying it or showing it', async () => {
		const options = digitalOceanRun(sim, params('activate'));
		options.credentials.digitalOceanMitigationApi.accessToken = 'dop_v1_revoked';
		const error = (await runNode(node, options).catch((e: Error) => e)) as Error;
		expect(error.message).toMatch(/rejected the access token/);
		expect(JSON.stringify(error)).not.toContain('dop_v1_revoked');
		// The firewall and the list are read side by side: each was sent once, never again.
		expect(sim.log.map((r) => `${r.path} ${r.status}`).sort()).toEqual(
			[`/v2/firewalls 401`, `/v2/firewalls/${web.id} 401`].sort(),
		);
	});

	it('explains a read-only token and changes nothing', async () => {
		sim.addToken(TOKEN, ['read']);
		const before = snapshot(sim);
		const error = await failure('activate');
		expect(error.message).toMatch(/forbidden/);
		expect(error.description).toMatch(/firewall:update/);
		expect(snapshot(sim)).toEqual(before);
	});

	it('lists firewalls for the picker, without lockdown firewalls', async () => {
		await run('activate');
		const found = await listSearch(node, 'searchFirewalls', digitalOceanRun(sim, {}), 'prod');
		expect(found.results).toEqual([
			expect.objectContaining({ name: 'web-prod (0 Droplets, 0 tags)', value: web.id }),
		]);
		const all = await listSearch(node, 'searchFirewalls', digitalOceanRun(sim, {}));
		expect(all.results.map((r) => r.value)).not.toContain(lockdown()!.id);
	});
});
