import type { LinodeSimulator, SimFirewall } from '../../simulators/linode';
import { restartableNode } from '../../simulators/restart';
import { operationParams, rl, simulatorPerTest } from '../../helpers/fixture';
import { countRoundTrips } from '../../helpers/roundTrips';
import { runNode } from '../../helpers/runNode';
import { linodeRun, startLinode } from './fixture';

/**
 * Time to mitigate, counted in provider round trips. The firewall, its rules, its devices and the
 * saved copy (by label) are read side by side; the copy of the original rules is saved at Linode
 * before the lockdown replaces them, so that a stop in between loses nothing. The copy's rules come
 * with it in the list.
 */
const node = restartableNode('Linode/LinodeFirewall.node', 'LinodeFirewall');
let sim: LinodeSimulator;
let web: SimFirewall;
simulatorPerTest(async () => {
	({ sim, web } = await startLinode());
	return sim;
});

const params = operationParams(() => ({ firewallId: rl(String(web.id)) }));
const run = async (operation: string) => await runNode(node, linodeRun(sim, params(operation)));
const isCopy = (request: { method: string; path: string }) =>
	request.method === 'POST' && request.path === '/networking/firewalls';
const isRulesWrite = (request: { method: string; path: string }) =>
	request.method === 'PUT' && request.path === `/networking/firewalls/${web.id}/rules`;

describe('Linode lockdown: round trips before the first write', () => {
	it('saves the copy after one round trip and locks down after two', async () => {
		const roundTrips = countRoundTrips(sim);
		await run('activate');
		expect(roundTrips.before(isCopy)).toBe(1);
		expect(roundTrips.before(isRulesWrite)).toBe(2);
	});

	it('withdraw restores the rules after one: the saved copy is listed with its rules', async () => {
		await run('activate');
		const roundTrips = countRoundTrips(sim);
		await run('withdraw');
		expect(roundTrips.before(isRulesWrite)).toBe(1);
	});
});
