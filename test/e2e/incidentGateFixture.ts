import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { PACKAGE, postJson, webhook, type WorkflowNode } from './workflows';

/**
 * The workflows and the counting server both real-n8n gate proofs use: Webhook -> Incident Gate,
 * whose Activate and Withdraw outputs call a local HTTP "provider" that counts the calls; Webhook
 * -> Get State -> No Op to read the state.
 */

export interface ProviderCounter {
	url: string;
	/** `none`: calls to /none, for workflows that also report the gate's Unchanged output. */
	calls: { activate: unknown[]; withdraw: unknown[]; none: unknown[] };
	/**
	 * The next this many calls to /activate fail with HTTP 500 (and are not counted): a provider
	 * outage.
	 */
	failNext: { activate: number };
	stop(): Promise<void>;
}

export async function startProviderCounter(): Promise<ProviderCounter> {
	const calls = { activate: [] as unknown[], withdraw: [] as unknown[], none: [] as unknown[] };
	const failNext = { activate: 0 };
	const server: Server = createServer((request, response) => {
		let body = '';
		request.on('data', (chunk: Buffer) => (body += chunk.toString()));
		request.on('end', () => {
			if (request.url === '/activate' && failNext.activate > 0) {
				failNext.activate--;
				response.writeHead(500, { 'content-type': 'application/json' }).end('{"ok":false}');
				return;
			}
			const which = {
				'/activate': calls.activate,
				'/withdraw': calls.withdraw,
				'/none': calls.none,
			}[request.url ?? ''];
			which?.push(JSON.parse(body || '{}'));
			response
				.writeHead(which ? 200 : 404, { 'content-type': 'application/json' })
				.end('{"ok":true}');
		});
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	const { port } = server.address() as AddressInfo;
	return {
		url: `http://127.0.0.1:${port}`,
		calls,
		failNext,
		stop: async () => await new Promise<void>((resolve) => server.close(() => resolve())),
	};
}

export const providerCall = (name: string, url: string): WorkflowNode => ({
	name,
	type: 'n8n-nodes-base.httpRequest',
	typeVersion: 4.2,
	parameters: {
		method: 'POST',
		url,
		sendBody: true,
		specifyBody: 'json',
		jsonBody: '={{ JSON.stringify($json) }}',
		options: {},
	},
});

/** A workflow whose connections list, per node, the targets of each of its outputs. */
export function buildWorkflow(
	id: string,
	name: string,
	nodes: WorkflowNode[],
	connections: Record<string, Array<Array<string>>>,
) {
	return {
		id,
		name,
		active: false,
		settings: { executionOrder: 'v1' },
		pinData: {},
		nodes: nodes.map((node, index) => ({
			id: randomUUID(),
			...(node.type === 'n8n-nodes-base.webhook' ? { webhookId: randomUUID() } : {}),
			position: [(index % 4) * 240, Math.floor(index / 4) * 200],
			...node,
		})),
		connections: Object.fromEntries(
			Object.entries(connections).map(([from, outputs]) => [
				from,
				{
					main: outputs.map((targets) =>
						targets.map((target) => ({ node: target, type: 'main', index: 0 })),
					),
				},
			]),
		),
	};
}

export interface GateStoreChoice {
	store: 'staticData' | 'redis';
	credentials?: Record<string, { id: string; name: string }>;
}

/**
 * POST /webhook/incident {action, incidentId} feeds the gate; POST /webhook/incident-state returns
 * Get State.
 */
export function gateWorkflow(id: string, counterUrl: string, choice: GateStoreChoice) {
	const gate = (name: string, parameters: Record<string, unknown>): WorkflowNode => ({
		name,
		type: `${PACKAGE}.incidentGate`,
		typeVersion: 1,
		parameters: { store: choice.store, gateKey: 'e2e-gate', options: {}, ...parameters },
		...(choice.credentials ? { credentials: choice.credentials } : {}),
	});
	return buildWorkflow(
		id,
		'Incident gate',
		[
			webhook('Incident', 'incident'),
			gate('Gate', {
				operation: 'event',
				action: '={{ $json.body.action }}',
				incidentId: '={{ $json.body.incidentId }}',
				scope: 'edge',
			}),
			providerCall('Activate Provider', `${counterUrl}/activate`),
			providerCall('Withdraw Provider', `${counterUrl}/withdraw`),
			// The provider's answer confirms the change, so later events do not emit it again.
			gate('Confirm Activate', {
				operation: 'confirm',
				scope: "={{ $('Gate').item.json.scope }}",
				active: '={{ $json.ok === true ? true : undefined }}',
			}),
			gate('Confirm Withdraw', {
				operation: 'confirm',
				scope: "={{ $('Gate').item.json.scope }}",
				active: '={{ $json.ok === true ? false : undefined }}',
			}),
			webhook('State', 'incident-state'),
			gate('Gate State', { operation: 'getState', allScopes: false, scope: 'edge' }),
			{ name: 'State Out', type: 'n8n-nodes-base.noOp', typeVersion: 1, parameters: {} },
		],
		{
			Incident: [['Gate']],
			Gate: [['Activate Provider'], ['Withdraw Provider'], []],
			'Activate Provider': [['Confirm Activate']],
			'Withdraw Provider': [['Confirm Withdraw']],
			State: [['Gate State']],
			'Gate State': [[], [], ['State Out']],
		},
	);
}

/**
 * Re-emit and confirmation: POST /webhook/repair-incident feeds a gate whose Activate calls the
 * provider and then confirms with the provider's answer; POST /webhook/repair-tick runs Tick, whose
 * Activate does the same. Each Confirm finds the scope through paired items: `$('<gate
 * node>').item.json.scope`.
 */
export function repairWorkflow(id: string, counterUrl: string) {
	const gate = (name: string, parameters: Record<string, unknown>): WorkflowNode => ({
		name,
		type: `${PACKAGE}.incidentGate`,
		typeVersion: 1,
		parameters: {
			store: 'staticData',
			gateKey: 'repair',
			options: { reemitIntervalSeconds: 1, maxReemits: 0 },
			...parameters,
		},
	});
	const confirm = (name: string, gateNode: string) =>
		gate(name, {
			operation: 'confirm',
			scope: `={{ $('${gateNode}').item.json.scope }}`,
			active: '={{ $json.ok === true }}',
		});
	return buildWorkflow(
		id,
		'Incident gate repair',
		[
			webhook('Repair Incident', 'repair-incident'),
			gate('Repair Gate', {
				operation: 'event',
				action: '={{ $json.body.action }}',
				incidentId: '={{ $json.body.incidentId }}',
				scope: 'edge',
			}),
			providerCall('Repair Activate', `${counterUrl}/activate`),
			confirm('Repair Confirm', 'Repair Gate'),
			webhook('Repair Tick', 'repair-tick'),
			gate('Repair Tick Gate', { operation: 'tick' }),
			providerCall('Repair Tick Activate', `${counterUrl}/activate`),
			confirm('Repair Tick Confirm', 'Repair Tick Gate'),
		],
		{
			'Repair Incident': [['Repair Gate']],
			'Repair Gate': [['Repair Activate'], [], []],
			'Repair Activate': [['Repair Confirm']],
			'Repair Tick': [['Repair Tick Gate']],
			'Repair Tick Gate': [['Repair Tick Activate'], [], []],
			'Repair Tick Activate': [['Repair Tick Confirm']],
		},
	);
}

/**
 * A gate on the Workflow Static Data store whose error (n8n's Continue On Fail) is the webhook's
 * answer.
 */
export function staticDataGateWorkflow(id: string, path: string) {
	const gateNode = {
		name: 'Static Gate',
		type: `${PACKAGE}.incidentGate`,
		typeVersion: 1,
		onError: 'continueRegularOutput',
		parameters: {
			operation: 'event',
			store: 'staticData',
			action: '={{ $json.body.action }}',
			incidentId: '={{ $json.body.incidentId }}',
			options: {},
		},
	};
	return buildWorkflow(
		id,
		'Static-data gate',
		[
			webhook('Static Incident', path),
			gateNode,
			{ name: 'Answer', type: 'n8n-nodes-base.noOp', typeVersion: 1, parameters: {} },
		],
		{ 'Static Incident': [['Static Gate']], 'Static Gate': [['Answer'], ['Answer'], ['Answer']] },
	);
}

/** The naive alternative users write: a Code node counting in workflow static data. */
export function naiveCounterWorkflow(id: string) {
	return buildWorkflow(
		id,
		'Naive static-data counter',
		[
			webhook('Count', 'naive-count'),
			{
				name: 'Increment',
				type: 'n8n-nodes-base.code',
				typeVersion: 2,
				parameters: {
					mode: 'runOnceForAllItems',
					jsCode:
						"const data = $getWorkflowStaticData('global');\ndata.count = (data.count || 0) " +
						'+ 1;\nreturn [{ json: { count: data.count } }];',
				},
			},
		],
		{ Count: [['Increment']] },
	);
}

/** Sends all requests at once and checks that n8n answered each one. */
export async function storm(url: string, bodies: unknown[]): Promise<void> {
	const responses = await Promise.all(bodies.map((body) => postJson(url, body)));
	const failed = responses.filter((response) => response.status !== 200);
	if (failed.length > 0)
		throw new Error(`${failed.length} webhook calls failed, e.g. ${JSON.stringify(failed[0])}`);
}

/**
 * n8n reports ready before it has registered the published workflows' webhooks: polls `url` with an
 * empty POST until its status says the webhook is live (by default: anything but 404, e.g. a 401
 * from a trigger that wants a secret).
 */
export async function waitForWebhook(
	url: string,
	isLive = (status: number) => status !== 404,
	timeoutMs = 120_000,
): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	while (!isLive((await postJson(url)).status)) {
		if (Date.now() > deadline)
			throw new Error(`the webhook ${url} was not registered within ${timeoutMs / 1000} s`);
		await new Promise((resolve) => setTimeout(resolve, 250));
	}
}

/** Opens, or resolves, every incident of `ids` at once through the gate workflow's webhook. */
export async function stormIncidents(
	baseUrl: string,
	action: 'open' | 'resolve',
	ids: string[],
): Promise<void> {
	await storm(
		`${baseUrl}/webhook/incident`,
		ids.map((incidentId) => ({ action, incidentId })),
	);
}

/** Waits for the gate's webhooks (read-only). */
export async function waitForGateWebhooks(baseUrl: string, timeoutMs = 120_000): Promise<void> {
	await waitForWebhook(`${baseUrl}/webhook/incident-state`, (status) => status === 200, timeoutMs);
}

export async function gateState(baseUrl: string): Promise<Record<string, unknown>> {
	const { status, json } = await postJson(`${baseUrl}/webhook/incident-state`);
	if (status !== 200 || !Array.isArray(json))
		throw new Error(`state webhook answered ${status}: ${JSON.stringify(json)}`);
	return json[0] as Record<string, unknown>;
}

export const incidentIds = (count: number) =>
	Array.from({ length: count }, (_, i) => `INC-${String(i).padStart(3, '0')}`);
