import { rl, simulatorPerTest } from '../../helpers/fixture';
import { failureOf, jsonOf, listSearch, runNode } from '../../helpers/runNode';
import {
	BLOCK,
	IP,
	LOCKDOWN_RULES,
	SINGLE,
	addUsersFirewall,
	ovhRun,
	params,
	startOvh,
} from './fixture';
import { restartableNode } from '../../simulators/restart';

/** A fresh node per test; `node.restart()` plays an n8n restart (no process-wide records). */
const node = restartableNode('Ovh/OvhDdosProtection.node', 'OvhDdosProtection');
const sim = simulatorPerTest(startOvh);

const lockdown = (extra: Record<string, unknown> = {}) =>
	params('activate', { mode: 'lockdown', servicePorts: '443/tcp, 27015/udp', ...extra });
const run = async (parameters: Record<string, unknown>, staticData = {}) =>
	jsonOf(await runNode(node, ovhRun(sim, parameters, { staticData })))[0];
const snapshot = () => sim.firewallSnapshot(BLOCK, IP);
const writes = () => sim.writes().length;

describe('OVH DDoS Protection: Get Status', () => {
	it('reads an IP with no firewall and no mitigation (404) as inactive, not an error', async () => {
		const status = await run(params('getStatus'));
		expect(status).toMatchObject({
			provider: 'ovhDdosProtection',
			target: IP,
			operation: 'getStatus',
			active: false,
			changed: false,
			firewall: 'none',
			rules: [],
			antiDdos: { underMitigation: false, auto: false, state: null, permanentFlag: false },
			warnings: [],
		});
		expect(sim.log.some((r) => r.status === 404)).toBe(true);
	});

	it('reports auto-mitigation, and the retired permanent flag as such, nothing more', async () => {
		sim.blocks.get(BLOCK)!.mitigations.set(IP, {
			ipOnMitigation: IP,
			auto: true,
			permanent: true,
			state: 'ok',
		});
		const status = await run(params('getStatus'));
		expect(status).toMatchObject({
			active: false,
			firewall: 'none',
			antiDdos: { underMitigation: true, auto: true, state: 'ok', permanentFlag: true },
		});
		expect(status.warnings).toEqual([expect.stringMatching(/retired .* flag has no effect/)]);
	});

	it('reads an enabled firewall with its rules and their state: active', async () => {
		addUsersFirewall(sim, true);
		const status = await run(params('getStatus'));
		expect(status).toMatchObject({ active: true, firewall: 'enabled', firewallState: 'ok' });
		expect(status.rules).toHaveLength(6);
		expect((status.rules as Array<Record<string, unknown>>)[0]).toMatchObject({
			sequence: 0,
			action: 'permit',
			protocol: 'tcp',
			source: '198.51.100.0/24',
			destinationPort: 'eq 22',
			state: 'ok',
		});
		expect(status.warnings).toEqual([]);
	});
});

describe('OVH DDoS Protection: Enable my Edge Network Firewall', () => {
	it(
		'creates the firewall of an IP that has none, enables it, and says it filters nothing ' +
			'without rules',
		async () => {
			const activated = await run(params('activate'));
			expect(activated).toMatchObject({
				active: true,
				changed: true,
				mode: 'enableFirewall',
				firewall: 'enabled',
				firewallState: 'ok',
				pending: false,
				original: { firewall: 'none' },
			});
			expect(activated.warnings).toEqual([
				expect.stringMatching(/enabled with no rules: it filters nothing/),
			]);
			expect(sim.writes().map((r) => `${r.method} ${r.path}`)).toEqual([
				`POST /ip/${BLOCK}/firewall`,
				`PUT /ip/${BLOCK}/firewall/${IP}`,
			]);
			expect(sim.edgeFiltering(BLOCK, IP)).toBe(true);
		},
	);

	it('withdraw deletes the firewall activation created; repeats write nothing', async () => {
		await run(params('activate'));
		const again = await run(params('activate'));
		expect(again).toMatchObject({ active: true, changed: false });
		expect(writes()).toBe(2);
		const withdrawn = await run(params('withdraw'));
		expect(withdrawn).toMatchObject({ active: false, changed: true, firewall: 'none' });
		expect(snapshot()).toBe('none');
		const count = writes();
		expect(await run(params('withdraw'))).toMatchObject({ active: false, changed: false });
		expect(writes()).toBe(count);
	});

	it('enables a disabled firewall, rules untouched; withdraw disables it again', async () => {
		addUsersFirewall(sim, false);
		const before = snapshot();
		const activated = await run(params('activate'));
		expect(activated).toMatchObject({
			active: true,
			changed: true,
			original: { firewall: 'disabled' },
		});
		expect(activated.warnings).toEqual([]);
		expect(sim.writes().map((r) => r.method)).toEqual(['PUT']);
		await run(params('withdraw'));
		expect(snapshot()).toEqual(before);
	});

	it('leaves a firewall enabled before activation enabled, unless Force Withdraw', async () => {
		addUsersFirewall(sim, true);
		expect(await run(params('activate'))).toMatchObject({ active: true, changed: false });
		const kept = await run(params('withdraw'));
		expect(kept).toMatchObject({ active: true, changed: false });
		expect(await run(params('withdraw'))).toMatchObject({ active: true, changed: false });
		expect(writes()).toBe(0);
		const forced = await run(params('withdraw', { forceWithdraw: true }));
		expect(forced).toMatchObject({ active: false, changed: true, firewall: 'disabled' });
	});

	it('warns of rules without a final deny, or a deny without permit tcp established', async () => {
		sim.addFirewall(BLOCK, IP, false, [
			{ sequence: 0, action: 'deny', protocol: 'udp', destinationPort: 'eq 19' },
		]);
		const open = await run(params('activate'));
		expect(open.warnings).toEqual([expect.stringMatching(/no final "deny ipv4" rule/)]);
		sim.addFirewall(BLOCK, IP, true, [{ sequence: 19, action: 'deny', protocol: 'ipv4' }]);
		const status = await run(params('getStatus'));
		expect(status.warnings).toEqual([expect.stringMatching(/no "permit tcp established"/)]);
	});

	it('never sends the retired POST /ip/{block}/mitigation', async () => {
		for (const operation of ['getStatus', 'activate', 'withdraw']) await run(params(operation));
		await run(lockdown());
		await run(params('withdraw'));
		expect(sim.retiredMitigationPosts).toBe(0);
		expect(sim.log.filter((r) => r.path.endsWith('/mitigation') && r.method === 'POST')).toEqual(
			[],
		);
	});

	it('uses the block address for a single-IP (/32) block when IP is empty', async () => {
		const result = await run({ operation: 'activate', ipBlock: rl(SINGLE), ip: '' });
		expect(result).toMatchObject({ target: '198.51.100.7', ip: '198.51.100.7', changed: true });
		expect(sim.edgeFiltering(SINGLE, '198.51.100.7')).toBe(true);
	});
});

describe('OVH DDoS Protection: Lockdown Rules', () => {
	it(
		'replaces an enabled firewall’s rules by the lockdown; withdraw re-creates every original ' +
			'field',
		async () => {
			addUsersFirewall(sim, true);
			const before = snapshot();
			const activated = await run(lockdown());
			expect(activated).toMatchObject({ active: true, changed: true, mode: 'lockdown' });
			expect((activated.original as { rules: unknown[] }).rules).toHaveLength(6);
			expect(snapshot()).toMatchObject({
				enabled: true,
				rules: LOCKDOWN_RULES.map((rule) => expect.objectContaining(rule)),
			});
			// The final deny was equal in both sets: kept, never deleted.
			expect(sim.writes().filter((r) => r.path.endsWith('/rule/19'))).toEqual([]);

			const withdrawn = await run(params('withdraw'));
			expect(withdrawn).toMatchObject({
				active: true,
				changed: true,
				restoredFrom: 'activation record',
			});
			expect(snapshot()).toEqual(before);
			const count = writes();
			await run(params('withdraw'));
			expect(writes()).toBe(count);
		},
	);

	it('keeps a management port open from the management sources only', async () => {
		await run(
			lockdown({ managementSources: '192.0.2.0/24, 198.51.100.9', managementPorts: '22, 2222' }),
		);
		const rules = (snapshot() as { rules: Array<Record<string, unknown>> }).rules;
		expect(
			rules.filter((r) => r.destinationPort === 'eq 22' || r.destinationPort === 'eq 2222'),
		).toEqual([
			expect.objectContaining({ sequence: 1, source: '192.0.2.0/24', destinationPort: 'eq 22' }),
			expect.objectContaining({ sequence: 2, source: '192.0.2.0/24', destinationPort: 'eq 2222' }),
			expect.objectContaining({ sequence: 3, source: '198.51.100.9/32', destinationPort: 'eq 22' }),
			expect.objectContaining({
				sequence: 4,
				source: '198.51.100.9/32',
				destinationPort: 'eq 2222',
			}),
		]);
	});

	it('locks down an IP with no firewall, and withdraw deletes the firewall again', async () => {
		await run(lockdown());
		expect(snapshot()).toMatchObject({ enabled: true, rules: expect.any(Array) });
		await run(params('withdraw'));
		expect(snapshot()).toBe('none');
	});

	it('disables a firewall that was disabled before, with its original rules back', async () => {
		addUsersFirewall(sim, false);
		const before = snapshot();
		await run(lockdown());
		await run(params('withdraw'));
		expect(snapshot()).toEqual(before);
	});

	it('a second activate writes nothing and never overwrites the saved original rules', async () => {
		addUsersFirewall(sim, true);
		const before = snapshot();
		const first = await run(lockdown());
		const count = writes();
		const second = await run(lockdown());
		expect(second).toMatchObject({ active: true, changed: false });
		expect(second.original).toEqual(first.original);
		expect(writes()).toBe(count);
		await run(params('withdraw'));
		expect(snapshot()).toEqual(before);
	});

	it('enable mode, then a lockdown: withdraw restores the rules and disabled state', async () => {
		addUsersFirewall(sim, false);
		const before = snapshot();
		await run(params('activate'));
		await run(lockdown());
		await run(params('withdraw'));
		expect(snapshot()).toEqual(before);
	});

	it('another workflow with no record restores exactly from Configuration to Restore', async () => {
		addUsersFirewall(sim, false);
		const before = snapshot();
		const { original } = await run(lockdown(), {});
		node.restart();
		const withdrawn = await run(
			params('withdraw', { restoreConfiguration: JSON.stringify(original) }),
			{},
		);
		expect(withdrawn).toMatchObject({ restoredFrom: 'Configuration to Restore' });
		expect(snapshot()).toEqual(before);
	});

	it(
		'with no record and no configuration, withdraw turns the firewall off and says the rules ' +
			'stay',
		async () => {
			addUsersFirewall(sim, true);
			await run(lockdown(), {});
			node.restart();
			const withdrawn = await run(params('withdraw'), {});
			expect(withdrawn).toMatchObject({ active: false, changed: true, firewall: 'disabled' });
			expect(withdrawn.restoredFrom).toMatch(/no record .* rules left as they are/);
		},
	);

	it(
		'waits for each pending change; a change still pending at Max Wait stops, and a rerun ' +
			'finishes',
		async () => {
			addUsersFirewall(sim, true);
			const before = snapshot();
			sim.settleAfterReads = 1_000;
			const error = await failureOf(node, ovhRun(sim, { ...lockdown(), maxWait: 1 }));
			expect(error.message).toMatch(
				/activate stopped: OVH had not applied "deleting rule .*" within Max Wait/,
			);
			expect(error.description).toMatch(/Run Activate again/);
			// OVH finishes the pending task later; the next run goes on from there.
			for (const rule of sim.firewall(BLOCK, IP)!.rules.values()) rule.pendingReads = 0;
			sim.settleAfterReads = 0;
			expect(await run(lockdown())).toMatchObject({ active: true, changed: true, pending: false });
			await run(params('withdraw'));
			expect(snapshot()).toEqual(before);
		},
	);

	it('without Wait Until Applied, reports the last change as still pending', async () => {
		sim.settleAfterReads = 1_000;
		const activated = await run(params('activate', { waitUntilApplied: false, maxWait: 5 }));
		expect(activated).toMatchObject({
			active: true,
			changed: true,
			pending: true,
			firewallState: 'enableFirewallPending',
		});
	});
});

describe('OVH DDoS Protection: auto-mitigation timeout during the incident', () => {
	it('creates a mitigation profile with the raised timeout; withdraw removes it', async () => {
		const activated = await run(params('activate', { autoMitigationTimeOut: '1560' }));
		expect(activated).toMatchObject({
			active: true,
			autoMitigationTimeOut: 1560,
			original: { firewall: 'none', profile: 'none' },
		});
		expect(sim.mitigationProfile(BLOCK, IP)).toBe(1560);
		const count = writes();
		await run(params('activate', { autoMitigationTimeOut: '1560' }));
		expect(writes()).toBe(count);
		expect(await run(params('getStatus'))).toMatchObject({
			antiDdos: { autoMitigationTimeOut: 1560 },
		});
		await run(params('withdraw'));
		expect(sim.mitigationProfile(BLOCK, IP)).toBe('none');
		expect(snapshot()).toBe('none');
	});

	it('puts back the timeout the IP had, with a lockdown restored exactly', async () => {
		addUsersFirewall(sim, false);
		sim.addMitigationProfile(BLOCK, IP, 15);
		const before = snapshot();
		await run(lockdown({ autoMitigationTimeOut: '360' }));
		expect(sim.mitigationProfile(BLOCK, IP)).toBe(360);
		await run(params('withdraw'));
		expect(sim.mitigationProfile(BLOCK, IP)).toBe(15);
		expect(snapshot()).toEqual(before);
	});

	it('leaves the profile alone when the option is left unchanged', async () => {
		sim.addMitigationProfile(BLOCK, IP, 60);
		await run(params('activate'));
		await run(params('withdraw'));
		expect(sim.writes().filter((r) => r.path.includes('mitigationProfiles'))).toEqual([]);
	});
});

describe('OVH DDoS Protection: input refused before any request', () => {
	it.each([
		['an IPv6 block', params('activate', { ipBlock: rl('2001:db8::/48') }), /IPv4 addresses only/],
		[
			'a block length over 32',
			params('activate', { ipBlock: rl('203.0.113.0/33') }),
			/is not an IPv4 address or block/,
		],
		[
			'a misaligned block',
			params('activate', { ipBlock: rl('203.0.113.5/24') }),
			/does not start on its \/24 boundary/,
		],
		[
			'no IP in a /24',
			params('activate', { ip: '' }),
			/Enter the IP to protect: the block 203.0.113.0\/24 holds 256/,
		],
		[
			'an IP outside the block',
			params('activate', { ip: '198.51.100.1' }),
			/198.51.100.1 is not inside the block/,
		],
		[
			'an IP that is not one',
			params('activate', { ip: 'not-an-ip' }),
			/'not-an-ip' is not an IPv4 address/,
		],
		[
			'a port over 65535',
			lockdown({ servicePorts: '70000/tcp' }),
			/service port '70000' is not a single port/,
		],
		[
			'a protocol other than tcp/udp',
			lockdown({ servicePorts: '443/sctp' }),
			/'443\/sctp' is not written like 443\/tcp/,
		],
		[
			'a port range (OVH rules take one port)',
			lockdown({ managementPorts: '8000-8100' }),
			/management port '8000-8100' is not a single port/,
		],
		['an IPv6 management source', lockdown({ managementSources: '2001:db8::/32' }), /is IPv6/],
		['no management port', lockdown({ managementPorts: '' }), /lockdown locks you out/],
		[
			'more than 20 rules',
			lockdown({ servicePorts: Array.from({ length: 18 }, (_, i) => `${1000 + i}/udp`).join(',') }),
			/it needs 21 rules .* OVH allows 20 per IP/,
		],
		[
			'a Configuration to Restore of the wrong shape',
			params('withdraw', { restoreConfiguration: '{"firewall": "on"}' }),
			/Invalid Configuration to Restore/,
		],
	])('refuses %s', async (_label, parameters, message) => {
		await expect(runNode(node, ovhRun(sim, parameters))).rejects.toThrow(message);
		expect(sim.log).toHaveLength(0);
	});

	it('refuses a lockdown whose rules it could not re-create, before any write', async () => {
		sim.addFirewall(BLOCK, IP, true, [
			{ sequence: 0, action: 'permit', protocol: 'udp', destinationPort: 'range 27015 27030' },
		]);
		await expect(runNode(node, ovhRun(sim, lockdown()))).rejects.toThrow(
			/rule 0 .* has a port range/,
		);
		expect(writes()).toBe(0);
	});

	it('suggests the aligned block for a misaligned one', async () => {
		const error = await failureOf(
			node,
			ovhRun(sim, params('getStatus', { ipBlock: rl('203.0.113.5/24') })),
		);
		expect(error.description).toMatch(/Did you mean 203.0.113.0\/24\?/);
	});
});

describe('OVH DDoS Protection: lists', () => {
	it('lists the IPs OVH is mitigating, and the blocks of the account', async () => {
		sim.blocks.get(BLOCK)!.mitigations.set(IP, {
			ipOnMitigation: IP,
			auto: true,
			permanent: false,
			state: 'ok',
		});
		const listed = jsonOf(
			await runNode(node, ovhRun(sim, { operation: 'listMitigations', ipBlock: rl(BLOCK) })),
		);
		expect(listed).toEqual([
			expect.objectContaining({ ipBlock: BLOCK, ipOnMitigation: IP, auto: true, state: 'ok' }),
		]);
		const blocks = jsonOf(await runNode(node, ovhRun(sim, { operation: 'listIpBlocks' })));
		expect(blocks.map((b) => b.ipBlock)).toEqual([BLOCK, SINGLE]);
		const search = await listSearch(node, 'searchIpBlocks', ovhRun(sim, {}), '198.51');
		expect(search.results).toEqual([{ name: SINGLE, value: SINGLE }]);
	});

	it('reports a failing item and goes on with the next with Continue On Fail', async () => {
		const result = await runNode(
			node,
			ovhRun(
				sim,
				{ operation: 'getStatus', ipBlock: rl(BLOCK) },
				{
					items: [{ json: {} }, { json: {} }],
					itemParameters: [{ ip: '10.0.0.1' }, { ip: IP }],
					continueOnFail: true,
				},
			),
		);
		const [first, second] = result.output[0];
		expect(first.json.error).toMatch(/not inside the block/);
		expect(first.pairedItem).toEqual({ item: 0 });
		expect(second.json).toMatchObject({ active: false, ip: IP });
		expect(second.pairedItem).toEqual({ item: 1 });
	});
});
