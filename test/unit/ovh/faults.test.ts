import { simulatorPerTest } from '../../helpers/fixture';
import { jsonOf, runNode } from '../../helpers/runNode';
import type { OvhSimulator, WriteFault } from '../../simulators/ovh';
import { BLOCK, IP, addUsersFirewall, ovhRun, params, startOvh } from './fixture';
import { restartableNode } from '../../simulators/restart';

/**
 * Every write of an activate and of a withdraw fails in turn: outright, or after OVH applied it (a
 * 500, or the connection closed), under the default retry policy. Whatever happened, running the
 * operation again completes it, and the withdraw puts the firewall back exactly as it was.
 */

/** A fresh node per test; `node.restart()` plays an n8n restart (no process-wide records). */
const node = restartableNode('Ovh/OvhDdosProtection.node', 'OvhDdosProtection');
const sim = simulatorPerTest(startOvh);

/** Empty request options: the default retry policy. */
const activate = (scenario: Scenario) =>
	params('activate', {
		mode: scenario.mode,
		servicePorts: '443/tcp',
		autoMitigationTimeOut: scenario.timeout ?? 'unchanged',
		requestOptions: {},
	});
const withdraw = params('withdraw', { requestOptions: {} });

/** What a restore must give back: the firewall and the auto-mitigation timeout. */
const snapshot = () => ({
	firewall: sim.firewallSnapshot(BLOCK, IP),
	profile: sim.mitigationProfile(BLOCK, IP),
});

/** Runs the node with the default retry policy; a failure is returned, not thrown. */
const run = async (parameters: Record<string, unknown>) =>
	await runNode(node, ovhRun(sim, parameters)).then(
		(result) => jsonOf(result)[0],
		(error: Error) => error,
	);

interface Scenario {
	name: string;
	setup: (s: OvhSimulator) => void;
	mode: string;
	timeout?: string;
	activateWrites: number;
	withdrawWrites: number;
}

const SCENARIOS: Scenario[] = [
	{
		name: 'enable mode, IP without a firewall',
		setup: () => undefined,
		mode: 'enableFirewall',
		// create, enable / delete
		activateWrites: 2,
		withdrawWrites: 1,
	},
	{
		name: 'lockdown of an enabled firewall',
		setup: (s) => addUsersFirewall(s, true),
		mode: 'lockdown',
		// 5 original rules out, 3 lockdown rules in (the final deny is the same) / and back
		activateWrites: 8,
		withdrawWrites: 8,
	},
	{
		name: 'enable mode raising the auto-mitigation timeout of an IP without profile',
		setup: () => undefined,
		mode: 'enableFirewall',
		timeout: '360',
		// create, enable, create the profile / delete the firewall, delete the profile
		activateWrites: 3,
		withdrawWrites: 2,
	},
	{
		name: 'lockdown of a disabled firewall',
		setup: (s) => addUsersFirewall(s, false),
		mode: 'lockdown',
		activateWrites: 9,
		withdrawWrites: 9,
	},
];

const FAULTS: WriteFault[] = ['fail', 'lostReply', 'dropAfterApply'];

const cases = (phase: 'activateWrites' | 'withdrawWrites') =>
	SCENARIOS.flatMap((scenario) =>
		Array.from({ length: scenario[phase] }, (_, i) => i + 1).flatMap((n) =>
			FAULTS.map((fault) => [scenario.name, n, fault, scenario] as const),
		),
	);

describe.each(SCENARIOS)('OVH $name', (scenario) => {
	const { activateWrites, withdrawWrites } = scenario;
	it(`a clean activate makes ${activateWrites} writes and withdraw ${withdrawWrites}`, async () => {
		scenario.setup(sim);
		const before = snapshot();
		expect(await run(activate(scenario))).toMatchObject({ active: true, changed: true });
		expect(sim.writes()).toHaveLength(scenario.activateWrites);
		expect(await run(withdraw)).toMatchObject({ changed: true });
		expect(sim.writes()).toHaveLength(scenario.activateWrites + scenario.withdrawWrites);
		expect(snapshot()).toEqual(before);
	});
});

describe('OVH activate: each write failing in turn', () => {
	it.each(cases('activateWrites'))(
		'%s: write %i (%s), then activate again and withdraw restores exactly',
		async (_name, n, fault, scenario) => {
			scenario.setup(sim);
			const before = snapshot();
			sim.faultWrite(n, fault);
			const first = await run(activate(scenario));
			if (fault === 'fail') expect((first as Error).message).toMatch(/activate stopped while/);
			expect(await run(activate(scenario))).toMatchObject({ active: true, pending: false });
			expect(sim.edgeFiltering(BLOCK, IP)).toBe(true);
			expect(await run(withdraw)).toMatchObject({ pending: false });
			expect(snapshot()).toEqual(before);
		},
	);

	it.each(cases('activateWrites'))(
		'%s: write %i (%s), then withdraw at once restores exactly',
		async (_name, n, fault, scenario) => {
			scenario.setup(sim);
			const before = snapshot();
			sim.faultWrite(n, fault);
			await run(activate(scenario));
			expect(await run(withdraw)).toMatchObject({ pending: false });
			expect(snapshot()).toEqual(before);
		},
	);
});

describe('OVH withdraw: each write failing in turn', () => {
	it.each(cases('withdrawWrites'))(
		'%s: write %i (%s), then withdraw again restores exactly and a third writes nothing',
		async (_name, n, fault, scenario) => {
			scenario.setup(sim);
			const before = snapshot();
			await run(activate(scenario));
			sim.faultWrite(n, fault);
			const first = await run(withdraw);
			if (fault === 'fail') expect((first as Error).message).toMatch(/withdraw stopped while/);
			expect(await run(withdraw)).toMatchObject({ pending: false });
			expect(snapshot()).toEqual(before);
			const writes = sim.writes().length;
			expect(await run(withdraw)).toMatchObject({ changed: false });
			expect(sim.writes()).toHaveLength(writes);
		},
	);
});
