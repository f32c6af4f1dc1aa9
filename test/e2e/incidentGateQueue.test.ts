import { readFileSync } from 'node:fs';

import type { N8nInstance } from '../../scripts/n8nHarness';
import {
	gateState,
	gateWorkflow,
	incidentIds,
	startProviderCounter,
	staticDataGateWorkflow,
	stormIncidents,
	waitForGateWebhooks,
	type ProviderCounter,
} from './incidentGateFixture';
import { startN8nWith, stopN8n } from './harness';
import {
	queueModeEnv,
	redisCredentialData,
	startPostgres,
	startRedis,
	type Postgres,
	type Service,
} from './services';
import { postJson } from './workflows';

/**
 * Queue mode: PostgreSQL, Redis (n8n's queue and the gate's store), one main and two workers, all
 * started here. Executions run on both workers at once; the Redis store keeps the gate exact across
 * them.
 */

const STORM = 100;
const redisCredential = { redis: { id: 'gateRedis0000001', name: 'Gate Redis' } };
let counter: ProviderCounter;
let postgres: Postgres;
let redis: Service;
let n8n: N8nInstance;
let workerLogFiles: string[];

beforeAll(async () => {
	[counter, postgres, redis] = await Promise.all([
		startProviderCounter(),
		startPostgres(),
		startRedis(),
	]);
	n8n = await startN8nWith(
		{
			env: queueModeEnv(postgres, redis),
		},
		(instance) => {
			instance.importCredentials([
				{
					...redisCredential.redis,
					type: 'redis',
					data: redisCredentialData(redis),
				},
			]);
			instance.importWorkflows([
				gateWorkflow('incidentGateQ0001', counter.url, {
					store: 'redis',
					credentials: redisCredential,
				}),
				staticDataGateWorkflow('incidentGateQ0002', 'static-incident'),
			]);
		},
	);
	workerLogFiles = (await Promise.all([n8n.startWorker(), n8n.startWorker()])).map(
		(worker) => worker.logFile,
	);
	await waitForGateWebhooks(n8n.url);
});

afterAll(async () => {
	await stopN8n(n8n);
	await Promise.all([counter?.stop(), postgres?.stop(), redis?.stop()]);
});

describe('Incident Gate in a real n8n, queue mode (main, 2 workers, PostgreSQL)', () => {
	const ids = incidentIds(STORM);

	it(`${STORM} opens activate once, ${STORM} resolves withdraw once`, async () => {
		await stormIncidents(n8n.url, 'open', ids);
		expect(counter.calls.activate).toEqual([
			expect.objectContaining({ scope: 'edge', transition: 'activate' }),
		]);
		expect(await gateState(n8n.url)).toMatchObject({ mitigation: 'active', openIncidents: STORM });

		await stormIncidents(n8n.url, 'resolve', ids);
		expect(counter.calls.withdraw).toEqual([
			expect.objectContaining({ scope: 'edge', transition: 'withdraw', openIncidents: 0 }),
		]);
		expect(counter.calls.activate).toHaveLength(1);
		expect(await gateState(n8n.url)).toMatchObject({ mitigation: 'idle', openIncidents: 0 });
	});

	it('refuses the Workflow Static Data store, telling the user to choose Redis', async () => {
		const { json } = await postJson(`${n8n.url}/webhook/static-incident`, {
			action: 'open',
			incidentId: 'S-1',
		});
		expect(json).toEqual([
			expect.objectContaining({
				error: expect.stringContaining('cannot work in queue mode'),
			}),
		]);
	});

	it('ran the storm on both workers', () => {
		for (const logFile of workerLogFiles)
			expect(readFileSync(logFile, 'utf8')).toMatch(/started execution/i);
	});
});
