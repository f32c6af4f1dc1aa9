import { jsonOf, listSearch, runNode } from '../../helpers/runNode';
import { operationParams, rl, simulatorPerTest } from '../../helpers/fixture';
import { ZONE, cloudflareRun, startCloudflare } from './fixture';
import { freshNode } from '../../simulators/restart';

/** A fresh node per test, and after each simulated restart: no process-wide records carried over. */
const restarted = () =>
	freshNode('Cloudflare/UnderAttack/CloudflareUnderAttack.node', 'CloudflareUnderAttack');
let node = restarted();
beforeEach(() => {
	node = restarted();
});
const sim = simulatorPerTest(startCloudflare);

const params = operationParams(() => ({ zoneId: rl(ZONE) }));
const zone = () => sim.zones.get(ZONE)!;

describe('Cloudflare Under Attack Mode', () => {
	it('reads the security level', async () => {
		const [status] = jsonOf(await runNode(node, cloudflareRun(sim, params('getStatus'))));
		expect(status).toMatchObject({
			provider: 'cloudflareUnderAttack',
			target: ZONE,
			active: false,
			securityLevel: 'high',
		});
	});

	it('turns Under Attack on and restores exactly the level it found (high)', async () => {
		const staticData = {};
		const [on] = jsonOf(
			await runNode(node, cloudflareRun(sim, params('activate'), { staticData })),
		);
		expect(on).toMatchObject({ active: true, changed: true, previousLevel: 'high' });
		expect(zone().security_level).toBe('under_attack');
		const [off] = jsonOf(
			await runNode(node, cloudflareRun(sim, params('withdraw'), { staticData })),
		);
		expect(off).toMatchObject({
			active: false,
			changed: true,
			securityLevel: 'high',
			restoredFrom: 'activation record',
		});
		expect(zone().security_level).toBe('high');
	});

	it('keeps the saved level through a second activate', async () => {
		const staticData = {};
		await runNode(node, cloudflareRun(sim, params('activate'), { staticData }));
		const writes = sim.writes().length;
		const [again] = jsonOf(
			await runNode(node, cloudflareRun(sim, params('activate'), { staticData })),
		);
		expect(again).toMatchObject({ active: true, changed: false, levelToRestore: 'high' });
		expect(sim.writes()).toHaveLength(writes);
		await runNode(node, cloudflareRun(sim, params('withdraw'), { staticData }));
		expect(zone().security_level).toBe('high');
	});

	it('after an n8n restart, a later execution finds the saved level (static data)', async () => {
		const staticData = {};
		await runNode(node, cloudflareRun(sim, params('activate'), { staticData }));
		node = restarted();
		await runNode(
			node,
			cloudflareRun(sim, params('withdraw'), {
				staticData: JSON.parse(JSON.stringify(staticData)),
			}),
		);
		expect(zone().security_level).toBe('high');
	});

	it('finds the saved level in a manual run or another workflow of the same n8n', async () => {
		await runNode(node, cloudflareRun(sim, params('activate'), { staticData: {} }));
		await runNode(node, cloudflareRun(sim, params('withdraw'), { staticData: {} }));
		expect(zone().security_level).toBe('high');
	});

	it('uses the fallback level only when nothing was kept', async () => {
		zone().security_level = 'under_attack';
		const [off] = jsonOf(
			await runNode(
				node,
				cloudflareRun(sim, params('withdraw', { fallbackLevel: 'low' }), { staticData: {} }),
			),
		);
		expect(off).toMatchObject({
			changed: true,
			securityLevel: 'low',
			restoredFrom: 'fallback level',
		});
	});

	it('leaves Under Attack on when it was on before activation, unless forced', async () => {
		zone().security_level = 'under_attack';
		const staticData = {};
		await runNode(node, cloudflareRun(sim, params('activate'), { staticData }));
		const [kept] = jsonOf(
			await runNode(node, cloudflareRun(sim, params('withdraw'), { staticData })),
		);
		expect(kept).toMatchObject({ active: true, changed: false });
		const [forced] = jsonOf(
			await runNode(
				node,
				cloudflareRun(sim, params('withdraw', { forceWithdraw: true }), { staticData }),
			),
		);
		expect(forced).toMatchObject({ active: false, changed: true, securityLevel: 'medium' });
	});

	it('reports a setting that is not editable as an error and changes nothing', async () => {
		zone().editable = false;
		await expect(runNode(node, cloudflareRun(sim, params('activate')))).rejects.toThrow(
			/not editable/,
		);
		expect(zone().security_level).toBe('high');
		expect(sim.writes()).toHaveLength(0);
	});

	it('explains a missing Zone Settings permission', async () => {
		sim.addToken('cf-test-token-0123456789', ['zone_settings:read']);
		const error = await runNode(node, cloudflareRun(sim, params('activate'))).catch((e) => e);
		expect(error.description).toMatch(/Zone: Zone Settings: Edit/);
	});

	it('explains an unknown zone id', async () => {
		const error = await runNode(
			node,
			cloudflareRun(sim, params('getStatus', { zoneId: rl('0123456789abcdef0123456789abcdef') })),
		).catch((e) => e);
		expect(error.message).toMatch(/could not find the zone/);
		expect(error.description).toMatch(/not the Account ID/);
	});

	it('searches zones by name, page by page', async () => {
		for (let i = 0; i < 60; i++)
			sim.addZone({ id: `${i}`.padStart(32, 'a'), name: `site${i}.example.net` });
		const first = await listSearch(node, 'searchZones', cloudflareRun(sim, {}), 'example.net');
		expect(first.results).toHaveLength(50);
		const second = await listSearch(
			node,
			'searchZones',
			cloudflareRun(sim, {}),
			'example.net',
			first.paginationToken,
		);
		expect(second.results).toHaveLength(10);
		expect(second.paginationToken).toBeUndefined();
	});
});
