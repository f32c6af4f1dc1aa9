import { createHmac, randomUUID } from 'node:crypto';

import type { N8nInstance } from '../../scripts/n8nHarness';
import { OWNER, startN8nWith, stopN8n, waitUntil } from './harness';
import {
	type ProviderCounter,
	buildWorkflow,
	providerCall,
	startProviderCounter,
	waitForWebhook,
} from './incidentGateFixture';
import { PACKAGE } from './workflows';

/**
 * A storm in a real n8n: 200 signed events fired at once at the Incident Webhook Trigger
 * (micro-batching at its defaults) -> Incident Gate -> a counting provider with Confirm. Every
 * request is answered 200, every event reaches the gate, each scope gets exactly one Activate, and
 * far fewer executions run than events arrived. Then: events acknowledged just before n8n is asked
 * to stop (SIGTERM) still run.
 */

const SECRET = '5d2f8a1c3e5b7d9f0a2c4e6b8d0f1a3c5e7b9d2f7c1e9a3f5b0d2e4f6a8c0b2d';
const SCOPES = 5;
const EVENTS = 200;
const WORKFLOW_ID = 'stormGate0000001';
const webhookId = randomUUID();
/** A second trigger with a 10 s window, so that a batch is surely waiting when n8n is stopped. */
const secretCredential = { id: 'stormsecret00001', name: 'Detector secret' };

function stormWorkflow(
	id: string,
	hookId: string,
	counterUrl: string,
	triggerOptions: Record<string, unknown> = {},
) {
	const gate = (name: string, parameters: Record<string, unknown>) => ({
		name,
		type: `${PACKAGE}.incidentGate`,
		typeVersion: 1,
		parameters: { store: 'staticData', gateKey: id, options: {}, ...parameters },
	});
	return buildWorkflow(
		id,
		`Incident storm ${id}`,
		[
			{
				name: 'Incident Webhook Trigger',
				type: `${PACKAGE}.incidentWebhookTrigger`,
				typeVersion: 1,
				webhookId: hookId,
				// The defaults: HMAC with a timestamp, accepted once; batching at its default window.
				parameters: { format: 'normalized', options: triggerOptions },
				credentials: { incidentWebhookSecretApi: secretCredential },
			},
			gate('Incident Gate', { operation: 'event', scope: '={{ $json.scope }}' }),
			providerCall('Activate Provider', `${counterUrl}/activate`),
			providerCall('Withdraw Provider', `${counterUrl}/withdraw`),
			providerCall('Unchanged', `${counterUrl}/none`),
			gate('Confirm Activate', { operation: 'confirm', active: '={{ $json.ok === true }}' }),
			gate('Confirm Withdraw', { operation: 'confirm', active: '={{ $json.ok !== true }}' }),
		],
		{
			'Incident Webhook Trigger': [['Incident Gate']],
			'Incident Gate': [['Activate Provider'], ['Withdraw Provider'], ['Unchanged']],
			'Activate Provider': [['Confirm Activate']],
			'Withdraw Provider': [['Confirm Withdraw']],
		},
	);
}

let n8n: N8nInstance | undefined;
let counter: ProviderCounter;
let url: string;

/** POSTs one event signed as the trigger's defaults expect: "<timestamp>.<raw body>". */
async function sendSigned(event: Record<string, unknown>): Promise<number> {
	const body = JSON.stringify(event);
	const timestamp = String(Math.floor(Date.now() / 1000));
	const signature = createHmac('sha256', SECRET).update(`${timestamp}.${body}`).digest('hex');
	const response = await fetch(url, {
		method: 'POST',
		headers: {
			'content-type': 'application/json',
			'x-signature-timestamp': timestamp,
			'x-signature-256': `sha256=${signature}`,
		},
		body,
	});
	await response.text();
	return response.status;
}

const itemsAtTheGate = () =>
	counter.calls.activate.length + counter.calls.withdraw.length + counter.calls.none.length;

const perScope = (calls: unknown[]) => {
	const counts: Record<string, number> = {};
	for (const call of calls) {
		const scope = String((call as { scope?: unknown }).scope);
		counts[scope] = (counts[scope] ?? 0) + 1;
	}
	return counts;
};

const eachScopeOnce = () =>
	Object.fromEntries(Array.from({ length: SCOPES }, (_, s) => [`storm-${s}`, 1]));

beforeAll(async () => {
	counter = await startProviderCounter();
	n8n = await startN8nWith({ owner: OWNER }, (instance) => {
		instance.importCredentials([
			{ ...secretCredential, type: 'incidentWebhookSecretApi', data: { secret: SECRET } },
		]);
		instance.importWorkflows([
			stormWorkflow(WORKFLOW_ID, webhookId, counter.url, { batchWindowMs: 250 }),
		]);
	});
	url = `${n8n.url}/webhook/${webhookId}/incident`;
	await waitForWebhook(url);
}, 300_000);

afterAll(async () => {
	await stopN8n(n8n);
	await counter?.stop();
});

describe('Incident Webhook Trigger in a storm (real n8n, a 250 ms Batch Window)', () => {
	it('answers 200 events fired at once, runs each through the gate, activates each scope once', async () => {
		const statuses = await Promise.all(
			Array.from({ length: EVENTS }, (_, k) =>
				sendSigned({
					action: 'open',
					incidentId: `OPEN-${k}`,
					scope: `storm-${k % SCOPES}`,
				}),
			),
		);
		expect(statuses.filter((status) => status !== 200)).toEqual([]);
		await waitUntil('every event reached the gate', () => itemsAtTheGate() >= EVENTS, 120_000);
		expect(itemsAtTheGate()).toBe(EVENTS);
		expect(perScope(counter.calls.activate)).toEqual(eachScopeOnce());
		expect(counter.calls.withdraw).toEqual([]);

		const api = await n8n!.login();
		const response = await api(
			`/rest/executions?filter=${encodeURIComponent(JSON.stringify({ workflowId: WORKFLOW_ID }))}`,
		);
		const executions = ((await response.json()) as { data: { results: unknown[] } }).data.results;
		// Many events, few executions: batches of the window, not one per event.
		expect(executions.length).toBeGreaterThan(0);
		expect(executions.length).toBeLessThan(EVENTS / 4);
	}, 300_000);
});
