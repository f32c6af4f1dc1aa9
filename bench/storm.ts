import { createServer, type Server } from 'node:http';
import { loadavg } from 'node:os';
import type { AddressInfo } from 'node:net';

import type { N8nInstance } from '../scripts/n8nHarness';
import { buildWorkflow, providerCall } from '../test/e2e/incidentGateFixture';
import { PACKAGE } from '../test/e2e/workflows';
import {
	SENDER_SECRET,
	importSenderSecret,
	incidentTrigger,
	newWebhookId,
	processTreeRssBytes,
	sleep,
	startN8nWithPackage,
	stopN8n,
	triggerUrl,
	waitForWebhooks,
	type IncidentEvent,
} from './realN8n';
import type { Section, SectionResult } from './section';

/**
 * Storm: 1,000 open/resolve events paced evenly over 10 seconds, each sent once with no retry
 * (FastNetMon does not retry a failed callback), into one real n8n, three workflows side by side:
 *
 * - floor: n8n's own Webhook -> HTTP Request, one execution per event (what n8n itself sustains);
 * - baseline: what a user builds by hand, Webhook (header auth) -> Code counting open incidents per
 *   scope in static data -> HTTP Request;
 * - package: Incident Webhook Trigger (micro-batching, 250 ms window) -> Incident Gate ->
 *   provider call + Confirm on Activate and Withdraw, Unchanged reported once per execution.
 *
 * Each workflow reports to a local counting server, which gives lost events (answered 200 but never
 * reported), Activate/Withdraw per scope and the time to drain. Later variants inherit the earlier
 * backlog's memory, so the order rotates (STORM_ORDER, default: the package first, its worst spot).
 * Only the package's promises fail the run: 0 refused, 0 lost, exactly one Activate and one
 * Withdraw per scope (re-emits counted apart), drained within 15 s, peak RSS at most 2 GiB.
 */

const SCOPES = 5;
const INCIDENTS_PER_SCOPE = 100;
const DURATION_MS = 10_000;
const EVENTS = 2 * SCOPES * INCIDENTS_PER_SCOPE;
/** A request without an answer after this long counts as refused (the sender gave up). */
const ANSWER_TIMEOUT_MS = 60_000;
/** Give up waiting for the remaining reports when none has arrived for this long. */
const STALL_TIMEOUT_MS = 60_000;
const DRAIN_GOAL_S = 15;
const PEAK_RSS_GOAL_BYTES = 2 * 2 ** 30;
const POLL_MS = 20;
const MEMORY_SAMPLE_MS = 250;
/** Quiet time between variants, so that one's tail does not count as the next one's load. */
const SETTLE_MS = 5_000;

type Variant = 'package' | 'floor' | 'baseline';
const LABELS: Record<Variant, string> = {
	floor: "n8n's floor: Webhook -> HTTP Request",
	baseline: 'Hand-built: Webhook -> Code (static data) -> HTTP Request',
	package: 'Incident Webhook Trigger (batching) -> Incident Gate -> provider + Confirm',
};

const scopeName = (scope: number) => `storm-${scope}`;

/** Opens round-robin over the scopes, then the resolves in the same order. */
function schedule(variant: Variant): IncidentEvent[] {
	const events: IncidentEvent[] = [];
	for (const action of ['open', 'resolve'] as const) {
		for (let incident = 0; incident < INCIDENTS_PER_SCOPE; incident++) {
			for (let scope = 0; scope < SCOPES; scope++)
				events.push({
					action,
					incidentId: `${variant}-S${scope}-INC-${incident}`,
					scope: scopeName(scope),
				});
		}
	}
	return events;
}

/** What each variant's workflow reported, by path, with when the last report arrived. */
interface Reports {
	url: string;
	/** Path -> JSON bodies received. */
	bodies: Map<string, unknown[]>;
	lastAt: Map<Variant, number>;
	stop(): Promise<void>;
}

async function startReportServer(): Promise<Reports> {
	const bodies = new Map<string, unknown[]>();
	const lastAt = new Map<Variant, number>();
	const server: Server = createServer((request, response) => {
		let body = '';
		request.on('data', (chunk: Buffer) => (body += chunk.toString()));
		request.on('end', () => {
			const path = request.url ?? '';
			bodies.set(path, [...(bodies.get(path) ?? []), JSON.parse(body || '{}')]);
			lastAt.set(path.split('/')[1] as Variant, Date.now());
			response.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
		});
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	const { port } = server.address() as AddressInfo;
	return {
		url: `http://127.0.0.1:${port}`,
		bodies,
		lastAt,
		stop: async () => await new Promise<void>((resolve) => server.close(() => resolve())),
	};
}

/** An HTTP Request POSTing `jsonBody` (an expression) to the report server. */
function reportCall(name: string, url: string, jsonBody: string) {
	const call = providerCall(name, url);
	return { ...call, parameters: { ...call.parameters, jsonBody } };
}

const headerCredential = { id: 'benchstormhead01', name: 'Storm header' };

function floorWorkflow(reportUrl: string) {
	return buildWorkflow(
		'benchStormFloor1',
		LABELS.floor,
		[
			{
				name: 'Webhook',
				type: 'n8n-nodes-base.webhook',
				typeVersion: 2,
				parameters: {
					httpMethod: 'POST',
					path: 'storm-floor',
					responseMode: 'onReceived',
					options: {},
				},
			},
			reportCall('Report', `${reportUrl}/floor/event`, '={{ JSON.stringify($json.body) }}'),
		],
		{ Webhook: [['Report']] },
	);
}

/** Counts open incidents per scope in static data; the transition says what a provider would do. */
const COUNT_OPEN_INCIDENTS = `const counts = $getWorkflowStaticData('global');
const { action, scope, incidentId } = $input.first().json.body;
const before = counts[scope] || 0;
counts[scope] = Math.max(0, before + (action === 'open' ? 1 : action === 'resolve' ? -1 : 0));
const transition = before === 0 && counts[scope] === 1 ? 'activate'
  : before === 1 && counts[scope] === 0 ? 'withdraw' : 'none';
return [{ json: { scope, incidentId, action, transition } }];`;

function baselineWorkflow(reportUrl: string) {
	return buildWorkflow(
		'benchStormBase01',
		LABELS.baseline,
		[
			{
				name: 'Webhook',
				type: 'n8n-nodes-base.webhook',
				typeVersion: 2,
				parameters: {
					httpMethod: 'POST',
					path: 'storm-baseline',
					authentication: 'headerAuth',
					responseMode: 'onReceived',
					options: {},
				},
				credentials: { httpHeaderAuth: headerCredential },
			},
			{
				name: 'Count Open Incidents',
				type: 'n8n-nodes-base.code',
				typeVersion: 2,
				parameters: { mode: 'runOnceForAllItems', jsCode: COUNT_OPEN_INCIDENTS },
			},
			providerCall('Report', `${reportUrl}/baseline/event`),
		],
		{ Webhook: [['Count Open Incidents']], 'Count Open Incidents': [['Report']] },
	);
}

function packageWorkflow(webhookId: string, reportUrl: string) {
	const gate = (name: string, parameters: Record<string, unknown>) => ({
		name,
		type: `${PACKAGE}.incidentGate`,
		typeVersion: 1,
		parameters: { store: 'staticData', gateKey: 'bench-storm', options: {}, ...parameters },
	});
	return buildWorkflow(
		'benchStormPkg001',
		LABELS.package,
		[
			// Batching at its defaults (a 250 ms window).
			{ ...incidentTrigger(webhookId), typeVersion: 1 },
			gate('Incident Gate', { operation: 'event', scope: '={{ $json.scope }}' }),
			providerCall('Activate Provider', `${reportUrl}/package/activate`),
			providerCall('Withdraw Provider', `${reportUrl}/package/withdraw`),
			// The provider's answer confirms the change, so the gate does not emit it again.
			gate('Confirm Activate', {
				operation: 'confirm',
				active: '={{ $json.ok === true ? true : undefined }}',
			}),
			gate('Confirm Withdraw', {
				operation: 'confirm',
				active: '={{ $json.ok === true ? false : undefined }}',
			}),
			{
				name: 'All Unchanged',
				type: 'n8n-nodes-base.aggregate',
				typeVersion: 1,
				parameters: { aggregate: 'aggregateAllItemData', destinationFieldName: 'items' },
			},
			reportCall(
				'Report Unchanged',
				`${reportUrl}/package/unchanged`,
				'={{ JSON.stringify({ events: $json.items.map((item) => item.event) }) }}',
			),
		],
		{
			'Incident Webhook Trigger': [['Incident Gate']],
			'Incident Gate': [['Activate Provider'], ['Withdraw Provider'], ['All Unchanged']],
			'Activate Provider': [['Confirm Activate']],
			'Withdraw Provider': [['Confirm Withdraw']],
			'All Unchanged': [['Report Unchanged']],
		},
	);
}

interface Delivery {
	status: number;
	answer: string;
}

/** POSTs one event once, as FastNetMon does: no retry; no answer within the timeout is status 0. */
async function sendOnce(
	url: string,
	headers: Record<string, string>,
	event: IncidentEvent,
): Promise<Delivery> {
	try {
		const response = await fetch(url, {
			method: 'POST',
			headers: { 'content-type': 'application/json', ...headers },
			body: JSON.stringify(event),
			signal: AbortSignal.timeout(ANSWER_TIMEOUT_MS),
		});
		return { status: response.status, answer: await response.text() };
	} catch (error) {
		return { status: 0, answer: String(error) };
	}
}

interface Outcome {
	variant: Variant;
	refused: number;
	refusalExample?: string;
	lost: number;
	/** Per scope: [activations, withdrawals]; undefined for the floor, which has no gate. */
	perScope?: Array<[string, number, number]>;
	reemits: number;
	executions?: number;
	drainSeconds: number;
	rssIdleBytes: number;
	rssPeakBytes: number;
	loadBefore: number;
}

/** An event's identity in the reports: its action and incident id. */
const eventKey = (event: unknown) => {
	const { action, incidentId } = (event ?? {}) as Record<string, unknown>;
	return `${String(action)}:${String(incidentId)}`;
};

/** The events each variant's reports account for, and their Activate/Withdraw per scope. */
function tally(variant: Variant, reports: Reports) {
	const at = (path: string) =>
		(reports.bodies.get(`/${variant}/${path}`) ?? []) as Array<Record<string, unknown>>;
	if (variant === 'floor') return { seen: new Set(at('event').map(eventKey)), reemits: 0 };
	const perScope = new Map<string, [number, number]>();
	for (let scope = 0; scope < SCOPES; scope++) perScope.set(scopeName(scope), [0, 0]);
	const count = (items: Array<Record<string, unknown>>, index: 0 | 1) => {
		for (const item of items) {
			const entry = perScope.get(String(item.scope)) ?? [0, 0];
			entry[index]++;
			perScope.set(String(item.scope), entry);
		}
	};
	if (variant === 'baseline') {
		const events = at('event');
		count(
			events.filter((e) => e.transition === 'activate'),
			0,
		);
		count(
			events.filter((e) => e.transition === 'withdraw'),
			1,
		);
		return { seen: new Set(events.map(eventKey)), reemits: 0, perScope };
	}
	const isReemit = (item: Record<string, unknown>) => item.reason === 'reemit';
	const [activate, withdraw] = [at('activate'), at('withdraw')];
	count(
		activate.filter((item) => !isReemit(item)),
		0,
	);
	count(
		withdraw.filter((item) => !isReemit(item)),
		1,
	);
	const unchanged = at('unchanged');
	// The gate emits one item per event it received, on exactly one output, with the event in `event`.
	const seen = new Set([
		...[...activate, ...withdraw].map((item) => eventKey(item.event)),
		...unchanged.flatMap((report) => (report.events as unknown[]).map(eventKey)),
	]);
	return {
		seen,
		reemits: [...activate, ...withdraw].filter(isReemit).length,
		perScope,
		executions: unchanged.length,
	};
}

async function stormOne(
	n8n: N8nInstance,
	variant: Variant,
	url: string,
	headers: Record<string, string>,
	reports: Reports,
): Promise<Outcome> {
	const pid = n8n.process?.pid;
	if (pid === undefined) throw new Error('n8n is not running');
	const loadBefore = loadavg()[0];
	const rssIdleBytes = processTreeRssBytes(pid);
	let rssPeakBytes = rssIdleBytes;
	const sampler = setInterval(
		() => (rssPeakBytes = Math.max(rssPeakBytes, processTreeRssBytes(pid))),
		MEMORY_SAMPLE_MS,
	);
	try {
		const events = schedule(variant);
		const startedAt = Date.now();
		const answers: Array<Promise<Delivery>> = [];
		for (const [k, event] of events.entries()) {
			await sleep(startedAt + (k * DURATION_MS) / EVENTS - Date.now());
			answers.push(sendOnce(url, headers, event));
		}
		const lastSentAt = Date.now();
		const deliveries = await Promise.all(answers);
		const refused = deliveries.filter(({ status }) => status !== 200);
		const accepted = events.filter((_, k) => deliveries[k].status === 200).map(eventKey);
		const missing = () => {
			const { seen } = tally(variant, reports);
			return accepted.filter((key) => !seen.has(key)).length;
		};
		let progress = { missing: missing(), at: Date.now() };
		while (progress.missing > 0 && Date.now() - progress.at < STALL_TIMEOUT_MS) {
			await sleep(POLL_MS);
			const now = missing();
			if (now < progress.missing) progress = { missing: now, at: Date.now() };
		}
		const { reemits, perScope, executions } = tally(variant, reports);
		return {
			variant,
			refused: refused.length,
			refusalExample: refused[0] && `${refused[0].status} ${refused[0].answer.slice(0, 160)}`,
			lost: missing(),
			perScope: perScope && [...perScope].map(([scope, [a, w]]) => [scope, a, w]),
			reemits,
			executions,
			drainSeconds: ((reports.lastAt.get(variant) ?? lastSentAt) - lastSentAt) / 1000,
			rssIdleBytes,
			rssPeakBytes,
			loadBefore,
		};
	} finally {
		clearInterval(sampler);
	}
}

function order(): Variant[] {
	const requested = (process.env.STORM_ORDER ?? 'package,floor,baseline').split(',');
	const known = requested.filter((v): v is Variant => v in LABELS);
	return [...new Set([...known, ...(Object.keys(LABELS) as Variant[])])];
}

const gib = (bytes: number) => `${(bytes / 2 ** 30).toFixed(2)} GiB`;

function transitions(outcome: Outcome): [string, string] {
	if (!outcome.perScope) return ['n/a', 'n/a'];
	const describe = (index: 1 | 2) => {
		const counts = outcome.perScope!.map((entry) => entry[index]);
		const total = counts.reduce((a, b) => a + b, 0);
		return counts.every((c) => c === 1)
			? `${total} (1 per scope)`
			: `${total} (per scope: ${counts.join(', ')})`;
	};
	return [describe(1), describe(2)];
}

function packageFailures(outcome: Outcome): string[] {
	const failures: string[] = [];
	if (outcome.refused > 0) failures.push(`package: ${outcome.refused} request(s) refused`);
	if (outcome.lost > 0) failures.push(`package: ${outcome.lost} accepted event(s) lost`);
	for (const [scope, activations, withdrawals] of outcome.perScope ?? []) {
		if (activations !== 1 || withdrawals !== 1)
			failures.push(
				`package: ${scope} got ${activations} Activate and ${withdrawals} Withdraw, expected 1 each`,
			);
	}
	if (outcome.drainSeconds > DRAIN_GOAL_S)
		failures.push(`package: drained ${outcome.drainSeconds.toFixed(1)} s after the last event`);
	if (outcome.rssPeakBytes > PEAK_RSS_GOAL_BYTES)
		failures.push(`package: n8n peak RSS ${gib(outcome.rssPeakBytes)}`);
	return failures;
}

async function run(): Promise<SectionResult> {
	const reports = await startReportServer();
	const webhookId = newWebhookId();
	let n8n: N8nInstance | undefined;
	try {
		n8n = await startN8nWithPackage((instance) => {
			importSenderSecret(instance);
			instance.importCredentials([
				{
					...headerCredential,
					type: 'httpHeaderAuth',
					data: { name: 'Authorization', value: `Bearer ${SENDER_SECRET}` },
				},
			]);
			instance.importWorkflows([
				floorWorkflow(reports.url),
				baselineWorkflow(reports.url),
				packageWorkflow(webhookId, reports.url),
			]);
		});
		const urls: Record<Variant, string> = {
			floor: `${n8n.url}/webhook/storm-floor`,
			baseline: `${n8n.url}/webhook/storm-baseline`,
			package: triggerUrl(n8n, webhookId),
		};
		await waitForWebhooks(Object.values(urls));
		const authorization = { authorization: `Bearer ${SENDER_SECRET}` };
		const outcomes: Outcome[] = [];
		for (const variant of order()) {
			await sleep(SETTLE_MS);
			outcomes.push(
				await stormOne(
					n8n,
					variant,
					urls[variant],
					variant === 'floor' ? {} : authorization,
					reports,
				),
			);
		}

		const packageOutcome = outcomes.find(({ variant }) => variant === 'package')!;
		return {
			table: {
				columns: [
					'Workflow (in the order run)',
					'Refused',
					'Lost',
					'Activate',
					'Withdraw',
					'Drained after last event',
					'n8n RSS idle -> peak',
					'Load before',
				],
				rows: outcomes.map((outcome) => [
					LABELS[outcome.variant],
					outcome.refused,
					outcome.lost,
					...transitions(outcome),
					`${outcome.drainSeconds.toFixed(1)} s`,
					`${gib(outcome.rssIdleBytes)} -> ${gib(outcome.rssPeakBytes)}`,
					outcome.loadBefore.toFixed(1),
				]),
			},
			figures: { events: EVENTS, scopes: SCOPES, durationMs: DURATION_MS, outcomes },
			failures: packageFailures(packageOutcome),
			notes: [
				`${EVENTS} events (${SCOPES} scopes × ${INCIDENTS_PER_SCOPE} incidents, opened then ` +
					`resolved) over ${DURATION_MS / 1000} s per workflow, each sent once without retry; ` +
					`refused = any answer but 200, or none within ${ANSWER_TIMEOUT_MS / 1000} s.`,
				`Package: ${packageOutcome.executions ?? 0} executions for ${EVENTS} events; ` +
					`${packageOutcome.reemits} re-emitted Activate/Withdraw (counted apart, not as ` +
					'activations).',
				...outcomes
					.filter(({ refusalExample }) => refusalExample)
					.map(({ variant, refusalExample }) => `${variant}: refused e.g. ${refusalExample}`),
				'Load before: the 1-minute load average when the variant started (the machine is shared).',
			],
		};
	} finally {
		if (n8n) await stopN8n(n8n);
		await reports.stop();
	}
}

export const storm: Section = { id: 'storm', title: 'Storm in a real n8n', run };
