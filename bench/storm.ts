import { createServer, type Server } from 'node:http';
import { loadavg } from 'node:os';
import type { AddressInfo } from 'node:net';

import { buildWorkflow, providerCall } from '../test/e2e/incidentGateFixture';
import {
	queueModeEnv,
	redisCredentialData,
	startPostgres,
	startRedis,
	type Postgres,
	type Service,
} from '../test/e2e/services';
import { PACKAGE } from '../test/e2e/workflows';
import {
	SENDER_SECRET,
	importSenderSecret,
	incidentTrigger,
	newWebhookId,
	onReceiptWebhook,
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
 * - package: Incident Webhook Trigger (batching at its defaults) -> Incident Gate -> provider call +
 *   Confirm on Activate and Withdraw, Unchanged reported once per execution.
 *
 * Each workflow reports to a local counting server, which gives lost events (answered 200 but never
 * reported), Activate/Withdraw per scope and the time to drain. Later variants inherit the earlier
 * backlog's memory, so each setup runs in rounds on a fresh n8n, the order rotated so that every
 * variant runs first once. Setups: regular mode with n8n's default expression engine, regular mode
 * with the legacy engine, and queue mode (PostgreSQL, Redis, main + 2 workers).
 *
 * The run fails when the package breaks a promise it keeps whatever the load: an event answered 200
 * and never run, or a scope activated or withdrawn twice. The storm goals (0 refused, one Activate
 * and one Withdraw per scope, drained within 15 s, n8n at most 2 GiB) are reported per run.
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
const VARIANTS: Variant[] = ['package', 'floor', 'baseline'];

interface Setup {
	id: string;
	label: string;
	queueMode: boolean;
	env: Record<string, string>;
}

const SETUPS: Setup[] = [
	{
		id: 'regular',
		label: "regular mode, SQLite, n8n's default expression engine (vm)",
		queueMode: false,
		env: {},
	},
	{
		id: 'legacy',
		label: 'regular mode, SQLite, N8N_EXPRESSION_ENGINE=legacy',
		queueMode: false,
		env: { N8N_EXPRESSION_ENGINE: 'legacy' },
	},
	{
		id: 'queue',
		label: "queue mode: PostgreSQL, Redis, main + 2 workers, n8n's default engine",
		queueMode: true,
		env: {},
	},
];
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
			onReceiptWebhook('storm-floor'),
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
			onReceiptWebhook('storm-baseline', headerCredential),
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

const redisCredential = { id: 'benchstormredis1', name: 'Gate Redis' };

/** In queue mode the gate keeps its state in Redis: workers do not share static data. */
function packageWorkflow(webhookId: string, reportUrl: string, queueMode: boolean) {
	const gate = (name: string, parameters: Record<string, unknown>) => ({
		name,
		type: `${PACKAGE}.incidentGate`,
		typeVersion: 1,
		parameters: {
			store: queueMode ? 'redis' : 'staticData',
			gateKey: 'bench-storm',
			options: {},
			...parameters,
		},
		...(queueMode ? { credentials: { redis: redisCredential } } : {}),
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
	pids: number[],
	variant: Variant,
	url: string,
	headers: Record<string, string>,
	reports: Reports,
): Promise<Outcome> {
	const loadBefore = loadavg()[0];
	const rss = () => pids.reduce((sum, pid) => sum + processTreeRssBytes(pid), 0);
	const rssIdleBytes = rss();
	let rssPeakBytes = rssIdleBytes;
	const sampler = setInterval(
		() => (rssPeakBytes = Math.max(rssPeakBytes, rss())),
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

/** Round r runs the variants rotated by r, so that each runs first once in three rounds. */
const rotated = (round: number): Variant[] =>
	VARIANTS.map((_, k) => VARIANTS[(k + round) % VARIANTS.length]);

const selectedSetups = () => {
	const ids = (process.env.STORM_SETUPS ?? SETUPS.map(({ id }) => id).join(',')).split(',');
	return SETUPS.filter(({ id }) => ids.includes(id));
};
const rounds = () => Math.max(1, Number(process.env.STORM_ROUNDS ?? VARIANTS.length) || 1);

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

/** Promises the package keeps whatever the load: what it answered 200 runs, once per scope. */
function brokenPromises(outcome: Outcome): string[] {
	const broken: string[] = [];
	if (outcome.lost > 0) broken.push(`${outcome.lost} event(s) answered 200 and never run`);
	for (const [scope, activations, withdrawals] of outcome.perScope ?? []) {
		if (activations > 1 || withdrawals > 1)
			broken.push(`${scope} got ${activations} Activate and ${withdrawals} Withdraw`);
	}
	return broken;
}

/** The storm goals the package's run missed; "met" when none. */
function goalsMissed(outcome: Outcome): string {
	const missed: string[] = [];
	if (outcome.refused > 0) missed.push(`${outcome.refused} refused`);
	if (outcome.lost > 0) missed.push(`${outcome.lost} lost`);
	if ((outcome.perScope ?? []).some(([, a, w]) => a !== 1 || w !== 1))
		missed.push('not one Activate and one Withdraw per scope');
	if (outcome.drainSeconds > DRAIN_GOAL_S) missed.push(`drained > ${DRAIN_GOAL_S} s`);
	if (outcome.rssPeakBytes > PEAK_RSS_GOAL_BYTES) missed.push('peak > 2 GiB');
	return missed.length === 0 ? 'met' : missed.join(', ');
}

/** Starts what a setup needs (queue mode: PostgreSQL, Redis, two workers) and one n8n. */
async function startSetup(setup: Setup, reports: Reports, webhookId: string) {
	const services = setup.queueMode ? await Promise.all([startPostgres(), startRedis()]) : [];
	const [postgres, redis] = services as [Postgres?, Service?];
	const queueEnv: Record<string, string> =
		postgres && redis
			? {
					...queueModeEnv(postgres, redis),
					// n8n's default pool of 2 connections times out under 100 requests a second, and
					// executions it answered 200 for are then lost (n8n's own Webhook node too).
					DB_POSTGRESDB_POOL_SIZE: '10',
				}
			: {};
	const stopServices = async () => await Promise.all(services.map((service) => service?.stop()));
	try {
		const n8n = await startN8nWithPackage(
			(instance) => {
				importSenderSecret(instance);
				instance.importCredentials([
					{
						...headerCredential,
						type: 'httpHeaderAuth',
						data: { name: 'Authorization', value: `Bearer ${SENDER_SECRET}` },
					},
					...(redis
						? [
								{
									...redisCredential,
									type: 'redis',
									data: redisCredentialData(redis),
								},
							]
						: []),
				]);
				instance.importWorkflows([
					floorWorkflow(reports.url),
					baselineWorkflow(reports.url),
					packageWorkflow(webhookId, reports.url, setup.queueMode),
				]);
			},
			{ env: { ...setup.env, ...queueEnv } },
		);
		const workers = setup.queueMode
			? await Promise.all([n8n.startWorker(), n8n.startWorker()])
			: [];
		const pids = [n8n.process?.pid, ...workers.map((worker) => worker.pid)].filter(
			(pid): pid is number => pid !== undefined,
		);
		return {
			n8n,
			pids,
			stop: async () => {
				await stopN8n(n8n);
				await stopServices();
			},
		};
	} catch (error) {
		await stopServices();
		throw error;
	}
}

/** One round: a fresh n8n of the setup, the three variants in the round's order. */
async function runRound(setup: Setup, round: number): Promise<Outcome[]> {
	const reports = await startReportServer();
	const webhookId = newWebhookId();
	const started = await startSetup(setup, reports, webhookId).catch(async (error: unknown) => {
		await reports.stop();
		throw error;
	});
	try {
		const { n8n, pids } = started;
		const urls: Record<Variant, string> = {
			floor: `${n8n.url}/webhook/storm-floor`,
			baseline: `${n8n.url}/webhook/storm-baseline`,
			package: triggerUrl(n8n, webhookId),
		};
		await waitForWebhooks(Object.values(urls));
		const authorization = { authorization: `Bearer ${SENDER_SECRET}` };
		const outcomes: Outcome[] = [];
		for (const variant of rotated(round)) {
			await sleep(SETTLE_MS);
			const headers = variant === 'floor' ? {} : authorization;
			outcomes.push(await stormOne(pids, variant, urls[variant], headers, reports));
		}
		return outcomes;
	} finally {
		await started.stop();
		await reports.stop();
	}
}

async function run(): Promise<SectionResult> {
	const rows: Array<Array<string | number>> = [];
	const failures: string[] = [];
	const notes: string[] = [];
	const figures: Record<string, Outcome[][]> = {};
	for (const setup of selectedSetups()) {
		figures[setup.id] = [];
		for (let round = 0; round < rounds(); round++) {
			const outcomes = await runRound(setup, round);
			figures[setup.id].push(outcomes);
			outcomes.forEach((outcome, position) => {
				rows.push([
					setup.id,
					`${round + 1}.${position + 1}`,
					LABELS[outcome.variant],
					outcome.refused,
					outcome.lost,
					...transitions(outcome),
					`${outcome.drainSeconds.toFixed(1)} s`,
					`${gib(outcome.rssIdleBytes)} -> ${gib(outcome.rssPeakBytes)}`,
					outcome.variant === 'package' ? goalsMissed(outcome) : '',
					outcome.loadBefore.toFixed(1),
				]);
				if (outcome.refusalExample)
					notes.push(
						`${setup.id} ${round + 1}.${position + 1} ${outcome.variant}: refused e.g. ` +
							outcome.refusalExample,
					);
			});
			const packageOutcome = outcomes.find(({ variant }) => variant === 'package')!;
			failures.push(
				...brokenPromises(packageOutcome).map(
					(broken) => `package, ${setup.id} round ${round + 1}: ${broken}`,
				),
			);
			notes.push(
				`${setup.id} round ${round + 1}: the package ran ${packageOutcome.executions ?? 0} ` +
					`executions for ${EVENTS} events; ${packageOutcome.reemits} re-emitted ` +
					'Activate/Withdraw (counted apart).',
			);
		}
	}
	return {
		table: {
			columns: [
				'Setup',
				'Round.order',
				'Workflow',
				'Refused',
				'Lost',
				'Activate',
				'Withdraw',
				'Drained after last event',
				'n8n RSS idle -> peak',
				'Storm goals',
				'Load before',
			],
			rows,
		},
		figures: { events: EVENTS, scopes: SCOPES, durationMs: DURATION_MS, setups: figures },
		failures,
		notes: [
			`${EVENTS} events (${SCOPES} scopes × ${INCIDENTS_PER_SCOPE} incidents, opened then ` +
				`resolved) over ${DURATION_MS / 1000} s per workflow, each sent once without retry; ` +
				`refused = any answer but 200, or none within ${ANSWER_TIMEOUT_MS / 1000} s.`,
			...selectedSetups().map(({ id, label }) => `${id}: ${label}.`),
			'Round.order: each round is a fresh n8n; the variants run one after the other in a ' +
				'rotated order, later ones inheriting the earlier backlog.',
			...notes,
			'Load before: the 1-minute load average when the variant started (the machine is shared).',
		],
	};
}

export const storm: Section = { id: 'storm', title: 'Storm in a real n8n', run };
