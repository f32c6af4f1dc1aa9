import type { N8nInstance } from '../../scripts/n8nHarness';
import { startN8nWith, stopN8n } from './harness';
import {
	gateState,
	gateWorkflow,
	incidentIds,
	naiveCounterWorkflow,
	repairWorkflow,
	startProviderCounter,
	storm,
	stormIncidents,
	waitForGateWebhooks,
	type ProviderCounter,
} from './incidentGateFixture';
import { postJson } from './workflows';

/**
 * Regular mode (one n8n process, SQLite), Workflow Static Data store: overlapping webhook
 * executions stay exact.
 */

const STORM = 100;
let counter: ProviderCounter;
let repairCounter: ProviderCounter;
let n8n: N8nInstance;

beforeAll(async () => {
	[counter, repairCounter] = await Promise.all([startProviderCounter(), startProviderCounter()]);
	n8n = await startN8nWith({}, (instance) => {
		instance.importWorkflows([
			gateWorkflow('incidentGate00001', counter.url, { store: 'staticData' }),
			naiveCounterWorkflow('naiveCounter0001'),
			repairWorkflow('incidentRepair01', repairCounter.url),
		]);
	});
	await waitForGateWebhooks(n8n.url);
});

afterAll(async () => {
	await stopN8n(n8n);
	await Promise.all([counter?.stop(), repairCounter?.stop()]);
});

describe('Incident Gate in a real n8n, regular mode, static-data store', () => {
	const ids = incidentIds(STORM);

	it(`${STORM} concurrent opens with distinct ids activate exactly once`, async () => {
		await stormIncidents(n8n.url, 'open', ids);
		expect(counter.calls.activate).toEqual([
			expect.objectContaining({ scope: 'edge', transition: 'activate', reason: 'activated' }),
		]);
		expect(counter.calls.withdraw).toEqual([]);
		expect(await gateState(n8n.url)).toMatchObject({ mitigation: 'active', openIncidents: STORM });
	});

	it('keeps every open incident across an n8n restart', async () => {
		await n8n.restart();
		await waitForGateWebhooks(n8n.url);
		const state = await gateState(n8n.url);
		expect(state).toMatchObject({ mitigation: 'active', openIncidents: STORM });
		const incidents = state.incidents as Array<{ id: string }>;
		expect(incidents.map((incident) => incident.id).sort()).toEqual(ids);
	});

	it(`${STORM} concurrent resolves withdraw exactly once, after the last one`, async () => {
		await stormIncidents(n8n.url, 'resolve', ids);
		expect(counter.calls.withdraw).toEqual([
			expect.objectContaining({ scope: 'edge', transition: 'withdraw', openIncidents: 0 }),
		]);
		expect(counter.calls.activate).toHaveLength(1);
		expect(await gateState(n8n.url)).toMatchObject({ mitigation: 'idle', openIncidents: 0 });
	});

	it('repairs a provider failure after Activate at the next tick, then stops', async () => {
		const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
		repairCounter.failNext.activate = 1;
		const failed = await postJson(`${n8n.url}/webhook/repair-incident`, {
			action: 'open',
			incidentId: 'R-1',
		});
		expect(failed.status).not.toBe(200);
		expect(repairCounter.calls.activate).toEqual([]);

		await sleep(1100);
		await postJson(`${n8n.url}/webhook/repair-tick`, {});
		expect(repairCounter.calls.activate).toEqual([
			expect.objectContaining({ scope: 'edge', transition: 'activate', reason: 'reemit' }),
		]);

		await sleep(1100);
		await postJson(`${n8n.url}/webhook/repair-tick`, {});
		expect(repairCounter.calls.activate).toHaveLength(1);
	});

	it(
		'for comparison: naive static-data counting in a Code node loses updates under the same ' +
			'load',
		async () => {
			const count = async () =>
				((await postJson(`${n8n.url}/webhook/naive-count`)).json as Array<{ count: number }>)[0]
					.count;
			const before = await count();
			await storm(
				`${n8n.url}/webhook/naive-count`,
				ids.map(() => ({})),
			);
			const counted = (await count()) - before - 1;
			// Not asserted beyond plausibility: how many updates are lost depends on scheduling. Reported
			// for the README.
			process.stderr.write(
				`[incident-gate] naive static-data counter counted ${counted} of ${STORM} ` +
					'concurrent executions\n',
			);
			expect(counted).toBeLessThanOrEqual(STORM);
		},
	);
});
