import type { N8nInstance } from '../scripts/n8nHarness';
import {
	buildWorkflow,
	providerCall,
	startProviderCounter,
	type ProviderCounter,
} from '../test/e2e/incidentGateFixture';
import { PACKAGE } from '../test/e2e/workflows';
import {
	importSenderSecret,
	incidentTrigger,
	newWebhookId,
	processTreeRssBytes,
	sendEvent,
	sleep,
	startN8nWithPackage,
	stopN8n,
	triggerUrl,
	waitForWebhooks,
	type IncidentEvent,
} from './realN8n';
import type { Section, SectionResult } from './section';

/**
 * Detectors deliver at least once: a refused or failed POST is retried with backoff, as
 * Alertmanager and PagerDuty do.
 */
const RETRY_FOR_MS = 120_000;

interface Delivery {
	status: number;
	answer: string;
	attempts: number;
}

async function deliverLikeADetector(url: string, event: IncidentEvent): Promise<Delivery> {
	const giveUpAt = Date.now() + RETRY_FOR_MS;
	for (let attempts = 1, waitMs = 1_000; ; attempts++, waitMs = Math.min(waitMs * 2, 10_000)) {
		const { status, answer } = await sendEvent(url, event);
		if (status === 200 || Date.now() + waitMs > giveUpAt) return { status, answer, attempts };
		await sleep(waitMs);
	}
}

/**
 * Storm: 1,000 open/resolve events paced evenly over 10 seconds into one real n8n, Incident Webhook
 * Trigger -> Incident Gate (static-data store) -> a counting HTTP "provider" on each of its three
 * outputs. Ten scopes each get 50 incidents opened, then all resolved, so each scope must see
 * exactly one activation and one withdrawal; anything else fails the run. Also measured: executions
 * per second n8n sustained, errors, and n8n's memory.
 */

const SCOPES = 10;
const INCIDENTS_PER_SCOPE = 50;
const DURATION_MS = 10_000;
const EVENTS = 2 * SCOPES * INCIDENTS_PER_SCOPE;
/** Give up waiting for the remaining executions when none has finished for this long. */
const STALL_TIMEOUT_MS = 60_000;
const POLL_MS = 20;
const MEMORY_SAMPLE_MS = 250;

/**
 * Opens round-robin over the scopes, then the resolves in the same order: each scope's last open
 * precedes its resolves by seconds.
 */
function schedule(): IncidentEvent[] {
	const events: IncidentEvent[] = [];
	for (const action of ['open', 'resolve'] as const) {
		for (let incident = 0; incident < INCIDENTS_PER_SCOPE; incident++) {
			for (let scope = 0; scope < SCOPES; scope++)
				events.push({ action, incidentId: `S${scope}-INC-${incident}`, scope: `storm-${scope}` });
		}
	}
	return events;
}

function stormWorkflow(webhookId: string, counterUrl: string) {
	return buildWorkflow(
		'benchStorm000001',
		'Incident storm',
		[
			{ ...incidentTrigger(webhookId), typeVersion: 1 },
			{
				name: 'Incident Gate',
				type: `${PACKAGE}.incidentGate`,
				typeVersion: 1,
				parameters: {
					operation: 'event',
					store: 'staticData',
					scope: '={{ $json.scope }}',
					gateKey: 'bench-storm',
					options: {},
				},
			},
			providerCall('Activate Provider', `${counterUrl}/activate`),
			providerCall('Withdraw Provider', `${counterUrl}/withdraw`),
			// Reported too, so the counter sees every execution end and the bench needs no access to
			// n8n's API.
			providerCall('Unchanged', `${counterUrl}/none`),
		],
		{
			'Incident Webhook Trigger': [['Incident Gate']],
			'Incident Gate': [['Activate Provider'], ['Withdraw Provider'], ['Unchanged']],
		},
	);
}

/**
 * Every execution ends in exactly one call to the counter (activate, withdraw or none): polls until
 * all arrived.
 */
async function waitForExecutions(
	counter: ProviderCounter,
): Promise<{ handled: number; lastAt: number }> {
	const handled = () =>
		counter.calls.activate.length + counter.calls.withdraw.length + counter.calls.none.length;
	let progress = { handled: handled(), lastAt: Date.now() };
	while (progress.handled < EVENTS && Date.now() - progress.lastAt < STALL_TIMEOUT_MS) {
		await sleep(POLL_MS);
		if (handled() > progress.handled) progress = { handled: handled(), lastAt: Date.now() };
	}
	return progress;
}

/** Activations and withdrawals the counting provider received, per scope. */
function transitionsPerScope(counter: ProviderCounter) {
	const perScope = new Map<string, { activations: number; withdrawals: number }>();
	for (let scope = 0; scope < SCOPES; scope++)
		perScope.set(`storm-${scope}`, { activations: 0, withdrawals: 0 });
	const count = (calls: unknown[], key: 'activations' | 'withdrawals') => {
		for (const call of calls) {
			const scope = String((call as { scope?: unknown }).scope);
			const entry = perScope.get(scope) ?? { activations: 0, withdrawals: 0 };
			entry[key]++;
			perScope.set(scope, entry);
		}
	};
	count(counter.calls.activate, 'activations');
	count(counter.calls.withdraw, 'withdrawals');
	return perScope;
}

async function run(): Promise<SectionResult> {
	const counter = await startProviderCounter();
	const webhookId = newWebhookId();
	let n8n: N8nInstance | undefined;
	try {
		n8n = await startN8nWithPackage((instance) => {
			importSenderSecret(instance);
			instance.importWorkflows([stormWorkflow(webhookId, counter.url)]);
		});
		const url = triggerUrl(n8n, webhookId);
		await waitForWebhooks([url]);
		const pid = n8n.process?.pid;
		if (pid === undefined) throw new Error('n8n is not running');
		const idleRss = processTreeRssBytes(pid);
		let peakRss = idleRss;
		const sampler = setInterval(
			() => (peakRss = Math.max(peakRss, processTreeRssBytes(pid))),
			MEMORY_SAMPLE_MS,
		);

		const events = schedule();
		const startedAt = Date.now();
		const answers: Array<Promise<Delivery>> = [];
		try {
			for (const [k, event] of events.entries()) {
				await sleep(startedAt + (k * DURATION_MS) / EVENTS - Date.now());
				answers.push(deliverLikeADetector(url, event));
			}
			const sentFor = (Date.now() - startedAt) / 1000;
			const deliveries = await Promise.all(answers);
			const refused = deliveries.filter(({ status }) => status !== 200);
			const retried = deliveries.filter(({ attempts }) => attempts > 1).length;
			const { handled, lastAt } = await waitForExecutions(counter);
			clearInterval(sampler);
			const executionsPerSecond = handled / ((lastAt - startedAt) / 1000);
			const lost = EVENTS - refused.length - handled;

			const perScope = transitionsPerScope(counter);
			const inexact = [...perScope].filter(
				([, { activations, withdrawals }]) => activations !== 1 || withdrawals !== 1,
			);
			const exactness =
				inexact.length === 0 ? 'exactly 1 per scope' : `${inexact.length} scope(s) not exactly 1`;
			const givenUp = refused[0]
				? `, e.g. ${refused[0].status} ${refused[0].answer.slice(0, 200)}`
				: ': none';
			const totals = [...perScope.values()].reduce(
				(sum, entry) => ({
					activations: sum.activations + entry.activations,
					withdrawals: sum.withdrawals + entry.withdrawals,
				}),
				{ activations: 0, withdrawals: 0 },
			);
			const mib = (bytes: number) => `${Math.round(bytes / 2 ** 20)} MiB`;
			const figures = {
				events: EVENTS,
				scopes: SCOPES,
				sentOverSeconds: sentFor,
				activations: totals.activations,
				withdrawals: totals.withdrawals,
				inexactScopes: Object.fromEntries(inexact),
				executionsFinished: handled,
				executionsPerSecond,
				lastExecutionEndedAfterLastEventSeconds: (lastAt - (startedAt + sentFor * 1000)) / 1000,
				refusedRequests: refused.length,
				retriedDeliveries: retried,
				executionsWithoutResult: lost,
				n8nRssIdleBytes: idleRss,
				n8nRssPeakBytes: peakRss,
			};
			return {
				table: {
					columns: ['Measure', 'Value'],
					rows: [
						[
							'Events sent (open + resolve)',
							`${EVENTS} over ${sentFor.toFixed(1)} s, ${SCOPES} scopes × ` +
								`${INCIDENTS_PER_SCOPE} incidents`,
						],
						['Activations', `${totals.activations} (${exactness})`],
						['Withdrawals', `${totals.withdrawals} (${exactness})`],
						['Executions finished', `${handled} of ${EVENTS}`],
						['Executions per second sustained', executionsPerSecond.toFixed(1)],
						[
							'Last execution ended after the last event',
							`${figures.lastExecutionEndedAfterLastEventSeconds.toFixed(1)} s`,
						],
						['Deliveries retried after a refusal (as detectors do)', String(retried)],
						[
							'Errors (given up after retries, executions without a result)',
							`${refused.length}, ${lost}`,
						],
						['n8n memory (RSS, process tree): idle, peak', `${mib(idleRss)}, ${mib(peakRss)}`],
					],
				},
				figures,
				failures: [
					...inexact.map(
						([scope, { activations, withdrawals }]) =>
							`${scope}: ${activations} activation(s) and ${withdrawals} ` +
							'withdrawal(s), expected exactly 1 each',
					),
					...(handled < EVENTS
						? [
								`only ${handled} of ${EVENTS} executions reached a gate ` +
									`output (none for ${STALL_TIMEOUT_MS / 1000} s after the ` +
									'last)',
							]
						: []),
				],
				notes: [
					'Executions per second: executions finished (each reports ' +
						'its gate output to the counter) over the time from the ' +
						'first event sent to the last report.',
					'Refusals (answers other than 200) are retried with backoff ' +
						`for up to ${RETRY_FOR_MS / 1000} s, as Alertmanager and ` +
						`PagerDuty retry; given up${givenUp}.`,
				],
			};
		} finally {
			clearInterval(sampler);
		}
	} finally {
		if (n8n) await stopN8n(n8n);
		await counter.stop();
	}
}

export const storm: Section = { id: 'storm', title: 'Storm in a real n8n', run };
