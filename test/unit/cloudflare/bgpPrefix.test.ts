import type { IDataObject } from 'n8n-workflow';

import { hex32, type CloudflareSimulator, type SimBgpPrefix } from '../../simulators/cloudflare';
import {
	continueOnFailOutput,
	failureOf,
	jsonOf,
	listSearch,
	runNode,
	shownText,
} from '../../helpers/runNode';
import { rl } from '../../helpers/fixture';
import { ACCOUNT, TOKEN, cloudflareRun, startCloudflare } from './fixture';
import { freshNode } from '../../simulators/restart';

/** A fresh node per test, and after each simulated restart: no process-wide records carried over. */
const restarted = () =>
	freshNode('Cloudflare/MagicTransit/CloudflareMagicTransit.node', 'CloudflareMagicTransit');
let node = restarted();
beforeEach(() => {
	node = restarted();
});

/**
 * A /22 onboarded with three of its /24s as BGP prefixes (the third locked), and an IPv6 prefix
 * with one /48.
 */
const SUPERNET = hex32('prefix-198-18');
const SUBNET_0 = hex32('bgp-198-18-0');
const SUBNET_1 = hex32('bgp-198-18-1');
const LOCKED_SUBNET = hex32('bgp-198-18-2');
const V6_PREFIX = hex32('prefix-2001-db8');
const V6_SUBNET = hex32('bgp-2001-db8-1');

let sim: CloudflareSimulator;

beforeEach(async () => {
	sim = await startCloudflare();
	sim.addPrefix(ACCOUNT, { id: SUPERNET, cidr: '198.18.0.0/22', description: 'pop-1' });
	sim.addBgpPrefix(SUPERNET, { id: SUBNET_0, cidr: '198.18.0.0/24' });
	sim.addBgpPrefix(SUPERNET, { id: SUBNET_1, cidr: '198.18.1.0/24' });
	sim.addBgpPrefix(SUPERNET, {
		id: LOCKED_SUBNET,
		cidr: '198.18.2.0/24',
		on_demand: { on_demand_locked: true },
	});
	sim.addPrefix(ACCOUNT, { id: V6_PREFIX, cidr: '2001:db8::/32' });
	sim.addBgpPrefix(V6_PREFIX, { id: V6_SUBNET, cidr: '2001:db8:1::/48' });
});
afterEach(async () => {
	await sim.stop();
});

/** One execution in the workflow whose static data is `staticData`: its first output item. */
const runIn = async (staticData: IDataObject, parameters: Record<string, unknown>) =>
	jsonOf(await runNode(node, cloudflareRun(sim, parameters, { staticData })))[0];

const byCidr = (cidr: string) => ({ __rl: true, mode: 'cidr', value: cidr });
const fromList = (id: string) => ({ __rl: true, mode: 'list', value: id });

const subnetParams = (
	operation: string,
	bgpPrefixId: object,
	extra: Record<string, unknown> = {},
) => ({
	operation,
	accountId: rl(ACCOUNT),
	prefixId: rl(SUPERNET),
	advertisement: 'bgpPrefix',
	bgpPrefixId,
	...extra,
});
const wholeParams = (operation: string, extra: Record<string, unknown> = {}) => ({
	operation,
	accountId: rl(ACCOUNT),
	prefixId: rl(SUPERNET),
	...extra,
});

const supernet = () => sim.accounts.get(ACCOUNT)!.prefixes.get(SUPERNET)!;
const bgpPrefix = (id: string, prefixId = SUPERNET): SimBgpPrefix =>
	sim.bgpPrefixesOf(prefixId).get(id)!;
/** Which BGP prefixes of the /22 are advertised, by CIDR. */
const advertisedCidrs = () =>
	[...sim.bgpPrefixesOf(SUPERNET).values()]
		.filter((b) => b.on_demand.advertised)
		.map((b) => b.cidr);
const bgpPrefixPath = (id: string) =>
	`/accounts/${ACCOUNT}/addressing/prefixes/${SUPERNET}/bgp/prefixes/${id}`;

describe('Cloudflare Magic Transit: one BGP prefix (subnet)', () => {
	it(
		'advertises only the chosen subnet, reads it back, and ' +
			'leaves the other subnets and the whole prefix alone',
		async () => {
			const [result] = jsonOf(
				await runNode(node, cloudflareRun(sim, subnetParams('activate', byCidr('198.18.1.0/24')))),
			);
			expect(result).toMatchObject({
				provider: 'cloudflareMagicTransit',
				target: '198.18.1.0/24',
				operation: 'activate',
				active: true,
				changed: true,
				bgpPrefixId: SUBNET_1,
				cidr: '198.18.1.0/24',
				ipPrefixCidr: '198.18.0.0/22',
				onDemandEnabled: true,
				onDemandLocked: false,
			});
			expect(result.note).toMatch(/2-7 minutes/);
			expect(advertisedCidrs()).toEqual(['198.18.1.0/24']);
			expect(supernet().advertised).toBe(false);
			expect(bgpPrefix(SUBNET_1).on_demand.advertised_modified_at).not.toBeNull();
			expect(bgpPrefix(SUBNET_0).on_demand.advertised_modified_at).toBeNull();
			expect(sim.writes()).toEqual([
				{ method: 'PATCH', path: bgpPrefixPath(SUBNET_1), status: 200 },
			]);
			expect(sim.log.at(-1)).toMatchObject({ method: 'GET', path: bgpPrefixPath(SUBNET_1) });
		},
	);

	it('activates idempotently: a second activate makes no write', async () => {
		const staticData = {};
		await runIn(staticData, subnetParams('activate', rl(SUBNET_1)));
		const advertisedAt = bgpPrefix(SUBNET_1).on_demand.advertised_modified_at;
		const again = await runIn(staticData, subnetParams('activate', rl(SUBNET_1)));
		expect(again).toMatchObject({
			active: true,
			changed: false,
			note: 'The BGP prefix was already advertised.',
		});
		expect(sim.writes()).toHaveLength(1);
		expect(bgpPrefix(SUBNET_1).on_demand.advertised_modified_at).toBe(advertisedAt);
	});

	it('withdraws what it advertised, then a second withdraw makes no write', async () => {
		const staticData = {};
		await runIn(staticData, subnetParams('activate', rl(SUBNET_1)));
		const withdrawn = await runIn(staticData, subnetParams('withdraw', rl(SUBNET_1)));
		expect(withdrawn).toMatchObject({ active: false, changed: true, cidr: '198.18.1.0/24' });
		expect(withdrawn.note).toMatch(/15 minutes/);
		expect(advertisedCidrs()).toEqual([]);
		expect(sim.writes()).toHaveLength(2);
		const again = await runIn(staticData, subnetParams('withdraw', rl(SUBNET_1)));
		expect(again).toMatchObject({ active: false, changed: false });
		expect(sim.writes()).toHaveLength(2);
	});

	it('leaves a subnet advertised before activation on, unless Force Withdraw', async () => {
		bgpPrefix(SUBNET_1).on_demand.advertised = true;
		const staticData = {};
		const activated = await runIn(staticData, subnetParams('activate', rl(SUBNET_1)));
		expect(activated).toMatchObject({ active: true, changed: false });
		const kept = await runIn(staticData, subnetParams('withdraw', rl(SUBNET_1)));
		expect(kept).toMatchObject({ active: true, changed: false });
		expect(kept.note).toMatch(/BGP prefix was already advertised before activation/);
		expect(sim.writes()).toHaveLength(0);
		const forced = await runIn(
			staticData,
			subnetParams('withdraw', rl(SUBNET_1), { forceWithdraw: true }),
		);
		expect(forced).toMatchObject({ active: false, changed: true });
		expect(bgpPrefix(SUBNET_1).on_demand.advertised).toBe(false);
	});

	it('keeps whole-prefix and per-subnet activation records apart', async () => {
		supernet().advertised = true;
		const staticData = {};
		await runIn(staticData, wholeParams('activate'));
		await runIn(staticData, subnetParams('activate', rl(SUBNET_0)));
		const status = await runIn(staticData, subnetParams('getStatus', rl(SUBNET_0)));
		expect(status).toMatchObject({ active: true, activatedByThisPackage: true });

		// The subnet was activated by us: withdrawn. The whole prefix was on before: left on.
		const subnet = await runIn(staticData, subnetParams('withdraw', rl(SUBNET_0)));
		expect(subnet).toMatchObject({ active: false, changed: true });
		const whole = await runIn(staticData, wholeParams('withdraw'));
		expect(whole).toMatchObject({ active: true, changed: false });
		expect(supernet().advertised).toBe(true);
		expect(sim.writes()).toEqual([
			{ method: 'PATCH', path: bgpPrefixPath(SUBNET_0), status: 200 },
			{ method: 'PATCH', path: bgpPrefixPath(SUBNET_0), status: 200 },
		]);
	});

	it('withdraws a subnet with no record of activation (another workflow)', async () => {
		bgpPrefix(SUBNET_0).on_demand.advertised = true;
		const [result] = jsonOf(
			await runNode(
				node,
				cloudflareRun(sim, subnetParams('withdraw', rl(SUBNET_0)), { staticData: {} }),
			),
		);
		expect(result).toMatchObject({ active: false, changed: true });
		expect(bgpPrefix(SUBNET_0).on_demand.advertised).toBe(false);
	});

	it('refuses a locked BGP prefix before any write', async () => {
		const error = await runNode(
			node,
			cloudflareRun(sim, subnetParams('activate', rl(LOCKED_SUBNET))),
		).catch((e) => e);
		expect(error.message).toBe(
			'BGP prefix 198.18.2.0/24 has on-demand advertisement ' +
				'locked, so its advertisement cannot be changed through the ' +
				'API',
		);
		expect(error.description).toMatch(/Unlock on-demand for this BGP prefix/);
		expect(sim.writes()).toHaveLength(0);
		expect(bgpPrefix(LOCKED_SUBNET).on_demand.advertised).toBe(false);
	});

	it('refuses a non-on-demand BGP prefix before any write, even to withdraw it', async () => {
		bgpPrefix(SUBNET_1).on_demand.on_demand_enabled = false;
		await expect(
			runNode(node, cloudflareRun(sim, subnetParams('activate', rl(SUBNET_1)))),
		).rejects.toThrow(/BGP prefix 198\.18\.1\.0\/24 is not enabled for on-demand advertisement/);
		bgpPrefix(SUBNET_1).on_demand.advertised = true;
		await expect(
			runNode(node, cloudflareRun(sim, subnetParams('withdraw', rl(SUBNET_1)))),
		).rejects.toThrow(/not enabled for on-demand advertisement/);
		expect(sim.writes()).toHaveLength(0);
	});

	it(
		'refuses a CIDR that is not an onboarded BGP prefix, listing ' +
			'the ones that exist, before any write',
		async () => {
			const error = await runNode(
				node,
				cloudflareRun(sim, subnetParams('activate', byCidr('198.18.3.0/24'))),
			).catch((e) => e);
			expect(error.message).toBe(
				'198.18.3.0/24 is not a BGP prefix of IP prefix ' +
					'198.18.0.0/22, so Cloudflare cannot announce it on its own. ' +
					'BGP prefixes there: 198.18.0.0/22, 198.18.0.0/24, ' +
					'198.18.1.0/24, 198.18.2.0/24',
			);
			expect(error.description).toMatch(/onboard this subnet as a BGP prefix/);
			expect(sim.writes()).toHaveLength(0);
			expect(advertisedCidrs()).toEqual([]);
		},
	);

	it.each([['198.18.1.0/33'], ['198.18.1.0/24/1'], ['not-a-cidr'], ['']])(
		'rejects the invalid CIDR %p before any HTTP call',
		async (cidr) => {
			await expect(
				runNode(node, cloudflareRun(sim, subnetParams('activate', byCidr(cidr)))),
			).rejects.toThrow(
				/^Invalid BGP prefix CIDR: .* is not an IPv4 or IPv6 address or CIDR block/,
			);
			expect(sim.log).toHaveLength(0);
		},
	);

	it('rejects a malformed BGP prefix id before any HTTP call', async () => {
		await expect(
			runNode(node, cloudflareRun(sim, subnetParams('activate', rl('198.18.1.0/24')))),
		).rejects.toThrow(/BGP Prefix ID must be the 32-character hexadecimal id/);
		expect(sim.log).toHaveLength(0);
	});

	it('explains an unknown BGP prefix id (404) without writing', async () => {
		const error = await runNode(
			node,
			cloudflareRun(sim, subnetParams('activate', rl(hex32('bgp-unknown')))),
		).catch((e) => e);
		expect(error.message).toMatch(/Cloudflare could not find the account or prefix/);
		expect(error.description).toMatch(/BGP prefix/);
		expect(error.httpCode).toBe('404');
		expect(sim.writes()).toHaveLength(0);
	});

	it('finds the BGP prefix by id, from the list, and by CIDR in any spelling', async () => {
		const byId = jsonOf(
			await runNode(node, cloudflareRun(sim, subnetParams('getStatus', rl(SUBNET_0)))),
		);
		const listed = jsonOf(
			await runNode(node, cloudflareRun(sim, subnetParams('getStatus', fromList(SUBNET_0)))),
		);
		const cidr = jsonOf(
			await runNode(node, cloudflareRun(sim, subnetParams('getStatus', byCidr(' 198.18.0.0/24 ')))),
		);
		for (const [status] of [byId, listed, cidr]) {
			expect(status).toMatchObject({
				bgpPrefixId: SUBNET_0,
				cidr: '198.18.0.0/24',
				active: false,
				activatedByThisPackage: null,
			});
		}

		const [v6] = jsonOf(
			await runNode(
				node,
				cloudflareRun(
					sim,
					subnetParams('activate', byCidr('2001:DB8:1:0::/48'), { prefixId: rl(V6_PREFIX) }),
				),
			),
		);
		expect(v6).toMatchObject({
			bgpPrefixId: V6_SUBNET,
			cidr: '2001:db8:1::/48',
			ipPrefixCidr: '2001:db8::/32',
			changed: true,
		});
		expect(bgpPrefix(V6_SUBNET, V6_PREFIX).on_demand.advertised).toBe(true);
	});

	it('sees the BGP prefix of the whole CIDR and bgp/status as one advertisement', async () => {
		await runNode(node, cloudflareRun(sim, subnetParams('activate', byCidr('198.18.0.0/22'))));
		expect(supernet().advertised).toBe(true);
		const [whole] = jsonOf(await runNode(node, cloudflareRun(sim, wholeParams('getStatus'))));
		expect(whole).toMatchObject({ active: true, cidr: '198.18.0.0/22' });
		expect(whole).not.toHaveProperty('bgpPrefixId');
	});

	it(
		'lists the BGP prefixes of the chosen prefix with CIDR and ' +
			'state, filtered by what the user types',
		async () => {
			bgpPrefix(SUBNET_1).on_demand.advertised = true;
			const run = cloudflareRun(sim, { accountId: rl(ACCOUNT), prefixId: rl(SUPERNET) });
			const all = await listSearch(node, 'searchBgpPrefixes', run);
			expect(all.results).toEqual([
				{ name: '198.18.0.0/22 (withdrawn)', value: expect.stringMatching(/^[0-9a-f]{32}$/) },
				{ name: '198.18.0.0/24 (withdrawn)', value: SUBNET_0 },
				{ name: '198.18.1.0/24 (advertised)', value: SUBNET_1 },
				{ name: '198.18.2.0/24 (withdrawn, locked)', value: LOCKED_SUBNET },
			]);
			const filtered = await listSearch(node, 'searchBgpPrefixes', run, '198.18.1');
			expect(filtered.results).toEqual([{ name: '198.18.1.0/24 (advertised)', value: SUBNET_1 }]);
			const noPrefix = await listSearch(
				node,
				'searchBgpPrefixes',
				cloudflareRun(sim, { accountId: rl(ACCOUNT), prefixId: rl('') }),
			);
			expect(noPrefix.results).toEqual([]);
		},
	);

	it('retries a PATCH answered 429 after its Retry-After delay', async () => {
		sim.inject({
			method: 'PATCH',
			path: /\/bgp\/prefixes\//,
			response: {
				status: 429,
				headers: { 'retry-after': '1' },
				body: {
					success: false,
					errors: [{ code: 971, message: 'Please wait' }],
					messages: [],
					result: null,
				},
			},
		});
		const started = Date.now();
		const [result] = jsonOf(
			await runNode(node, cloudflareRun(sim, subnetParams('activate', rl(SUBNET_1)))),
		);
		expect(Date.now() - started).toBeGreaterThanOrEqual(950);
		expect(result).toMatchObject({ active: true, changed: true });
		expect(sim.log.filter((r) => r.method === 'PATCH').map((r) => r.status)).toEqual([429, 200]);
		expect(advertisedCidrs()).toEqual(['198.18.1.0/24']);
	});

	it('never puts the token in output items or errors', async () => {
		sim.addToken(TOKEN, ['prefixes:read']);
		const text = await continueOnFailOutput(
			node,
			cloudflareRun(sim, subnetParams('activate', byCidr('198.18.1.0/24')), {
				items: [{ json: {} }, { json: {} }],
				itemParameters: [{}, { bgpPrefixId: byCidr('198.18.9.0/24') }],
			}),
		);
		expect(text).toMatch(/lacks a permission/);
		expect(text).toMatch(/is not a BGP prefix of IP prefix/);
		expect(text).not.toContain(TOKEN);
		const error = await failureOf(node, cloudflareRun(sim, subnetParams('activate', rl(SUBNET_1))));
		expect(shownText(error)).not.toContain(TOKEN);
		expect(sim.writes()).toHaveLength(0);
	});
});
