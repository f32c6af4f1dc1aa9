import { lockdownName } from '../../../nodes/DigitalOcean/operations';
import type { DigitalOceanSimulator, SimFirewall } from '../../simulators/digitalOcean';
import { restartableNode } from '../../simulators/restart';
import { operationParams, rl, simulatorPerTest } from '../../helpers/fixture';
import { countRoundTrips } from '../../helpers/roundTrips';
import { runNode } from '../../helpers/runNode';
import { digitalOceanRun, startDigitalOcean } from './fixture';

/**
 * Time to mitigate, counted in provider round trips. The firewall (its rules and attachments) and
 * the list of firewalls (an existing lockdown firewall, by name) are read side by side; the
 * lockdown firewall is created, attached, before the original is detached. Withdraw takes the
 * attachments to give back from the list, without reading each lockdown firewall again.
 */
const node = restartableNode('DigitalOcean/DigitalOceanFirewall.node', 'DigitalOceanFirewall');
let sim: DigitalOceanSimulator;
let web: SimFirewall;
simulatorPerTest(async () => {
	({ sim, web } = await startDigitalOcean());
	return sim;
});

const params = operationParams(() => ({ firewallId: rl(web.id) }));
const run = async (operation: string) =>
	await runNode(node, digitalOceanRun(sim, params(operation)));
const isCreate = (request: { method: string; path: string }) =>
	request.method === 'POST' && request.path === '/v2/firewalls';
const isDetach = (request: { method: string; path: string }) =>
	request.method === 'DELETE' && request.path.startsWith(`/v2/firewalls/${web.id}/`);
const isReattach = (request: { method: string; path: string }) =>
	request.method === 'POST' && request.path.startsWith(`/v2/firewalls/${web.id}/`);

describe('DigitalOcean lockdown: round trips before the first write', () => {
	it('creates the lockdown firewall after one round trip, detaches the original after two', async () => {
		const roundTrips = countRoundTrips(sim);
		await run('activate');
		expect(roundTrips.before(isCreate)).toBe(1);
		expect(roundTrips.before(isDetach)).toBe(2);
		expect([...sim.firewalls.values()].some((f) => f.name === lockdownName(web.id))).toBe(true);
	});

	it('withdraw re-attaches the original after one: the attachments are in the list', async () => {
		await run('activate');
		const roundTrips = countRoundTrips(sim);
		await run('withdraw');
		expect(roundTrips.before(isReattach)).toBe(1);
	});
});
