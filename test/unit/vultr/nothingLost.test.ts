import { lockdownDescription } from '../../../nodes/Vultr/operations';
import { jsonOf, runNode } from '../../helpers/runNode';
import type { VultrSimulator } from '../../simulators/vultr';
import { snapshot, startVultr, vultrRun } from './fixture';
import { rl, simulatorPerTest } from '../../helpers/fixture';
import {
	type LockdownUnderTest,
	loseTheReply,
	operatorEditsLockdown,
	replyLostBothWays,
	withdrawWithDuplicate,
} from '../../helpers/lockdown';
import { freshNode } from '../../simulators/restart';

const restartedNode = () => freshNode('Vultr/VultrFirewall.node', 'VultrFirewall');

let sim: VultrSimulator;
let webId: string;

simulatorPerTest(async () => {
	const started = await startVultr();
	webId = started.web.id;
	return (sim = started.sim);
});

/** Another workflow after a restart, with the default retry policy (no requestOptions). */
const run = async (operation: string, extra: Record<string, unknown> = {}) => {
	const options = vultrRun(sim, {}, { staticData: {} });
	options.parameters = { operation, firewallGroupId: rl(webId), ...extra };
	return jsonOf(await runNode(restartedNode(), options))[0];
};
const lockdownGroups = () =>
	[...sim.groups.values()].filter((g) => g.description === lockdownDescription(webId));
const unfiltered = () => [...sim.instances.values()].filter((i) => i.firewall_group_id === '');

const groups = (): LockdownUnderTest<VultrSimulator> => ({
	sim,
	snapshot,
	run,
	lockdowns: lockdownGroups,
	afterFailure: () => expect(unfiltered()).toEqual([]),
	// One rule per default management source (IPv4 and IPv6 anywhere), none twice.
	lockedDown: () => expect(lockdownGroups()[0].rules).toHaveLength(2),
});

describe('Vultr: the reply of each write is lost (applied, client sees 502 or a dropped connection)', () => {
	const writes = [
		{ operation: 'activate', method: 'POST', path: /^\/firewalls$/ },
		{ operation: 'activate', method: 'POST', path: /^\/firewalls\/[^/]+\/rules$/ },
		{ operation: 'activate', method: 'PATCH', path: /^\/instances\// },
		{ operation: 'withdraw', method: 'PATCH', path: /^\/instances\// },
		{ operation: 'withdraw', method: 'DELETE', path: /^\/firewalls\/[^/]+$/ },
	];

	it.each(replyLostBothWays(writes))(
		'$operation: $method $path, reply lost as $lost: one lockdown group, original back, nothing unfiltered',
		(step) => loseTheReply(groups(), step),
	);

	it('withdraw returns the instances of every lockdown group an earlier duplicate left', () =>
		withdrawWithDuplicate(groups(), () =>
			sim.addGroup({ description: lockdownDescription(webId) }),
		));
});

describe('Vultr: an operator edits the firewall during the lockdown', () => {
	it('a rule added to the lockdown group goes with it; the original group and memberships come back exactly', () =>
		operatorEditsLockdown(groups(), () =>
			sim.addGroupRule(lockdownGroups()[0].id, {
				ip_type: 'v4',
				protocol: 'tcp',
				port: '9100',
				subnet: '192.0.2.50',
				subnet_size: 32,
				notes: 'monitoring probe',
			}),
		));
});

describe('Vultr: Configuration to Restore', () => {
	it('refuses instance ids that are not Vultr UUIDs before any request reaches a URL path', async () => {
		await run('activate');
		const requests = sim.log.length;
		await expect(
			run('withdraw', { restoreConfiguration: { instance_ids: ['../firewalls/x'] } }),
		).rejects.toThrow(/instance ids are UUIDs/);
		expect(sim.log).toHaveLength(requests);
	});
});
