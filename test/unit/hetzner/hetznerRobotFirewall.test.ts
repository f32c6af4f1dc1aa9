import { firewallForm } from '../../../nodes/Hetzner/operations';
import { jsonOf, listSearch, runNode } from '../../helpers/runNode';
import { operationParams, rl, simulatorPerTest } from '../../helpers/fixture';
import { BARE_SERVER, RULES, SERVER, SERVER_IP, hetznerRun, startHetzner } from './fixture';
import { restartableNode } from '../../simulators/restart';

/** A fresh node per test; `node.restart()` plays an n8n restart (no process-wide records). */
const node = restartableNode('Hetzner/HetznerRobotFirewall.node', 'HetznerRobotFirewall');
const sim = simulatorPerTest(startHetzner);

const params = operationParams(() => ({ server: rl(SERVER) }));
const firewall = () => sim.firewall(SERVER);
const configuration = () => ({
	filter_ipv6: firewall().filter_ipv6,
	whitelist_hos: firewall().whitelist_hos,
	rules: firewall().rules,
});
const original = { filter_ipv6: true, whitelist_hos: false, rules: RULES };

describe('Hetzner Robot Firewall', () => {
	it('reads the firewall status with its settings and rule counts', async () => {
		const [status] = jsonOf(await runNode(node, hetznerRun(sim, params('getStatus'))));
		expect(status).toMatchObject({
			provider: 'hetznerRobotFirewall',
			target: String(SERVER),
			active: false,
			changed: false,
			status: 'disabled',
			serverNumber: SERVER,
			serverIp: SERVER_IP,
			filterIpv6: true,
			whitelistHetznerServices: false,
			inputRules: 4,
			outputRules: 1,
		});
	});

	it('activates by re-sending every setting and rule, waits for "in process" to settle, and keeps the rules', async () => {
		const [result] = jsonOf(await runNode(node, hetznerRun(sim, params('activate'))));
		expect(result).toMatchObject({ active: true, changed: true, status: 'active', inputRules: 4 });
		expect(result.warnings).toEqual([]);
		expect(firewall().status).toBe('active');
		expect(configuration()).toEqual(original);
		expect(sim.writes()).toEqual([{ method: 'POST', path: `/firewall/${SERVER}`, status: 200 }]);
	});

	it('posts the configuration form-encoded, null rule fields left out', () => {
		const form = new URLSearchParams(
			firewallForm({ ...sim.firewall(SERVER), rules: RULES } as never, 'active'),
		);
		expect(form.get('status')).toBe('active');
		expect(form.get('filter_ipv6')).toBe('true');
		expect(form.get('whitelist_hos')).toBe('false');
		expect(form.get('rules[input][0][src_ip]')).toBe('198.51.100.0/24');
		expect(form.get('rules[input][2][tcp_flags]')).toBe('ack');
		expect(form.has('rules[input][1][src_ip]')).toBe(false);
		expect(form.get('rules[output][0][action]')).toBe('accept');
	});

	it('withdraws back to disabled with the same rules: activate then withdraw is lossless', async () => {
		const staticData = {};
		await runNode(node, hetznerRun(sim, params('activate'), { staticData }));
		const [withdrawn] = jsonOf(
			await runNode(node, hetznerRun(sim, params('withdraw'), { staticData })),
		);
		expect(withdrawn).toMatchObject({ active: false, changed: true, status: 'disabled' });
		expect(firewall().status).toBe('disabled');
		expect(configuration()).toEqual(original);
	});

	it('is idempotent both ways: no write for activate on active or withdraw on disabled', async () => {
		const staticData = {};
		await runNode(node, hetznerRun(sim, params('activate'), { staticData }));
		const [again] = jsonOf(
			await runNode(node, hetznerRun(sim, params('activate'), { staticData })),
		);
		expect(again).toMatchObject({ active: true, changed: false });
		await runNode(node, hetznerRun(sim, params('withdraw'), { staticData }));
		const [twice] = jsonOf(
			await runNode(node, hetznerRun(sim, params('withdraw'), { staticData })),
		);
		expect(twice).toMatchObject({ active: false, changed: false });
		expect(sim.writes()).toHaveLength(2);
	});

	it('leaves a firewall that was active before activation, unless forced', async () => {
		firewall().status = 'active';
		const staticData = {};
		await runNode(node, hetznerRun(sim, params('activate'), { staticData }));
		const [kept] = jsonOf(await runNode(node, hetznerRun(sim, params('withdraw'), { staticData })));
		expect(kept).toMatchObject({ active: true, changed: false });
		expect(kept.note).toMatch(/already active before activation/);
		expect(sim.writes()).toHaveLength(0);
		const [forced] = jsonOf(
			await runNode(
				node,
				hetznerRun(sim, params('withdraw', { forceWithdraw: true }), { staticData }),
			),
		);
		expect(forced).toMatchObject({ active: false, changed: true });
		expect(configuration()).toEqual(original);
	});

	it('withdraws with no record of activation (another workflow), as a user pressing Withdraw expects', async () => {
		firewall().status = 'active';
		node.restart();
		const [result] = jsonOf(
			await runNode(node, hetznerRun(sim, params('withdraw'), { staticData: {} })),
		);
		expect(result).toMatchObject({ active: false, changed: true });
	});

	it('waits for an earlier change still "in process" before deciding', async () => {
		firewall().status = 'in process';
		firewall().pending = { status: 'active', reads: 1 };
		const [result] = jsonOf(await runNode(node, hetznerRun(sim, params('activate'))));
		expect(result).toMatchObject({ active: true, changed: false });
		expect(sim.writes()).toHaveLength(0);
	});

	it('accepts the main IPv4 instead of the server number', async () => {
		const [result] = jsonOf(
			await runNode(node, hetznerRun(sim, params('activate', { server: rl(SERVER_IP) }))),
		);
		expect(result).toMatchObject({ target: SERVER_IP, serverNumber: SERVER, changed: true });
		expect(sim.writes()).toEqual([{ method: 'POST', path: `/firewall/${SERVER}`, status: 200 }]);
	});

	it('warns when the active firewall has no rules: nothing is filtered', async () => {
		const run = await runNode(
			node,
			hetznerRun(sim, params('activate', { server: rl(BARE_SERVER) })),
		);
		const [result] = jsonOf(run);
		const warning = expect.stringMatching(
			/active but has no input rules configured.*Add your rules in Robot > Server > Firewall/,
		);
		expect(result).toMatchObject({ active: true, changed: true, inputRules: 0 });
		expect(result.warnings).toEqual([warning]);
		expect(run.hints).toEqual([{ message: warning, type: 'warning', location: 'outputPane' }]);
	});

	it('refuses a server that is neither a number nor an IPv4 before any call', async () => {
		await expect(
			runNode(node, hetznerRun(sim, params('activate', { server: rl('web-1') }))),
		).rejects.toThrow(/neither a Robot server number nor an IPv4 address/);
		expect(sim.log).toHaveLength(0);
	});

	it('lists servers as an operation and in the resource locator', async () => {
		const servers = jsonOf(await runNode(node, hetznerRun(sim, { operation: 'listServers' })));
		expect(servers.map((s) => s.serverNumber)).toEqual([SERVER, BARE_SERVER]);
		const search = await listSearch(node, 'searchServers', hetznerRun(sim, {}), '192.0.2.21');
		expect(search.results).toEqual([
			{ name: `${SERVER} server-${SERVER} (${SERVER_IP})`, value: String(SERVER) },
		]);
	});
});
