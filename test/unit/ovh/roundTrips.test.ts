import type { OvhSimulator } from '../../simulators/ovh';
import { restartableNode } from '../../simulators/restart';
import { simulatorPerTest } from '../../helpers/fixture';
import { countRoundTrips } from '../../helpers/roundTrips';
import { runNode } from '../../helpers/runNode';
import { BLOCK, IP, addUsersFirewall, ovhRun, params, startOvh } from './fixture';

/**
 * Time to mitigate, counted in provider round trips. Before its first write the node needs OVH's
 * clock (GET /auth/time, once per process: every request is signed with it), then the IPs of the
 * block that have a firewall (alone: the first signed request), then the firewall and its rule
 * list, then each rule by its sequence, all at once (whether it exists, is enabled, has a change
 * pending, the rules a lockdown saves). The mitigation profile, when the timeout is raised, is read
 * alongside.
 */
const node = restartableNode('Ovh/OvhDdosProtection.node', 'OvhDdosProtection');
let sim: OvhSimulator;
simulatorPerTest(async () => (sim = await startOvh()));

const firewallPath = `/ip/${BLOCK}/firewall`;
const isFirst = (method: string, path: string) => (request: { method: string; path: string }) =>
	request.method === method && request.path === path;
const run = async (parameters: Record<string, unknown>, staticData = {}) =>
	await runNode(node, ovhRun(sim, parameters, { staticData }));

describe('OVH Edge Network Firewall: round trips before the first write', () => {
	it('enables a firewall with six rules after the clock, the list, the firewall, its rules', async () => {
		addUsersFirewall(sim, false);
		const roundTrips = countRoundTrips(sim);
		await run(params('activate'));
		expect(roundTrips.before(isFirst('PUT', `${firewallPath}/${IP}`))).toBe(4);
		expect(sim.firewallSnapshot(BLOCK, IP)).toMatchObject({ enabled: true });
	});

	it('creates a missing firewall after the clock and the list, the profile read alongside', async () => {
		const roundTrips = countRoundTrips(sim);
		await run(params('activate', { autoMitigationTimeOut: '1560' }));
		expect(roundTrips.before(isFirst('POST', firewallPath))).toBe(2);
		expect(sim.mitigationProfile(BLOCK, IP)).toBe(1560);
	});

	it('withdraw reads the list, the firewall, then its rules, before disabling it', async () => {
		addUsersFirewall(sim, false);
		const staticData = {};
		await run(params('activate'), staticData);
		const roundTrips = countRoundTrips(sim);
		await run(params('withdraw'), staticData);
		expect(roundTrips.before(isFirst('PUT', `${firewallPath}/${IP}`))).toBe(3);
		expect(sim.firewallSnapshot(BLOCK, IP)).toMatchObject({ enabled: false });
	});
});
