import type { HetznerSimulator } from '../../simulators/hetzner';
import { restartableNode } from '../../simulators/restart';
import { operationParams, rl, simulatorPerTest } from '../../helpers/fixture';
import { countRoundTrips } from '../../helpers/roundTrips';
import { runNode } from '../../helpers/runNode';
import { SERVER, SERVER_IP, hetznerRun, startHetzner } from './fixture';

/**
 * Time to mitigate, counted in provider round trips. Robot's POST replaces the whole firewall, so
 * the configuration is read first (one round trip); a server given by its main IP is looked up
 * first (GET /server), since the firewall is addressed by server number.
 */
const node = restartableNode('Hetzner/HetznerRobotFirewall.node', 'HetznerRobotFirewall');
let sim: HetznerSimulator;
simulatorPerTest(async () => (sim = await startHetzner()));

const params = operationParams(() => ({ server: rl(SERVER) }));
const isFirewallWrite = (request: { method: string; path: string }) =>
	request.method === 'POST' && request.path === `/firewall/${SERVER}`;

describe('Hetzner Robot Firewall: round trips before the write', () => {
	it('activate by server number waits one round trip (the firewall read)', async () => {
		const roundTrips = countRoundTrips(sim);
		await runNode(node, hetznerRun(sim, params('activate')));
		expect(roundTrips.before(isFirewallWrite)).toBe(1);
		expect(sim.firewall(SERVER).status).toBe('active');
	});

	it('activate by main IP waits two: the server lookup, then the firewall read', async () => {
		const roundTrips = countRoundTrips(sim);
		await runNode(node, hetznerRun(sim, params('activate', { server: rl(SERVER_IP) })));
		expect(roundTrips.before(isFirewallWrite)).toBe(2);
	});

	it('withdraw waits one round trip (the firewall read) before disabling it', async () => {
		const staticData = {};
		await runNode(node, hetznerRun(sim, params('activate'), { staticData }));
		const roundTrips = countRoundTrips(sim);
		await runNode(node, hetznerRun(sim, params('withdraw'), { staticData }));
		expect(roundTrips.before(isFirewallWrite)).toBe(1);
		expect(sim.firewall(SERVER).status).toBe('disabled');
	});
});
