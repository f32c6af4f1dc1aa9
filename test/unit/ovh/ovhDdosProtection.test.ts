import { jsonOf, listSearch, runNode } from '../../helpers/runNode';
import type { OvhSimulator } from '../../simulators/ovh';
import { BLOCK, IP, SINGLE, ovhRun, rl, startOvh } from './fixture';
import { restartedNode } from '../../simulators/restart';

/** A fresh node per test, and after each simulated restart: no process-wide records carried over. */
const restarted = () =>
	restartedNode(
		() =>
			new (
				require('../../../nodes/Ovh/OvhDdosProtection.node') as typeof import('../../../nodes/Ovh/OvhDdosProtection.node')
			).OvhDdosProtection(),
	);
let node = restarted();
beforeEach(() => {
	node = restarted();
});
let sim: OvhSimulator;

beforeEach(async () => {
	sim = await startOvh();
});
afterEach(async () => {
	await sim.stop();
});

const params = (operation: string, extra: Record<string, unknown> = {}) => ({
	operation,
	ipBlock: rl(BLOCK),
	ip: IP,
	...extra,
});
const entry = () => sim.mitigation(BLOCK, IP);
const putOnPermanentByHand = () =>
	sim.blocks.get(BLOCK)!.mitigations.set(IP, {
		ipOnMitigation: IP,
		auto: false,
		permanent: true,
		state: 'ok',
		pendingReads: 0,
	});

describe('OVH DDoS Protection', () => {
	it('reads an IP that is not on mitigation (OVH answers 404) as inactive, not as an error', async () => {
		const [status] = jsonOf(await runNode(node, ovhRun(sim, params('getStatus'))));
		expect(status).toMatchObject({
			provider: 'ovhDdosProtection',
			target: IP,
			operation: 'getStatus',
			active: false,
			changed: false,
			ipBlock: BLOCK,
			state: 'none',
			routedTo: 'ns1234567.ip-203-0-113.eu',
		});
		expect(sim.log.some((r) => r.status === 404)).toBe(true);
	});

	it('puts the IP on permanent mitigation with a signed POST, using OVH server time', async () => {
		const [result] = jsonOf(await runNode(node, ovhRun(sim, params('activate'))));
		expect(result).toMatchObject({
			active: true,
			changed: true,
			permanent: true,
			state: 'creationPending',
		});
		expect(entry()).toMatchObject({ permanent: true });
		expect(sim.log[0]).toMatchObject({ method: 'GET', path: '/auth/time' });
		expect(sim.log.filter((r) => r.path === '/auth/time')).toHaveLength(1);
		expect(sim.writes()).toEqual([
			{ method: 'POST', path: `/ip/${BLOCK}/mitigation`, status: 200 },
		]);
	});

	it('waits until OVH has applied it (creationPending -> ok) when asked', async () => {
		const [result] = jsonOf(
			await runNode(node, ovhRun(sim, params('activate', { waitUntilApplied: true, maxWait: 30 }))),
		);
		expect(result).toMatchObject({ active: true, changed: true, state: 'ok' });
		expect(result.note).toBe('Permanent mitigation is on.');
	});

	it('reports a change still pending after Max Wait instead of failing', async () => {
		sim.settleAfterReads = 100;
		const [result] = jsonOf(
			await runNode(node, ovhRun(sim, params('activate', { waitUntilApplied: true, maxWait: 1 }))),
		);
		expect(result).toMatchObject({ active: true, changed: true, state: 'creationPending' });
		expect(result.note).toMatch(/has not finished applying the change .* goes on by itself/);
	});

	it('activates idempotently: a second activate makes no write', async () => {
		const staticData = {};
		await runNode(node, ovhRun(sim, params('activate'), { staticData }));
		const [again] = jsonOf(await runNode(node, ovhRun(sim, params('activate'), { staticData })));
		expect(again).toMatchObject({ active: true, changed: false });
		expect(sim.writes()).toHaveLength(1);
	});

	it('withdraws (DELETE, back to automatic mode), waits until removed, then a second withdraw makes no write', async () => {
		const staticData = {};
		await runNode(
			node,
			ovhRun(sim, params('activate', { waitUntilApplied: true }), { staticData }),
		);
		const [withdrawn] = jsonOf(
			await runNode(
				node,
				ovhRun(sim, params('withdraw', { waitUntilApplied: true }), { staticData }),
			),
		);
		expect(withdrawn).toMatchObject({ active: false, changed: true, state: 'none' });
		expect(entry()).toBeUndefined();
		const writes = sim.writes().length;
		const [again] = jsonOf(await runNode(node, ovhRun(sim, params('withdraw'), { staticData })));
		expect(again).toMatchObject({ active: false, changed: false });
		expect(sim.writes()).toHaveLength(writes);
	});

	it('leaves an IP that was on permanent mitigation before activation, unless forced', async () => {
		putOnPermanentByHand();
		const staticData = {};
		const [activated] = jsonOf(
			await runNode(node, ovhRun(sim, params('activate'), { staticData })),
		);
		expect(activated).toMatchObject({ active: true, changed: false });
		const [kept] = jsonOf(await runNode(node, ovhRun(sim, params('withdraw'), { staticData })));
		expect(kept).toMatchObject({ active: true, changed: false });
		expect(kept.note).toMatch(/already on permanent mitigation before activation/);
		expect(sim.writes()).toHaveLength(0);
		const [forced] = jsonOf(
			await runNode(node, ovhRun(sim, params('withdraw', { forceWithdraw: true }), { staticData })),
		);
		expect(forced).toMatchObject({ active: false, changed: true });
	});

	it('finds the record in the n8n process when static data is not saved (a manual run)', async () => {
		putOnPermanentByHand();
		await runNode(node, ovhRun(sim, params('activate'), { staticData: {} }));
		const [kept] = jsonOf(await runNode(node, ovhRun(sim, params('withdraw'), { staticData: {} })));
		expect(kept).toMatchObject({ active: true, changed: false });
		expect(
			jsonOf(await runNode(node, ovhRun(sim, params('getStatus'), { staticData: {} })))[0],
		).toMatchObject({ activatedByThisPackage: false });
	});

	it('withdraws with no record of activation (another workflow after a restart), as a user pressing Withdraw expects', async () => {
		putOnPermanentByHand();
		node = restarted();
		const [result] = jsonOf(
			await runNode(node, ovhRun(sim, params('withdraw'), { staticData: {} })),
		);
		expect(result).toMatchObject({ active: false, changed: true });
	});

	it("leaves OVH's automatic mitigation alone: it is not permanent mitigation", async () => {
		sim.blocks.get(BLOCK)!.mitigations.set(IP, {
			ipOnMitigation: IP,
			auto: true,
			permanent: false,
			state: 'ok',
			pendingReads: 0,
		});
		const [status] = jsonOf(await runNode(node, ovhRun(sim, params('withdraw'))));
		expect(status).toMatchObject({ active: false, changed: false, autoMitigation: true });
		expect(status.note).toMatch(/automatic mitigation is handling it/);
		const [activated] = jsonOf(await runNode(node, ovhRun(sim, params('activate'))));
		expect(activated).toMatchObject({ active: true, changed: true, autoMitigation: true });
		const [withdrawn] = jsonOf(await runNode(node, ovhRun(sim, params('withdraw'))));
		expect(withdrawn).toMatchObject({ active: false, changed: true });
		expect(entry()).toMatchObject({ auto: true, permanent: false });
	});

	it('treats a 409 on POST (activated elsewhere at the same moment) as already active', async () => {
		sim.inject({
			method: 'POST',
			afterHandler: true,
			response: {
				status: 409,
				body: {
					class: 'Client::Conflict::AlreadyExists',
					message: `${IP} is already on permanent mitigation`,
				},
			},
		});
		const [result] = jsonOf(await runNode(node, ovhRun(sim, params('activate'))));
		expect(result).toMatchObject({ active: true, changed: false });
		expect(result.note).toMatch(/another change at the same time/);
	});

	it('uses the block address for a single-IP (/32) block when IP is empty', async () => {
		const [result] = jsonOf(
			await runNode(node, ovhRun(sim, { operation: 'activate', ipBlock: rl(SINGLE), ip: '' })),
		);
		expect(result).toMatchObject({ target: '198.51.100.7', ip: '198.51.100.7', changed: true });
		expect(sim.mitigation(SINGLE, '198.51.100.7')).toMatchObject({ permanent: true });
	});

	it.each([
		[{ ipBlock: rl('203.0.113.0/33') }, /is not an IPv4 address or block/],
		[{ ipBlock: rl('2001:db8::/48') }, /IPv4 addresses only/],
		[{ ipBlock: rl('203.0.113.5/24') }, /does not start on its \/24 boundary/],
		[
			{ ip: '' },
			/Enter the IP to put on mitigation: the block 203.0.113.0\/24 holds 256 addresses/,
		],
		[{ ip: '198.51.100.1' }, /198.51.100.1 is not inside the block 203.0.113.0\/24/],
		[{ ip: 'not-an-ip' }, /'not-an-ip' is not an IPv4 address/],
	])('refuses bad input %p before any call', async (override, message) => {
		await expect(runNode(node, ovhRun(sim, params('activate', override)))).rejects.toThrow(message);
		expect(sim.log).toHaveLength(0);
	});

	it('suggests the aligned block for a misaligned one', async () => {
		const error = await runNode(
			node,
			ovhRun(sim, params('getStatus', { ipBlock: rl('203.0.113.5/24') })),
		).catch((e) => e);
		expect(error.description).toMatch(/Did you mean 203.0.113.0\/24\?/);
	});

	it('lists the IPs of a block under mitigation, and the blocks of the account', async () => {
		putOnPermanentByHand();
		const listed = jsonOf(
			await runNode(node, ovhRun(sim, { operation: 'listMitigations', ipBlock: rl(BLOCK) })),
		);
		expect(listed).toEqual([
			expect.objectContaining({
				ipBlock: BLOCK,
				ipOnMitigation: IP,
				permanent: true,
				active: true,
			}),
		]);
		const blocks = jsonOf(await runNode(node, ovhRun(sim, { operation: 'listIpBlocks' })));
		expect(blocks.map((b) => b.ipBlock)).toEqual([BLOCK, SINGLE]);
		const search = await listSearch(node, 'searchIpBlocks', ovhRun(sim, {}), '198.51');
		expect(search.results).toEqual([{ name: SINGLE, value: SINGLE }]);
	});

	it('reports a failing item and continues with the next when Continue On Fail is set', async () => {
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
