import { hex32, type CloudflareSimulator } from '../../simulators/cloudflare';
import { restartableNode } from '../../simulators/restart';
import { operationParams, rl, simulatorPerTest } from '../../helpers/fixture';
import { countRoundTrips } from '../../helpers/roundTrips';
import { runNode } from '../../helpers/runNode';
import { ACCOUNT, PREFIX, ZONE, cloudflareRun, startCloudflare } from './fixture';

/**
 * Time to mitigate, counted in provider round trips: the security level is read once (the level to
 * restore, whether it is already on, whether it is editable), then written.
 */
const node = restartableNode(
	'Cloudflare/UnderAttack/CloudflareUnderAttack.node',
	'CloudflareUnderAttack',
);
const magicTransit = restartableNode(
	'Cloudflare/MagicTransit/CloudflareMagicTransit.node',
	'CloudflareMagicTransit',
);
let sim: CloudflareSimulator;
const SUBNET = hex32('bgp-203-0-113-0');
simulatorPerTest(async () => {
	sim = await startCloudflare();
	sim.addBgpPrefix(PREFIX, { id: SUBNET, cidr: '203.0.113.0/25' });
	return sim;
});

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

/**
 * Magic Transit reads the IP prefix and the advertisement side by side; a BGP prefix given by CIDR
 * is found in the list of BGP prefixes, read alongside the IP prefix, and that listed entry is its
 * first read.
 */
describe('Cloudflare Magic Transit: round trips before the advertisement', () => {
	const advertise = (extra: Record<string, unknown> = {}) => ({
		operation: 'activate',
		accountId: rl(ACCOUNT),
		prefixId: rl(PREFIX),
		...extra,
	});
	const isPatch = (request: { method: string }) => request.method === 'PATCH';

	it('advertises the whole prefix after one round trip', async () => {
		const roundTrips = countRoundTrips(sim);
		await runNode(magicTransit, cloudflareRun(sim, advertise()));
		expect(roundTrips.before(isPatch)).toBe(1);
	});

	it('advertises a BGP prefix given by CIDR after one round trip', async () => {
		const roundTrips = countRoundTrips(sim);
		const bgpPrefixId = { __rl: true, mode: 'cidr', value: '203.0.113.0/25' };
		await runNode(
			magicTransit,
			cloudflareRun(sim, advertise({ advertisement: 'bgpPrefix', bgpPrefixId })),
		);
		expect(roundTrips.before(isPatch)).toBe(1);
		expect(sim.bgpPrefixesOf(PREFIX).get(SUBNET)!.on_demand?.advertised).toBe(true);
	});
});
