import type { IDataObject } from 'n8n-workflow';

import { continueOnFailOutput, jsonOf, listSearch, runNode } from '../../helpers/runNode';
import { operationParams, rl, simulatorPerTest } from '../../helpers/fixture';
import { ACCOUNT, LOCKED_PREFIX, PREFIX, TOKEN, cloudflareRun, startCloudflare } from './fixture';
import { freshNode } from '../../simulators/restart';

/** A fresh node per test, and after each simulated restart: no process-wide records carried over. */
const restarted = () =>
	freshNode('Cloudflare/MagicTransit/CloudflareMagicTransit.node', 'CloudflareMagicTransit');
let node = restarted();
beforeEach(() => {
	node = restarted();
});
const sim = simulatorPerTest(startCloudflare);

const params = operationParams(() => ({ accountId: rl(ACCOUNT), prefixId: rl(PREFIX) }));
const prefix = () => sim.accounts.get(ACCOUNT)!.prefixes.get(PREFIX)!;

/** One execution in the workflow whose static data is `staticData`: its first output item. */
const runIn = async (staticData: IDataObject, parameters: Record<string, unknown>) =>
	jsonOf(await runNode(node, cloudflareRun(sim, parameters, { staticData })))[0];

describe('Cloudflare Magic Transit', () => {
	it('reads the prefix and its status side by side before advertising: one round trip', async () => {
		// The prefix read answers late; the status read must be on its way before that answer.
		sim.inject({ method: 'GET', path: new RegExp(`/prefixes/${PREFIX}$`), delayMs: 300 });
		const isPrefixRead = (method: string, path: string) =>
			method === 'GET' && path.endsWith(`/prefixes/${PREFIX}`);
		let prefixAnsweredBeforeStatusRead: boolean | undefined;
		sim.onRequest = (request) => {
			if (request.method !== 'GET' || !request.path.endsWith('/bgp/status')) return;
			prefixAnsweredBeforeStatusRead ??= sim.log.some((e) => isPrefixRead(e.method, e.path));
		};
		await runNode(node, cloudflareRun(sim, params('activate')));
		expect(prefixAnsweredBeforeStatusRead).toBe(false);
		expect(prefix().advertised).toBe(true);
	});

	it('reads the advertisement status with the prefix details', async () => {
		const [status] = jsonOf(await runNode(node, cloudflareRun(sim, params('getStatus'))));
		expect(status).toMatchObject({
			provider: 'cloudflareMagicTransit',
			target: PREFIX,
			operation: 'getStatus',
			active: false,
			changed: false,
			cidr: '203.0.113.0/24',
			onDemandEnabled: true,
		});
	});

	it('advertises the prefix, reads it back and says BGP takes minutes', async () => {
		const [result] = jsonOf(await runNode(node, cloudflareRun(sim, params('activate'))));
		expect(result).toMatchObject({ active: true, changed: true });
		expect(result.note).toMatch(/2-7 minutes/);
		expect(prefix().advertised).toBe(true);
		expect(sim.log.at(-1)).toMatchObject({
			method: 'GET',
			path: expect.stringContaining('/bgp/status'),
		});
	});

	it('activates idempotently: a second activate makes no write', async () => {
		const staticData = {};
		await runIn(staticData, params('activate'));
		const writesAfterFirst = sim.writes().length;
		const again = await runIn(staticData, params('activate'));
		expect(again).toMatchObject({ active: true, changed: false });
		expect(sim.writes()).toHaveLength(writesAfterFirst);
	});

	it('withdraws what it advertised, then a second withdraw makes no write', async () => {
		const staticData = {};
		await runIn(staticData, params('activate'));
		const withdrawn = await runIn(staticData, params('withdraw'));
		expect(withdrawn).toMatchObject({ active: false, changed: true });
		expect(withdrawn.note).toMatch(/15 minutes/);
		expect(prefix().advertised).toBe(false);
		const writes = sim.writes().length;
		const again = await runIn(staticData, params('withdraw'));
		expect(again).toMatchObject({ active: false, changed: false });
		expect(sim.writes()).toHaveLength(writes);
	});

	it('leaves a prefix advertised by hand before activation, unless forced', async () => {
		prefix().advertised = true;
		const staticData = {};
		await runIn(staticData, params('activate'));
		const kept = await runIn(staticData, params('withdraw'));
		expect(kept).toMatchObject({ active: true, changed: false });
		expect(kept.note).toMatch(/already advertised before activation/);
		const forced = await runIn(staticData, params('withdraw', { forceWithdraw: true }));
		expect(forced).toMatchObject({ active: false, changed: true });
	});

	it(
		'withdraws with no record of activation (another workflow), ' +
			'as a user pressing Withdraw expects',
		async () => {
			prefix().advertised = true;
			const [result] = jsonOf(
				await runNode(node, cloudflareRun(sim, params('withdraw'), { staticData: {} })),
			);
			expect(result).toMatchObject({ active: false, changed: true });
		},
	);

	it('refuses a locked prefix before any write', async () => {
		await expect(
			runNode(node, cloudflareRun(sim, params('activate', { prefixId: rl(LOCKED_PREFIX) }))),
		).rejects.toThrow(/on-demand advertisement locked/);
		expect(sim.writes()).toHaveLength(0);
	});

	it('refuses a prefix that is not on-demand capable before any write', async () => {
		prefix().on_demand_enabled = false;
		await expect(runNode(node, cloudflareRun(sim, params('activate')))).rejects.toThrow(
			/not enabled for on-demand/,
		);
		expect(sim.writes()).toHaveLength(0);
	});

	it('rejects a malformed account id before calling Cloudflare', async () => {
		await expect(
			runNode(node, cloudflareRun(sim, params('activate', { accountId: rl('my-account') }))),
		).rejects.toThrow(/Account ID must be the 32-character hexadecimal id/);
		expect(sim.log).toHaveLength(0);
	});

	it('explains a missing token permission (403, code 10000) with the scopes to add', async () => {
		sim.addToken(TOKEN, ['prefixes:read']);
		const error = await runNode(node, cloudflareRun(sim, params('activate'))).catch((e) => e);
		expect(error.message).toMatch(/Forbidden: the Cloudflare API token lacks a permission/);
		expect(error.description).toMatch(/IP Prefixes: Edit and Account: Magic Transit: Edit/);
		expect(error.httpCode).toBe('403');
	});

	it('explains a wrong account id (not found) pointing at Account ID vs Zone ID', async () => {
		const error = await runNode(
			node,
			cloudflareRun(
				sim,
				params('getStatus', { accountId: rl('0123456789abcdef0123456789abcdef') }),
			),
		).catch((e) => e);
		expect(error.message).toMatch(/Cloudflare could not find the account or prefix/);
		expect(error.description).toMatch(/not a Zone ID/);
	});

	it('explains an invalid token without retrying it', async () => {
		const run = cloudflareRun(sim, params('getStatus'));
		run.credentials.cloudflareMitigationApi.apiToken = 'wrong-token';
		const error = await runNode(node, run).catch((e) => e);
		expect(error.message).toMatch(/rejected the API token/);
		expect(sim.log).toHaveLength(1);
	});

	it('never puts the token in output items or errors', async () => {
		sim.addToken(TOKEN, ['prefixes:read']);
		const output = await continueOnFailOutput(node, cloudflareRun(sim, params('activate')));
		expect(output).not.toContain(TOKEN);
		expect(output).toMatch(/lacks a permission/);
	});

	it('reports a failing item and goes on with the next with Continue On Fail', async () => {
		const result = await runNode(
			node,
			cloudflareRun(
				sim,
				{ operation: 'getStatus', accountId: rl(ACCOUNT) },
				{
					items: [{ json: {} }, { json: {} }],
					itemParameters: [{ prefixId: rl('not-an-id') }, { prefixId: rl(PREFIX) }],
					continueOnFail: true,
				},
			),
		);
		const [first, second] = result.output[0];
		expect(first.json.error).toMatch(/Prefix ID must be/);
		expect(first.pairedItem).toEqual({ item: 0 });
		expect(second.json).toMatchObject({ active: false, cidr: '203.0.113.0/24' });
		expect(second.pairedItem).toEqual({ item: 1 });
	});

	it('lists prefixes as an operation and through the resource locator search', async () => {
		const listed = jsonOf(
			await runNode(
				node,
				cloudflareRun(sim, { operation: 'listPrefixes', accountId: rl(ACCOUNT) }),
			),
		);
		expect(listed.map((p) => p.cidr)).toEqual(['203.0.113.0/24', '198.51.100.0/24']);
		const search = await listSearch(
			node,
			'searchPrefixes',
			cloudflareRun(sim, { accountId: rl(ACCOUNT) }),
			'203',
		);
		expect(search.results).toEqual([{ name: '203.0.113.0/24 (edge)', value: PREFIX }]);
		const accounts = await listSearch(node, 'searchAccounts', cloudflareRun(sim, {}));
		expect(accounts.results).toEqual([{ name: 'Example Networks', value: ACCOUNT }]);
	});
});
