import { MANAGEMENT_LABEL, snapshotLabel } from '../../../nodes/Linode/operations';
import { jsonOf, listSearch, runNode, separateExecutions } from '../../helpers/runNode';
import { operationParams, rateLimited, rl, simulatorPerTest } from '../../helpers/fixture';
import type { LinodeSimulator, SimFirewall } from '../../simulators/linode';
import { linodeRun, snapshot, startLinode, webRules } from './fixture';
import { restartableNode } from '../../simulators/restart';
import {
	type LockdownUnderTest,
	failThenRetry,
	failingBeforeAndAfter,
} from '../../helpers/lockdown';

/** A fresh node per test; `node.restart()` plays an n8n restart (no process-wide records). */
const node = restartableNode('Linode/LinodeFirewall.node', 'LinodeFirewall');
let sim: LinodeSimulator;
let web: SimFirewall;

simulatorPerTest(async () => {
	({ sim, web } = await startLinode());
	return sim;
});

const params = operationParams(() => ({ firewallId: rl(String(web.id)) }));
const { run, failure } = separateExecutions(
	() => node,
	(parameters, extra) => linodeRun(sim, parameters, extra),
	params,
);
const copy = () => [...sim.firewalls.values()].find((f) => f.label === snapshotLabel(web.id));

describe('Linode Cloud Firewall lockdown', () => {
	it('reports status: not locked down, attached Linodes', async () => {
		expect(await run('getStatus')).toMatchObject({
			provider: 'linodeFirewall',
			target: String(web.id),
			active: false,
			changed: false,
			state: 'normal',
			attached: [
				{ id: 201, type: 'linode', label: 'web-1' },
				{ id: 202, type: 'linode', label: 'web-2' },
			],
			warnings: [],
		});
	});

	it('activate, activate again, withdraw in different workflows after restarts: every rule and policy comes back', async () => {
		const before = snapshot(sim);
		const on = await run('activate');
		expect(on).toMatchObject({
			active: true,
			changed: true,
			state: 'locked down',
			original: webRules(),
		});
		expect(web.rules).toMatchObject({
			inbound: [
				{
					action: 'ACCEPT',
					protocol: 'TCP',
					ports: '22',
					// Management Sources left empty: the office ranges the firewall already allowed on 22.
					addresses: { ipv4: ['203.0.113.0/24'], ipv6: ['2001:db8:1::/48'] },
					label: MANAGEMENT_LABEL,
				},
			],
			inbound_policy: 'DROP',
			outbound: webRules().outbound,
			outbound_policy: 'ACCEPT',
		});
		expect(copy()).toMatchObject({ linodes: [], rules: webRules() });

		node.restart();
		const writes = sim.writes().length;
		expect(await run('activate', { managementPorts: '2222' })).toMatchObject({
			active: true,
			changed: false,
			original: webRules(),
		});
		expect(sim.writes()).toHaveLength(writes);

		node.restart();
		expect(await run('getStatus')).toMatchObject({
			active: true,
			snapshotFirewall: { label: snapshotLabel(web.id) },
		});

		node.restart();
		expect(await run('withdraw')).toMatchObject({
			active: false,
			changed: true,
			restoredFrom: expect.stringContaining('saved copy'),
		});
		expect(snapshot(sim)).toEqual(before);
		expect(await run('withdraw')).toMatchObject({ active: false, changed: false });
	});

	it('puts IPv4 and IPv6 management sources in one rule, and splits long port lists at 15 pieces', async () => {
		const ports = Array.from({ length: 14 }, (_, i) => String(2000 + i)).concat('9000-9010');
		await run('activate', {
			managementSources: '198.51.100.0/24, 2001:db8:aa::/48',
			managementPorts: ports.join(', '),
		});
		expect(web.rules.inbound).toEqual([
			expect.objectContaining({
				ports: ports.slice(0, 14).join(','),
				addresses: { ipv4: ['198.51.100.0/24'], ipv6: ['2001:db8:aa::/48'] },
			}),
			expect.objectContaining({
				ports: '9000-9010',
				addresses: { ipv4: ['198.51.100.0/24'], ipv6: ['2001:db8:aa::/48'] },
			}),
		]);
	});

	it('refuses bad lockdown options before any request', async () => {
		expect((await failure('activate', { managementSources: '2001:db8::/129' })).message).toMatch(
			/management sources/,
		);
		expect((await failure('activate', { managementPorts: '0' })).message).toMatch(
			/management ports/,
		);
		expect(sim.log).toHaveLength(0);
	});

	describe('a failure at any step is reported with the provider state, and a retry completes without losing anything', () => {
		const serverError = { status: 500, body: { errors: [{ reason: 'Internal server error' }] } };
		const writes = [
			{ operation: 'activate', method: 'POST', path: /^\/networking\/firewalls$/ },
			{ operation: 'activate', method: 'PUT', path: /\/rules$/ },
			{ operation: 'withdraw', method: 'PUT', path: /\/rules$/ },
			{ operation: 'withdraw', method: 'DELETE', path: /^\/networking\/firewalls\/\d+$/ },
		];
		const lockdown = (): LockdownUnderTest<LinodeSimulator> => ({
			sim,
			snapshot,
			run,
			failure,
			restart: () => node.restart(),
			lockdowns: () => [...sim.firewalls.values()].filter((f) => f.label === snapshotLabel(web.id)),
			lockedDown: () => expect(web.rules.inbound_policy).toBe('DROP'),
		});

		it.each(failingBeforeAndAfter(writes))(
			'$operation: $method fails (reply lost: $afterHandler)',
			(step) => failThenRetry(lockdown(), step, serverError),
		);

		it('a copy left by an interrupted activate is never overwritten, even if the rules changed in between', async () => {
			const before = snapshot(sim);
			sim.inject({ method: 'PUT', path: /\/rules$/, response: serverError });
			await failure('activate');
			web.rules.inbound = web.rules.inbound!.slice(1);
			expect(await run('activate')).toMatchObject({ active: true, changed: true });
			expect(web.rules.inbound_policy).toBe('DROP');
			expect(copy()!.rules.inbound).toEqual(webRules().inbound);
			await run('withdraw');
			expect(snapshot(sim)).toEqual(before);
		});
	});

	it('retries a 429 after Retry-After and a transient "Linode busy."', async () => {
		sim.inject(rateLimited('POST', { errors: [{ reason: 'Too many requests' }] }));
		sim.inject({
			method: 'PUT',
			response: { status: 400, body: { errors: [{ reason: 'Linode busy.' }] } },
		});
		const [on] = jsonOf(
			await runNode(
				node,
				linodeRun(sim, params('activate', { requestOptions: { maxAttempts: 3 } })),
			),
		);
		expect(on).toMatchObject({ active: true, changed: true });
		expect(sim.log.filter((r) => r.status === 429 || r.status === 400)).toHaveLength(2);
	});

	describe('when the copy at Linode is gone', () => {
		it('restores from the static-data copy', async () => {
			const before = snapshot(sim);
			const staticData = {};
			await runNode(node, linodeRun(sim, params('activate'), { staticData }));
			sim.firewalls.delete(copy()!.id);
			node.restart();
			const [off] = jsonOf(await runNode(node, linodeRun(sim, params('withdraw'), { staticData })));
			expect(off).toMatchObject({
				changed: true,
				restoredFrom: expect.stringMatching(/activation record/),
			});
			expect(snapshot(sim)).toEqual(before);
		});

		it('refuses with a clear message, changing nothing', async () => {
			await run('activate');
			sim.firewalls.delete(copy()!.id);
			node.restart();
			const locked = snapshot(sim);
			const error = await failure('withdraw');
			expect(error.message).toMatch(/no saved original configuration was found/);
			expect(error.description).toMatch(/Configuration to Restore.*Allow All Inbound/);
			expect(snapshot(sim)).toEqual(locked);
		});

		it('opens inbound traffic only when the user chose the fallback', async () => {
			await run('activate');
			sim.firewalls.delete(copy()!.id);
			node.restart();
			expect(await run('withdraw', { whenNothingSaved: 'allowAll' })).toMatchObject({
				changed: true,
				restoredFrom: 'fallback: allow all inbound',
			});
			expect(web.rules).toMatchObject({
				inbound: [],
				inbound_policy: 'ACCEPT',
				outbound: webRules().outbound,
				outbound_policy: 'ACCEPT',
			});
		});

		it('restores the configuration given as input', async () => {
			const before = snapshot(sim);
			const on = await run('activate');
			sim.firewalls.delete(copy()!.id);
			node.restart();
			expect(await run('withdraw', { restoreConfiguration: on.original })).toMatchObject({
				restoredFrom: 'Configuration to Restore',
			});
			expect(snapshot(sim)).toEqual(before);
		});
	});

	it('warns when the firewall is attached to nothing', async () => {
		const spare = [...sim.firewalls.values()].find((f) => f.label === 'spare')!;
		const [status] = jsonOf(
			await runNode(
				node,
				linodeRun(sim, params('getStatus', { firewallId: rl(String(spare.id)) })),
			),
		);
		expect(status.warnings).toEqual([expect.stringMatching(/protects nothing/)]);
	});

	it('refuses the saved copy as target, a malformed id before any request, and explains an unknown id', async () => {
		await run('activate');
		expect((await failure('withdraw', { firewallId: rl(String(copy()!.id)) })).message).toMatch(
			/copy of another firewall/,
		);
		const requests = sim.log.length;
		expect((await failure('getStatus', { firewallId: rl('web-prod') })).message).toMatch(
			/Firewall ID must be the number/,
		);
		expect(sim.log).toHaveLength(requests);
		expect((await failure('getStatus', { firewallId: rl('999') })).message).toMatch(
			/could not find the firewall/,
		);
	});

	it('explains a rejected token (never retried) and a read-only token (nothing changed)', async () => {
		const options = linodeRun(sim, params('activate'));
		options.credentials.linodeMitigationApi.accessToken = 'revoked-token';
		const rejected = (await runNode(node, options).catch((e: Error) => e)) as Error;
		expect(rejected.message).toMatch(/rejected the access token/);
		expect(JSON.stringify(rejected)).not.toContain('revoked-token');
		// The state is read side by side: each read was sent once, never again.
		expect(sim.log.every((r) => r.status === 401)).toBe(true);
		expect(new Set(sim.log.map((r) => r.path)).size).toBe(sim.log.length);

		sim.addToken(
			linodeRun(sim, {}).credentials.linodeMitigationApi.accessToken as string,
			'read_only',
		);
		const before = snapshot(sim);
		expect((await failure('activate')).description).toMatch(/Firewalls: Read\/Write/);
		expect(snapshot(sim)).toEqual(before);
	});

	it('lists firewalls for the picker, without saved copies', async () => {
		await run('activate');
		const found = await listSearch(node, 'searchFirewalls', linodeRun(sim, {}));
		expect(found.results.map((r) => r.name)).toEqual(['web-prod (enabled)', 'spare (enabled)']);
	});
});
