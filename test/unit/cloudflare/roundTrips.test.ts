import type { CloudflareSimulator } from '../../simulators/cloudflare';
import { restartableNode } from '../../simulators/restart';
import { operationParams, rl, simulatorPerTest } from '../../helpers/fixture';
import { countRoundTrips } from '../../helpers/roundTrips';
import { runNode } from '../../helpers/runNode';
import { ZONE, cloudflareRun, startCloudflare } from './fixture';

/**
 * Time to mitigate, counted in provider round trips: the security level is read once (the level to
 * restore, whether it is already on, whether it is editable), then written.
 */
const node = restartableNode(
	'Cloudflare/UnderAttack/CloudflareUnderAttack.node',
	'CloudflareUnderAttack',
);
let sim: CloudflareSimulator;
simulatorPerTest(async () => (sim = await startCloudflare()));

const params = operationParams(() => ({ zoneId: rl(ZONE) }));
const isLevelWrite = (request: { method: string; path: string }) =>
	request.method === 'PATCH' && request.path.endsWith('/settings/security_level');

describe('Cloudflare Under Attack Mode: round trips before the write', () => {
	it('activate waits one round trip (the level read) before switching Under Attack on', async () => {
		const staticData = {};
		const roundTrips = countRoundTrips(sim);
		await runNode(node, cloudflareRun(sim, params('activate'), { staticData }));
		expect(roundTrips.before(isLevelWrite)).toBe(1);
		expect(sim.zones.get(ZONE)!.security_level).toBe('under_attack');
	});

	it('withdraw waits one round trip (the level read) before restoring the level', async () => {
		const staticData = {};
		await runNode(node, cloudflareRun(sim, params('activate'), { staticData }));
		const roundTrips = countRoundTrips(sim);
		await runNode(node, cloudflareRun(sim, params('withdraw'), { staticData }));
		expect(roundTrips.before(isLevelWrite)).toBe(1);
		expect(sim.zones.get(ZONE)!.security_level).toBe('high');
	});
});
