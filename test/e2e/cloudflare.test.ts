import type { N8nInstance } from '../../scripts/n8nHarness';
import { type CloudflareSimulator, hex32 } from '../simulators/cloudflare';
import { ACCOUNT, PREFIX, TOKEN, ZONE, startCloudflare } from '../unit/cloudflare/fixture';
import {
	cloudflareCredential,
	cloudflareCredentials as credentials,
	expectCloudflareActivation,
	expectCloudflareWithdrawal,
	importCloudflareMitigation,
} from './cloudflareWorkflow';
import { OWNER, callWebhook, listSearch, startN8nWith, stopAll, testCredential } from './harness';
import { locator, packageNode, webhook, workflow, type WorkflowNode } from './workflows';

/** A /22 onboarded with its /24s as BGP prefixes, so one subnet can be announced alone. */
const AGGREGATE = hex32('prefix-198-18');
const SUBNET = { id: hex32('bgp-198-18-1'), cidr: '198.18.1.0/24' };

let sim: CloudflareSimulator;
let n8n: N8nInstance;

/**
 * Magic Transit on one BGP prefix, named by the CIDR the alert carries (an expression, as users
 * wire it). On Error: continue, so a refusal comes back as the item's `error`.
 */
function subnetNode(operation: string): WorkflowNode {
	return {
		onError: 'continueRegularOutput',
		...packageNode(
			`Magic Transit subnet ${operation}`,
			'cloudflareMagicTransit',
			{
				operation,
				accountId: locator(ACCOUNT),
				prefixId: locator(AGGREGATE),
				advertisement: 'bgpPrefix',
				bgpPrefixId: locator('={{ $json.body.cidr }}', 'cidr'),
			},
			credentials,
		),
	};
}

beforeAll(async () => {
	sim = await startCloudflare();
	sim.addPrefix(ACCOUNT, { id: AGGREGATE, cidr: '198.18.0.0/22', description: 'aggregate' });
	sim.addBgpPrefix(AGGREGATE, SUBNET);
	sim.addBgpPrefix(AGGREGATE, { id: hex32('bgp-198-18-2'), cidr: '198.18.2.0/24' });
	n8n = await startN8nWith({ owner: OWNER }, (instance) => {
		importCloudflareMitigation(instance, sim);
		instance.importWorkflows([
			workflow('cfSubnet00000001', 'Cloudflare subnet', [
				[webhook('Subnet on', 'cf-subnet-on'), subnetNode('activate')],
				[webhook('Subnet off', 'cf-subnet-off'), subnetNode('withdraw')],
			]),
		]);
	});
});

afterAll(async () => await stopAll(n8n, sim));

describe('Cloudflare nodes inside a real n8n', () => {
	it('loads the package as a community package and tests the credential through n8n', async () => {
		const test = (apiToken: string) =>
			testCredential(n8n, cloudflareCredential, { apiToken, baseUrl: sim.baseUrl, accountId: '' });
		expect(await test(TOKEN)).toMatchObject({ status: 'OK' });
		expect(await test('wrong')).toMatchObject({ status: 'Error' });
	});

	it('advertises the prefix and turns Under Attack on, from a webhook', async () => {
		await expectCloudflareActivation(n8n, sim);
	});

	it('after an n8n restart, restores the original level (high) from static data', async () => {
		await n8n.restart();
		sim.inject({
			method: 'PATCH',
			path: /security_level/,
			response: {
				status: 429,
				headers: { 'retry-after': '1' },
				body: { success: false, errors: [{ code: 971, message: 'rate limited' }] },
			},
		});
		await expectCloudflareWithdrawal(n8n, sim);
		expect(sim.log.filter((r) => r.method === 'PATCH' && r.status === 429)).toHaveLength(1);
	});

	it('reads status without writing', async () => {
		const writes = sim.writes().length;
		expect(await callWebhook(n8n, 'cf-status')).toEqual([
			expect.objectContaining({ active: false, changed: false, securityLevel: 'high' }),
		]);
		expect(sim.writes()).toHaveLength(writes);
	});

	it('announces only the attacked subnet (CIDR in the alert) and withdraws it', async () => {
		const subnetState = () => sim.bgpPrefixesOf(AGGREGATE).get(SUBNET.id)!.on_demand.advertised;
		expect(await callWebhook(n8n, 'cf-subnet-on', { cidr: SUBNET.cidr })).toEqual([
			expect.objectContaining({
				active: true,
				changed: true,
				bgpPrefixId: SUBNET.id,
				cidr: SUBNET.cidr,
				ipPrefixCidr: '198.18.0.0/22',
			}),
		]);
		expect(subnetState()).toBe(true);
		expect(sim.accounts.get(ACCOUNT)!.prefixes.get(AGGREGATE)!.advertised).toBe(false);
		expect(
			[...sim.bgpPrefixesOf(AGGREGATE).values()]
				.filter((b) => b.on_demand.advertised)
				.map((b) => b.cidr),
		).toEqual([SUBNET.cidr]);

		expect(await callWebhook(n8n, 'cf-subnet-off', { cidr: SUBNET.cidr })).toEqual([
			expect.objectContaining({ active: false, changed: true, bgpPrefixId: SUBNET.id }),
		]);
		expect(subnetState()).toBe(false);
	});

	it('refuses a subnet not onboarded, before any write, naming those that are', async () => {
		const writes = sim.writes().length;
		const json = await callWebhook(n8n, 'cf-subnet-on', { cidr: '198.18.3.0/24' });
		const [item] = json as Array<{ error: string }>;
		expect(item.error).toMatch(
			/198\.18\.3\.0\/24 is not a BGP prefix of IP prefix 198\.18\.0\.0\/22.*198\.18\.1\.0\/24/,
		);
		expect(sim.writes()).toHaveLength(writes);
	});

	it(
		"fills the editor's resource locators: accounts, the " +
			"account's prefixes, the prefix's BGP prefixes, zones",
		async () => {
			const magicTransit = (
				methodName: string,
				parameter: string,
				parameters: Record<string, unknown> = {},
				filter?: string,
			) =>
				listSearch(n8n, {
					nodeType: 'cloudflareMagicTransit',
					methodName,
					parameter,
					parameters: { operation: 'activate', ...parameters },
					credentials,
					filter,
				});
			expect(await magicTransit('searchAccounts', 'accountId')).toEqual([
				expect.objectContaining({ value: ACCOUNT }),
			]);
			const prefixes = await magicTransit('searchPrefixes', 'prefixId', {
				accountId: locator(ACCOUNT, 'list'),
			});
			expect(prefixes.map((p) => p.value)).toEqual(expect.arrayContaining([PREFIX, AGGREGATE]));
			const bgpPrefixes = await magicTransit(
				'searchBgpPrefixes',
				'bgpPrefixId',
				{
					accountId: locator(ACCOUNT, 'list'),
					prefixId: locator(AGGREGATE, 'list'),
					advertisement: 'bgpPrefix',
				},
				'198.18.2',
			);
			expect(bgpPrefixes).toEqual([
				{ name: '198.18.2.0/24 (withdrawn)', value: hex32('bgp-198-18-2') },
			]);
			const zones = await listSearch(n8n, {
				nodeType: 'cloudflareUnderAttack',
				methodName: 'searchZones',
				parameter: 'zoneId',
				credentials,
				filter: 'example',
			});
			expect(zones).toEqual([expect.objectContaining({ name: 'example.com', value: ZONE })]);
		},
	);
});
