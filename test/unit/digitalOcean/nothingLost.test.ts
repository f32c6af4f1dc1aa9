import { lockdownName } from '../../../nodes/DigitalOcean/operations';
import { jsonOf, runNode } from '../../helpers/runNode';
import type { DigitalOceanSimulator, SimFirewall } from '../../simulators/digitalOcean';
import { digitalOceanRun, snapshot, startDigitalOcean } from './fixture';
import { rl, simulatorPerTest } from '../../helpers/fixture';
import {
	type LockdownUnderTest,
	loseTheReply,
	operatorEditsLockdown,
	replyLostBothWays,
	withdrawWithDuplicate,
} from '../../helpers/lockdown';
import { freshNode } from '../../simulators/restart';

const restartedNode = () =>
	freshNode('DigitalOcean/DigitalOceanFirewall.node', 'DigitalOceanFirewall');

let sim: DigitalOceanSimulator;
let web: SimFirewall;

simulatorPerTest(async () => {
	({ sim, web } = await startDigitalOcean());
	return sim;
});

/** Another workflow after a restart, with the default retry policy (no requestOptions). */
const run = async (operation: string, extra: Record<string, unknown> = {}) => {
	const options = digitalOceanRun(sim, {}, { staticData: {} });
	options.parameters = { operation, firewallId: rl(web.id), ...extra };
	return jsonOf(await runNode(restartedNode(), options))[0];
};
const lockdowns = () => [...sim.firewalls.values()].filter((f) => f.name === lockdownName(web.id));

const firewalls = (): LockdownUnderTest<DigitalOceanSimulator> => ({
	sim,
	snapshot,
	run,
	lockdowns,
	restored: () => expect(sim.exposures).toEqual([]),
});

describe('DigitalOcean: the reply of each write is lost (applied, client sees 502 or a dropped connection)', () => {
	const writes = [
		{ operation: 'activate', method: 'POST', path: /^\/v2\/firewalls$/ },
		{ operation: 'activate', method: 'DELETE', path: /\/droplets$/ },
		{ operation: 'activate', method: 'DELETE', path: /\/tags$/ },
		{ operation: 'withdraw', method: 'POST', path: /\/droplets$/ },
		{ operation: 'withdraw', method: 'POST', path: /\/tags$/ },
		{ operation: 'withdraw', method: 'DELETE', path: /^\/v2\/firewalls\/[^/]+$/ },
	];

	it.each(replyLostBothWays(writes))(
		'$operation: $method $path, reply lost as $lost: one lockdown firewall, original back, never open',
		(step) => loseTheReply(firewalls(), step),
	);

	it('withdraw gives back what every lockdown firewall holds and deletes them all', () =>
		withdrawWithDuplicate(firewalls(), () =>
			sim.addFirewall({
				name: lockdownName(web.id),
				created_at: '2030-01-01T00:00:00Z',
				inbound_rules: [{ protocol: 'tcp', ports: '22', sources: { addresses: ['0.0.0.0/0'] } }],
			}),
		));
});

describe('DigitalOcean: an operator edits the lockdown', () => {
	it('a rule added to the lockdown firewall goes with it; the original comes back exactly', () =>
		operatorEditsLockdown(firewalls(), () =>
			lockdowns()[0].inbound_rules.push({
				protocol: 'tcp',
				ports: '9100',
				sources: { addresses: ['192.0.2.50'] },
			}),
		));
});

describe('DigitalOcean: what is written and reported', () => {
	it('moves attachments with the droplets and tags endpoints, never a PUT of a whole firewall', async () => {
		await run('activate');
		await run('withdraw');
		expect(sim.writes().filter((w) => w.method === 'PUT')).toEqual([]);
	});

	it('writes all-port rules as 1-65535 and ICMP rules without ports (a "0" is refused with 422)', async () => {
		await run('activate');
		const original = {
			droplet_ids: [101, 102],
			tags: ['web'],
			outbound_rules: [
				{ protocol: 'tcp', ports: '0', destinations: { addresses: ['0.0.0.0/0'] } },
				{ protocol: 'icmp', ports: '0', destinations: { addresses: ['0.0.0.0/0'] } },
			],
		};
		expect(await run('withdraw', { restoreConfiguration: JSON.stringify(original) })).toMatchObject(
			{ changed: true, restoredFrom: 'Configuration to Restore' },
		);
		expect(sim.firewalls.get(web.id)!.outbound_rules).toEqual(original.outbound_rules);
	});

	it('reports locked down only once DigitalOcean says the lockdown firewall succeeded', async () => {
		sim.settleAfterReads = 2;
		const on = await run('activate');
		expect(on).toMatchObject({ active: false, changed: true });
		expect(on.state).toMatch(/once DigitalOcean has applied it \(status 'waiting'\)/);
		expect(await run('getStatus')).toMatchObject({ active: true, state: 'locked down' });
	});
});
