import { snapshotLabel } from '../../../nodes/Linode/operations';
import { jsonOf, runNode } from '../../helpers/runNode';
import type { LinodeSimulator, SimFirewall } from '../../simulators/linode';
import { linodeRun, snapshot, startLinode, webRules } from './fixture';
import { rl, simulatorPerTest } from '../../helpers/fixture';
import { loseTheReply, replyLostBothWays } from '../../helpers/lockdown';
import { freshNode } from '../../simulators/restart';

const restartedNode = () => freshNode('Linode/LinodeFirewall.node', 'LinodeFirewall');

let sim: LinodeSimulator;
let web: SimFirewall;

simulatorPerTest(async () => {
	({ sim, web } = await startLinode());
	return sim;
});

/** Another workflow after a restart, with the default retry policy (no requestOptions). */
const run = async (operation: string, extra: Record<string, unknown> = {}) => {
	const options = linodeRun(sim, {}, { staticData: {} });
	options.parameters = { operation, firewallId: rl(String(web.id)), ...extra };
	return jsonOf(await runNode(restartedNode(), options))[0];
};
const copies = () => [...sim.firewalls.values()].filter((f) => f.label === snapshotLabel(web.id));
const probe = {
	action: 'ACCEPT',
	protocol: 'TCP',
	ports: '9100',
	addresses: { ipv4: ['192.0.2.50/32'] },
	label: 'monitoring-probe',
};

describe('Linode: an operator edits the rules during the lockdown', () => {
	it('withdraw still restores the original rules and both policies exactly, then deletes the copy', async () => {
		const before = snapshot(sim);
		await run('activate');
		web.rules.inbound = [...web.rules.inbound!, probe];
		expect(await run('getStatus')).toMatchObject({
			active: true,
			state: 'locked down, rules changed since',
		});
		const off = await run('withdraw');
		expect(off).toMatchObject({ active: false, changed: true, state: 'normal' });
		expect(off.restoredFrom).toMatch(/saved copy/);
		expect(snapshot(sim)).toEqual(before);
		expect(web.rules.inbound_policy).toBe('DROP');
		expect(web.rules.inbound).toEqual(webRules().inbound);
	});

	it('a second activate keeps the saved copy of the original, not the edited lockdown', async () => {
		await run('activate');
		web.rules.inbound = [...web.rules.inbound!, probe];
		const writes = sim.writes().length;
		expect(await run('activate')).toMatchObject({ active: true, changed: false });
		expect(sim.writes()).toHaveLength(writes);
		expect(copies()).toHaveLength(1);
		expect(copies()[0].rules).toMatchObject(webRules());
	});

	it('the copy is deleted only after the restored rules read back equal', async () => {
		await run('activate');
		sim.inject({
			method: 'PUT',
			path: /\/rules$/,
			response: { status: 200, body: {} },
		});
		await expect(run('withdraw')).rejects.toThrow(/did not keep the restored rules/);
		expect(copies()).toHaveLength(1);
		const before = copies()[0].rules;
		expect(await run('withdraw')).toMatchObject({ active: false, changed: true });
		expect(web.rules).toMatchObject({ inbound: before.inbound, inbound_policy: 'DROP' });
		expect(copies()).toHaveLength(0);
	});
});

describe('Linode: the reply of each write is lost (applied, client sees 502 or a dropped connection)', () => {
	const writes = [
		{ operation: 'activate', method: 'POST', path: /^\/networking\/firewalls$/ },
		{ operation: 'activate', method: 'PUT', path: /\/rules$/ },
		{ operation: 'withdraw', method: 'PUT', path: /\/rules$/ },
		{ operation: 'withdraw', method: 'DELETE', path: /^\/networking\/firewalls\/\d+$/ },
	];

	it.each(replyLostBothWays(writes))(
		'$operation: $method $path, reply lost as $lost: no duplicate copy, original back, never open',
		(step) =>
			loseTheReply(
				{
					sim,
					snapshot,
					run,
					lockdowns: copies,
					lockedDown: () => expect(web.rules.inbound_policy).toBe('DROP'),
				},
				step,
			),
	);
});

describe('Linode: Configuration to Restore', () => {
	it('accepts every protocol Linode accepts, ALL included', async () => {
		await run('activate');
		const original = { ...webRules() };
		original.inbound = [
			...original.inbound!,
			{ action: 'ACCEPT', protocol: 'ALL', addresses: { ipv4: ['10.1.0.0/16'] }, label: 'vpc' },
		];
		expect(await run('withdraw', { restoreConfiguration: JSON.stringify(original) })).toMatchObject(
			{ changed: true, restoredFrom: 'Configuration to Restore' },
		);
		expect(web.rules.inbound).toEqual(original.inbound);
	});
});

describe('Linode: management access during the lockdown', () => {
	it('keeps the sources the firewall already allowed on the management ports, and says so', async () => {
		const on = await run('activate');
		expect(on.managementAccess).toEqual({
			sources: ['203.0.113.0/24', '2001:db8:1::/48'],
			ports: ['22'],
			from: 'the sources the firewall already allowed on the management ports',
		});
	});

	it('opens the management ports to anywhere only when no rule allowed them, and says so', async () => {
		const on = await run('activate', { managementPorts: '2222' });
		expect(on.managementAccess).toMatchObject({
			sources: ['0.0.0.0/0', '::/0'],
			from: 'anywhere: the firewall allowed no source on the management ports',
		});
	});

	it('uses the sources the user typed', async () => {
		const on = await run('activate', { managementSources: '198.51.100.7' });
		expect(on.managementAccess).toMatchObject({
			sources: ['198.51.100.7/32'],
			from: 'Management Sources parameter',
		});
		expect(web.rules.inbound![0].addresses).toEqual({ ipv4: ['198.51.100.7/32'] });
	});
});
