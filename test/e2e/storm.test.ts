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
 * far fewer executions run than events arrived. Then: n8n is asked to stop (SIGTERM) while a batch
 * waits, and every event it answered 200 still runs.
 */

const SECRET = '5d2f8a1c3e5b7d9f0a2c4e6b8d0f1a3c5e7b9d2f7c1e9a3f5b0d2e4f6a8c0b2d';
const SCOPES = 5;
const EVENTS = 200;
const WORKFLOW_ID = 'stormGate0000001';
const webhookId = randomUUID();
/** A second trigger with a 10 s window, so that a batch is surely waiting when n8n is stopped. */
const SHUTDOWN_WORKFLOW_ID = 'stormStop0000001';
const shutdownWebhookId = randomUUID();
const secretCredential = { id: 'stormsecret00001', name: 'Detector secret' };

/** A provider call that also sends the incident id of the event the gate's item came from. */
function tellsIncident(node: ReturnType<typeof providerCall>) {
	const incidentId = "$('Incident Webhook Trigger').item.json.incidentId";
	return {
		...node,
		parameters: {
			...node.parameters,
			jsonBody: `={{ JSON.stringify({ ...$json, incidentId: ${incidentId} }) }}`,
		},
	};
}

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
			tellsIncident(providerCall('Activate Provider', `${counterUrl}/activate`)),
			tellsIncident(providerCall('Withdraw Provider', `${counterUrl}/withdraw`)),
			tellsIncident(providerCall('Unchanged', `${counterUrl}/none`)),
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
let shutdownUrl: string;

/**
 * POSTs one event signed as the trigger's defaults expect: "<timestamp>.<raw body>"; 0 when the
 * connection closed without an answer.
 */
async function sendSigned(event: Record<string, unknown>, to = url): Promise<number> {
	const body = JSON.stringify(event);
	const timestamp = String(Math.floor(Date.now() / 1000));
	const signature = createHmac('sha256', SECRET).update(`${timestamp}.${body}`).digest('hex');
	const response = await fetch(to, {
		method: 'POST',
		headers: {
			'content-type': 'application/json',
			'x-signature-timestamp': timestamp,
			'x-signature-256': `sha256=${signature}`,
		},
		body,
	}).catch(() => undefined);
	await response?.text().catch(() => '');
	return response?.status ?? 0;
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
			stormWorkflow(WORKFLOW_ID, webhookId, counter.url),
			stormWorkflow(SHUTDOWN_WORKFLOW_ID, shutdownWebhookId, counter.url, {
				batchWindowMs: 10_000,
			}),
		]);
	});
	url = `${n8n.url}/webhook/${webhookId}/incident`;
	shutdownUrl = `${n8n.url}/webhook/${shutdownWebhookId}/incident`;
	await waitForWebhook(url);
	await waitForWebhook(shutdownUrl);
}, 300_000);

afterAll(async () => {
	await stopN8n(n8n);
	await counter?.stop();
});

describe('Incident Webhook Trigger in a storm (real n8n, batching at its defaults)', () => {
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

	it('runs every event it answered 200 when n8n is asked to stop (SIGTERM) during a window', async () => {
		const gateSaw = () =>
			new Set(
				[...counter.calls.activate, ...counter.calls.withdraw, ...counter.calls.none].map(
					(call) => (call as { incidentId?: string }).incidentId,
				),
			);
		const statuses = Array.from({ length: 50 }, (_, k) =>
			sendSigned(
				{ action: 'open', incidentId: `STOP-${k}`, scope: `stop-${k % SCOPES}` },
				shutdownUrl,
			),
		);
		// The first event starts at once; the other 49 wait in the batch of a 10 s window.
		await waitUntil('the first event ran', () =>
			[...gateSaw()].some((incidentId) => incidentId?.startsWith('STOP-')),
		);
		await new Promise((resolve) => setTimeout(resolve, 1_000));
		await n8n!.stop();
		const answered = await Promise.all(statuses);
		const acknowledged = answered.flatMap((status, k) => (status === 200 ? [`STOP-${k}`] : []));
		const ran = gateSaw();
		expect(acknowledged.filter((incidentId) => !ran.has(incidentId))).toEqual([]);
		// The others are not acknowledged: a 5xx, or the connection closed by n8n as it stops (0); a
		// sender retries both.
		expect(answered.filter((status) => status !== 200 && status !== 0 && status < 500)).toEqual([]);
		const ranOfTheStop = [...ran].filter((incidentId) => incidentId?.startsWith('STOP-'));
		console.log(
			`SIGTERM during a window: ${acknowledged.length} of 50 answered 200, all of them run; ` +
				`${ranOfTheStop.length} run in all`,
		);
	}, 120_000);
});
