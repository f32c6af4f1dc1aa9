import { createHmac, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { type N8nInstance, ensureN8n } from '../../scripts/n8nHarness';
import { type PagerDutySimulator, incidentEvent } from '../simulators/pagerDuty';
import { SERVICE, TOKEN, startPagerDuty } from '../unit/pagerDuty/fixture';
import { OWNER, listSearch, startN8nWith, stopN8n, waitUntil as until } from './harness';
import { PACKAGE, locator, workflow, type WorkflowNode } from './workflows';

/**
 * Both triggers inside a real n8n, wired to the Incident Gate: PagerDuty's subscription follows the
 * workflow's activation, signed deliveries run the workflow through the gate, and refused requests
 * start no execution (counted through n8n's REST API).
 */

const CHECK_SECONDS = 3;
const SECRET = '7c1e9a3f5b0d2e4f6a8c0b2d4e6f8a1c3e5b7d9f0a2c4e6b8d0f1a3c5e7b9d2f';
const credentials = {
	pagerDuty: { id: 'pdsim0000000001', name: 'PagerDuty (simulator)' },
	secret: { id: 'iwsecret00000001', name: 'Detector secret' },
};
/**
 * n8n stores execution data in the flatted format; its own copy of the library reads it (not a
 * dependency of ours).
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const flatted = require(join(ensureN8n().modules, 'flatted')) as { parse(text: string): unknown };
const fixture = (name: string) => readFileSync(join(__dirname, '../fixtures', name), 'utf8');

const ids = {
	pagerDuty: 'pdTrigger0000001',
	alertmanager: 'amTrigger0000001',
	fastNetMon: 'fnmTrigger000001',
};
const webhookIds = {
	pagerDuty: randomUUID(),
	alertmanager: randomUUID(),
	fastNetMon: randomUUID(),
};

function gate(gateKey: string): WorkflowNode {
	return {
		name: 'Incident Gate',
		type: `${PACKAGE}.incidentGate`,
		parameters: { operation: 'event', scope: '={{ $json.scope }}', gateKey },
	};
}

/**
 * Trigger nodes need a webhookId for their production URL (/webhook/<webhookId>/<path>), as the
 * editor sets.
 */
function withWebhookId(
	built: ReturnType<typeof workflow>,
	webhookId: ReturnType<typeof randomUUID>,
) {
	built.nodes[0] = { ...built.nodes[0], webhookId };
	return built;
}

let sim: PagerDutySimulator;
let n8n: N8nInstance;
let api: Awaited<ReturnType<N8nInstance['login']>>;

interface ExecutionSummary {
	id: string;
	status: string;
	mode: string;
	finished?: boolean;
	startedAt?: string;
}

/** The workflow's executions started this way ('webhook': a delivery; 'trigger': its schedule). */
async function executionsStartedBy(
	workflowId: string,
	mode: 'webhook' | 'trigger',
): Promise<ExecutionSummary[]> {
	const response = await api(
		`/rest/executions?filter=${encodeURIComponent(JSON.stringify({ workflowId }))}`,
	);
	expect(response.status).toBe(200);
	const body = (await response.json()) as { data: { results: ExecutionSummary[] } };
	return body.data.results.filter((execution) => execution.mode === mode);
}

/**
 * Executions a delivery started; the PagerDuty workflow's scheduled subscription checks are left
 * out.
 */
const executionsOf = async (workflowId: string) => await executionsStartedBy(workflowId, 'webhook');

/** Waits until the workflow has `count` executions, all done; fails if it ever has more. */
async function waitForExecutions(workflowId: string, count: number): Promise<ExecutionSummary[]> {
	const deadline = Date.now() + 30_000;
	for (;;) {
		const executions = await executionsOf(workflowId);
		if (executions.length > count)
			throw new Error(
				`expected ${count} executions of ${workflowId}, have ${JSON.stringify(executions)}\n` +
					`n8n log:\n${n8n.logTail(80)}`,
			);
		if (
			executions.length === count &&
			executions.every((e) => !['new', 'running', 'waiting'].includes(e.status))
		)
			return executions;
		if (Date.now() > deadline)
			throw new Error(
				`expected ${count} finished executions of ${workflowId}, ` +
					`have ${JSON.stringify(executions)}`,
			);
		await new Promise((resolve) => setTimeout(resolve, 250));
	}
}

/** The PagerDuty workflow's runs its schedule started, newest first. */
const scheduledRuns = async () => await executionsStartedBy(ids.pagerDuty, 'trigger');

/** The latest scheduled runs and what the Subscription Check said in them, for a failure. */
async function scheduledChecks(): Promise<string> {
	const runs = (await scheduledRuns()).slice(0, 3);
	const details = await Promise.all(
		runs.map(async ({ id, status }) => {
			const run = (await (await api(`/rest/executions/${id}`)).json()) as {
				data: { data: string };
			};
			const { resultData } = flatted.parse(run.data.data) as {
				resultData: { error?: { message: string }; runData: Record<string, unknown> };
			};
			const check = JSON.stringify(resultData.runData['PagerDuty Subscription Check'] ?? null);
			return `${id} ${status} ${resultData.error?.message ?? ''} ${check.slice(0, 600)}`;
		}),
	);
	return `scheduled runs (${runs.length} shown):\n${details.join('\n')}`;
}

/** Gives n8n time to (wrongly) start an execution, then checks it did not. */
async function expectNoNewExecution(workflowId: string, before: number): Promise<void> {
	await new Promise((resolve) => setTimeout(resolve, 1500));
	expect(await executionsOf(workflowId)).toHaveLength(before);
}

/** Items each output of a node produced in an execution. */
async function nodeOutputs(
	executionId: string,
	nodeName: string,
): Promise<Array<Array<Record<string, unknown>>>> {
	const response = await api(`/rest/executions/${executionId}`);
	const body = (await response.json()) as { data: { data: string; status: string } };
	expect(body.data.status).toBe('success');
	const run = flatted.parse(body.data.data) as {
		resultData: {
			runData: Record<
				string,
				Array<{ data: { main: Array<Array<{ json: Record<string, unknown> }> | null> } }>
			>;
		};
	};
	const main = run.resultData.runData[nodeName]?.[0]?.data.main ?? [];
	return main.map((items) => (items ?? []).map((item) => item.json));
}

/**
 * What a sender does for the trigger's default Replay Protection: sign "<timestamp>.<raw body>".
 */
function signedHeaders(rawBody: string, timestamp = String(Math.floor(Date.now() / 1000))) {
	return {
		'content-type': 'application/json',
		'X-Signature-Timestamp': timestamp,
		'X-Signature-256': `sha256=${createHmac('sha256', SECRET)
			.update(`${timestamp}.${rawBody}`)
			.digest('hex')}`,
	};
}

async function post(path: string, rawBody: string, headers: Record<string, string>) {
	const response = await fetch(`${n8n.url}/webhook/${path}`, {
		method: 'POST',
		headers,
		body: rawBody,
	});
	return { status: response.status, text: await response.text() };
}

/** Waits for something n8n does; a timeout shows n8n's log. */
const waitUntil = (what: string, condition: () => boolean | Promise<boolean>, timeoutMs?: number) =>
	until(what, condition, timeoutMs, () => `n8n log:\n${n8n.logTail(60)}`);

/**
 * n8n 2.x applies published workflows from an outbox after it reports ready, so triggers go live
 * (and PagerDuty's subscription is created) a little later. An unauthenticated POST answers 401
 * once a trigger listens, 404 before. Webhooks survive a restart in n8n's database, but a schedule
 * is registered again from the outbox, which waits up to its lease (2 minutes) for a publication a
 * stop interrupted: the scheduled Subscription Check counts as live once it has run since `since`.
 */
async function waitForActivation(since: number): Promise<void> {
	await waitUntil('the PagerDuty subscription exists', () => sim.subscriptions.size === 1);
	for (const webhookId of [webhookIds.alertmanager, webhookIds.fastNetMon]) {
		await waitUntil(
			`the trigger ${webhookId} listens`,
			async () =>
				(await post(`${webhookId}/incident`, '{}', { 'content-type': 'application/json' }))
					.status === 401,
		);
	}
	await waitUntil(
		'the scheduled Subscription Check runs',
		async () =>
			(await scheduledRuns()).some((run) => Date.parse(run.startedAt ?? '') >= since - 1000),
		180_000,
	);
}

const pagerDutySubscription = () => {
	expect(sim.subscriptions.size).toBe(1);
	return [...sim.subscriptions.values()][0];
};

/**
 * Incident Webhook Trigger (signed with the shared secret credential) -> gate, for one detector.
 */
function detectorWorkflow(
	id: string,
	name: string,
	webhookId: ReturnType<typeof randomUUID>,
	gateKey: string,
	parameters: Record<string, unknown>,
) {
	const trigger: WorkflowNode = {
		name: 'Incident Webhook Trigger',
		type: `${PACKAGE}.incidentWebhookTrigger`,
		parameters,
		credentials: { incidentWebhookSecretApi: credentials.secret },
	};
	return withWebhookId(workflow(id, name, [[trigger, gate(gateKey)]]), webhookId);
}

beforeAll(async () => {
	sim = await startPagerDuty();
	n8n = await startN8nWith({ owner: OWNER }, (instance) => {
		instance.importCredentials([
			{
				...credentials.pagerDuty,
				type: 'pagerDutyMitigationApi',
				data: { apiToken: TOKEN, baseUrl: sim.baseUrl },
			},
			{
				...credentials.secret,
				type: 'incidentWebhookSecretApi',
				data: { secret: SECRET, previousSecret: '' },
			},
		]);
		instance.importWorkflows([
			withWebhookId(
				workflow(ids.pagerDuty, 'PagerDuty detection', [
					[
						{
							name: 'PagerDuty Incident Trigger',
							type: `${PACKAGE}.pagerDutyIncidentTrigger`,
							parameters: { filterType: 'service', serviceId: locator(SERVICE) },
							credentials: { pagerDutyMitigationApi: credentials.pagerDuty },
						},
						gate('pagerduty'),
					],
					// The schedule a user has for the gate's Tick, here every few seconds so the test is
					// short.
					[
						{
							name: 'Every 3 seconds',
							type: 'n8n-nodes-base.scheduleTrigger',
							typeVersion: 1.2,
							parameters: {
								rule: { interval: [{ field: 'seconds', secondsInterval: CHECK_SECONDS }] },
							},
						},
						{
							name: 'PagerDuty Subscription Check',
							type: `${PACKAGE}.pagerDutySubscriptionCheck`,
							parameters: {},
							credentials: { pagerDutyMitigationApi: credentials.pagerDuty },
						},
					],
				]),
				webhookIds.pagerDuty,
			),
			detectorWorkflow(
				ids.alertmanager,
				'Alertmanager detection',
				webhookIds.alertmanager,
				'alertmanager',
				// Nothing set about signatures: HMAC with freshness is the default.
				{ format: 'alertmanager', scopeLabel: 'prefix' },
			),
			detectorWorkflow(
				ids.fastNetMon,
				'FastNetMon detection',
				webhookIds.fastNetMon,
				'fastnetmon',
				{
					authentication: 'bearerSecret',
					format: 'fastnetmon',
				},
			),
		]);
	});
	api = await n8n.login();
	await waitForActivation(0);
});

afterAll(async () => {
	await stopN8n(n8n);
	await sim?.stop();
});

describe('PagerDuty Incident Trigger inside a real n8n', () => {
	it("on activation subscribes the service to the workflow's production webhook URL", () => {
		expect(pagerDutySubscription()).toMatchObject({
			active: true,
			filter: { type: 'service_reference', id: SERVICE },
			events: ['incident.triggered', 'incident.resolved', 'incident.reopened'],
			delivery_method: { url: `${n8n.url}/webhook/${webhookIds.pagerDuty}/webhook` },
		});
	});

	it(
		'keeps the same subscription and secret across an n8n restart (static data saved at ' +
			'activation)',
		async () => {
			const before = pagerDutySubscription().id;
			const restartedAt = Date.now();
			await n8n.restart();
			api = await n8n.login();
			await waitForActivation(restartedAt);
			expect(pagerDutySubscription().id).toBe(before);
			expect(
				sim.log.filter((r) => r.method === 'POST' && r.path === '/webhook_subscriptions'),
			).toHaveLength(1);
		},
	);

	it(
		're-enables a subscription PagerDuty suspended, without a restart (scheduled Subscription ' +
			'Check)',
		async () => {
			const subscription = pagerDutySubscription();
			const enableCalls = () =>
				sim.log.filter((r) => r.path === `/webhook_subscriptions/${subscription.id}/enable`).length;
			const before = enableCalls();
			subscription.delivery_method.temporarily_disabled = true;
			await until(
				'the Subscription Check re-enables the subscription',
				() => !subscription.delivery_method.temporarily_disabled,
				30_000,
				async () => `${await scheduledChecks()}\nn8n log:\n${n8n.logTail(60)}`,
			);
			expect(enableCalls()).toBe(before + 1);
			expect(pagerDutySubscription().id).toBe(subscription.id);
		},
	);

	it(
		'runs the workflow for a signed incident.triggered, and the Incident Gate activates the ' +
			"service's scope",
		async () => {
			const delivery = await sim.deliver(
				pagerDutySubscription().id,
				incidentEvent('incident.triggered', { id: 'Q0RIJJZL24RC6W', serviceId: SERVICE }),
			);
			expect(delivery.status).toBe(200);
			const [execution] = await waitForExecutions(ids.pagerDuty, 1);
			const [activateOutput] = await nodeOutputs(execution.id, 'Incident Gate');
			expect(activateOutput).toEqual([
				expect.objectContaining({
					scope: SERVICE.toLowerCase(),
					transition: 'activate',
					openIncidents: 1,
				}),
			]);
		},
	);

	it('starts nothing for a forged signature or an unsigned delivery (401)', async () => {
		const event = incidentEvent('incident.resolved', { id: 'Q0RIJJZL24RC6W', serviceId: SERVICE });
		expect(
			(await sim.deliver(pagerDutySubscription().id, event, { signWith: ['forged-secret'] }))
				.status,
		).toBe(401);
		expect(
			(await sim.deliver(pagerDutySubscription().id, event, { omitSignature: true })).status,
		).toBe(401);
		await expectNoNewExecution(ids.pagerDuty, 1);
	});

	it('starts nothing for a retried delivery it already accepted (same X-Webhook-Id)', async () => {
		const event = incidentEvent('incident.resolved', { id: 'Q0RIJJZL24RC6W', serviceId: SERVICE });
		const first = await sim.deliver(pagerDutySubscription().id, event);
		expect(first.status).toBe(200);
		const [, resolved] = await waitForExecutions(ids.pagerDuty, 2).then((all) =>
			all.sort((a, b) => Number(a.id) - Number(b.id)),
		);
		const [, withdrawOutput] = await nodeOutputs(resolved.id, 'Incident Gate');
		expect(withdrawOutput).toEqual([
			expect.objectContaining({
				scope: SERVICE.toLowerCase(),
				transition: 'withdraw',
				openIncidents: 0,
			}),
		]);
		expect(
			(await sim.deliver(pagerDutySubscription().id, event, { webhookId: first.webhookId })).status,
		).toBe(200);
		await expectNoNewExecution(ids.pagerDuty, 2);
	});

	it(
		'starts nothing for a correctly signed event that occurred an hour ago, or for a replay ' +
			'with a new X-Webhook-Id',
		async () => {
			const old = incidentEvent('incident.triggered', { id: 'QOLDREPLAY', serviceId: SERVICE });
			old.event.occurred_at = new Date(Date.now() - 3600_000).toISOString();
			expect((await sim.deliver(pagerDutySubscription().id, old)).status).toBe(200);
			const resolved = incidentEvent('incident.resolved', {
				id: 'Q0RIJJZL24RC6W',
				serviceId: SERVICE,
			});
			// The resolve accepted earlier, captured and sent again under a new delivery id.
			const first = await sim.deliver(pagerDutySubscription().id, resolved);
			expect(first.status).toBe(200);
			await waitForExecutions(ids.pagerDuty, 3);
			expect(
				(await sim.deliver(pagerDutySubscription().id, resolved, { webhookId: 'a-new-id' })).status,
			).toBe(200);
			await expectNoNewExecution(ids.pagerDuty, 3);
		},
	);

	it(
		"after a secret rotation on PagerDuty's side and the suspension it causes, replaces the " +
			'subscription without a restart',
		async () => {
			const rotated = pagerDutySubscription();
			sim.rotateSecret(rotated.id);
			sim.finishRotation(rotated.id);
			const event = () =>
				incidentEvent('incident.triggered', { id: 'QROTATED01', serviceId: SERVICE });
			for (let attempt = 0; attempt < 3; attempt++)
				expect((await sim.deliver(rotated.id, event())).status).toBe(401);
			expect(rotated.delivery_method.temporarily_disabled).toBe(true);
			await waitUntil(
				'the Subscription Check replaces the subscription',
				() => sim.subscriptions.size === 1 && !sim.subscriptions.has(rotated.id),
				30_000,
			);
			// The new sealed secret is saved when the scheduled execution ends; deliveries read it from
			// the database.
			await new Promise((resolve) => setTimeout(resolve, 2000));
			expect((await sim.deliver(pagerDutySubscription().id, event())).status).toBe(200);
			await waitForExecutions(ids.pagerDuty, 4);
		},
	);

	it("lists PagerDuty services for the editor's Service picker", async () => {
		const services = await listSearch(n8n, {
			nodeType: 'pagerDutyIncidentTrigger',
			methodName: 'searchServices',
			parameter: 'serviceId',
			parameters: { filterType: 'service' },
			credentials: { pagerDutyMitigationApi: credentials.pagerDuty },
		});
		expect(services.map((service) => service.value)).toContain(SERVICE);
	});

	it('deletes the subscription when the workflow is deactivated', async () => {
		const deletesBefore = sim.log.filter((r) => r.method === 'DELETE').length;
		const response = await api(`/rest/workflows/${ids.pagerDuty}/deactivate`, {
			method: 'POST',
			body: JSON.stringify({}),
		});
		expect(response.status).toBe(200);
		// Applied from n8n's publication outbox, like activation (which can wait up to its lease).
		await waitUntil('the subscription is deleted', () => sim.subscriptions.size === 0, 180_000);
		expect(sim.log.filter((r) => r.method === 'DELETE').slice(deletesBefore)).toEqual([
			expect.objectContaining({ status: 204 }),
		]);
		expect(sim.allRequestsPinnedVersion2()).toBe(true);
	});
});

describe('Incident Webhook Trigger inside a real n8n', () => {
	const alertmanagerPath = () => `${webhookIds.alertmanager}/incident`;

	it(
		'runs the workflow for a signed Alertmanager notification: one event per alert reaches the ' +
			'Incident Gate',
		async () => {
			const body = fixture('alertmanager-firing.json');
			const response = await post(alertmanagerPath(), body, signedHeaders(body));
			expect(response.status).toBe(200);
			const [execution] = await waitForExecutions(ids.alertmanager, 1);
			const [activateOutput] = await nodeOutputs(execution.id, 'Incident Gate');
			expect(activateOutput.map((item) => item.scope)).toEqual([
				'203.0.113.0/24',
				'198.51.100.0/24',
			]);
		},
	);

	it('starts nothing for a replayed (409), stale, forged or unsigned request (401)', async () => {
		const body = fixture('alertmanager-resolved.json');
		const headers = signedHeaders(body);
		expect((await post(alertmanagerPath(), body, headers)).status).toBe(200);
		await waitForExecutions(ids.alertmanager, 2);
		expect((await post(alertmanagerPath(), body, headers)).status).toBe(409);
		const [, hex] = headers['X-Signature-256'].split('=');
		for (const variant of [`sha256=${hex.toUpperCase()}`, `sha256=${hex},sha256=${hex}`, hex])
			expect(
				(await post(alertmanagerPath(), body, { ...headers, 'X-Signature-256': variant })).status,
			).toBe(409);
		const bodyOnly = {
			'content-type': 'application/json',
			'X-Signature-256': `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`,
		};
		expect((await post(alertmanagerPath(), body, bodyOnly)).status).toBe(401);
		const stale = signedHeaders(body, String(Math.floor(Date.now() / 1000) - 3600));
		expect((await post(alertmanagerPath(), body, stale)).status).toBe(401);
		expect(
			(
				await post(alertmanagerPath(), body, {
					...signedHeaders(body),
					'X-Signature-256': 'sha256=' + '0'.repeat(64),
				})
			).status,
		).toBe(401);
		expect(
			(await post(alertmanagerPath(), body, { 'content-type': 'application/json' })).status,
		).toBe(401);
		await expectNoNewExecution(ids.alertmanager, 2);
	});

	it(
		"starts nothing for malformed bodies: 400 naming the field, or n8n's own 422 for " +
			'unparsable JSON',
		async () => {
			const missingFingerprint = JSON.parse(fixture('alertmanager-firing.json'));
			delete missingFingerprint.alerts[0].fingerprint;
			const incomplete = JSON.stringify(missingFingerprint);
			const refused = await post(alertmanagerPath(), incomplete, signedHeaders(incomplete));
			expect(refused.status).toBe(400);
			expect(refused.text).toContain('alerts[0].fingerprint');
			// Sent as text, n8n leaves parsing to the trigger, which answers 400.
			const broken = '{"alerts": [';
			const asText = await post(alertmanagerPath(), broken, {
				...signedHeaders(broken),
				'content-type': 'text/plain',
			});
			expect(asText.status).toBe(400);
			expect(asText.text).toContain('not valid JSON');
			// Declared as JSON, n8n itself refuses the body before any node runs.
			expect((await post(alertmanagerPath(), broken, signedHeaders(broken))).status).toBe(422);
			await expectNoNewExecution(ids.alertmanager, 2);
		},
	);

	it('opens 600 incidents from one 600-alert Alertmanager group (600 items, no refusal for size)', async () => {
		const notification = JSON.parse(fixture('alertmanager-firing.json'));
		const [template] = notification.alerts;
		notification.alerts = Array.from({ length: 600 }, (_, i) => ({
			...template,
			labels: { ...template.labels, prefix: `10.${i >> 8}.${i & 255}.0/24` },
			fingerprint: `group600-${String(i).padStart(6, '0')}`,
		}));
		const body = JSON.stringify(notification);
		expect(body.length).toBeGreaterThan(256 * 1024);
		expect((await post(alertmanagerPath(), body, signedHeaders(body))).status).toBe(200);
		const executions = await waitForExecutions(ids.alertmanager, 3);
		const latest = executions.sort((a, b) => Number(b.id) - Number(a.id))[0];
		const [activateOutput] = await nodeOutputs(latest.id, 'Incident Gate');
		expect(activateOutput).toHaveLength(600);
		expect(new Set(activateOutput.map((item) => item.scope)).size).toBe(600);
	});

	it('accepts a FastNetMon ban with the Bearer secret and refuses a wrong one', async () => {
		const path = `${webhookIds.fastNetMon}/incident`;
		const ban = fixture('fastnetmon-ban.json');
		expect(
			(await post(path, ban, { 'content-type': 'application/json', authorization: 'Bearer wrong' }))
				.status,
		).toBe(401);
		expect(
			(
				await post(path, ban, {
					'content-type': 'application/json',
					authorization: `Bearer ${SECRET}`,
				})
			).status,
		).toBe(200);
		const [execution] = await waitForExecutions(ids.fastNetMon, 1);
		const [activateOutput] = await nodeOutputs(execution.id, 'Incident Gate');
		expect(activateOutput).toEqual([
			expect.objectContaining({ scope: '203.0.113.10', transition: 'activate' }),
		]);
	});
});
