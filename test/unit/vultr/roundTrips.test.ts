import type { VultrSimulator } from '../../simulators/vultr';
import { restartableNode } from '../../simulators/restart';
import { operationParams, rl, simulatorPerTest } from '../../helpers/fixture';
import { countRoundTrips } from '../../helpers/roundTrips';
import { runNode } from '../../helpers/runNode';
import { startVultr, vultrRun } from './fixture';

/**
 * Time to mitigate, counted in provider round trips. The group, its instances, the list of groups
 * (an existing lockdown group) and, without Management Sources, the group's rules are read side by
 * side, still spaced for Vultr's rate limit; then the lockdown group is created. Withdraw also reads
 * the lockdown group's members, which need its id.
 */
const node = restartableNode('Vultr/VultrFirewall.node', 'VultrFirewall');
let sim: VultrSimulator;
let web: { id: string };
simulatorPerTest(async () => {
	({ sim, web } = await startVultr());
	return sim;
});

const params = operationParams(() => ({ firewallGroupId: rl(web.id) }));
const run = async (operation: string) => await runNode(node, vultrRun(sim, params(operation)));
const isCreate = (request: { method: string; path: string }) =>
	request.method === 'POST' && request.path === '/firewalls';
const isMove = (request: { method: string; path: string }) =>
	request.method === 'PATCH' && request.path.startsWith('/instances/');

describe('Vultr lockdown: round trips before the first write', () => {
	it('creates the lockdown group after one round trip', async () => {
		const roundTrips = countRoundTrips(sim);
		await run('activate');
		expect(roundTrips.before(isCreate)).toBe(1);
	});

	it('withdraw moves the instances back after two: the state, then the lockdown group', async () => {
		await run('activate');
		const roundTrips = countRoundTrips(sim);
		await run('withdraw');
		expect(roundTrips.before(isMove)).toBe(2);
	});
});
