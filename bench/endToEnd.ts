import { performance } from 'node:perf_hooks';

import type { N8nInstance } from '../scripts/n8nHarness';
import { cloudflareCredentialData, cloudflareCredentials } from '../test/e2e/cloudflareWorkflow';
import { PACKAGE, workflow } from '../test/e2e/workflows';
import { hex32, type CloudflareSimulator } from '../test/simulators/cloudflare';
import { rl } from '../test/helpers/fixture';
import { ACCOUNT, TOKEN, startCloudflare } from '../test/unit/cloudflare/fixture';
import {
	SENDER_SECRET,
	importSenderSecret,
	incidentTrigger,
	newWebhookId,
	onReceiptWebhook,
	percentile,
	sendEvent,
	sleep,
	startN8nWithPackage,
	stopN8n,
	triggerUrl,
	waitForWebhooks,
} from './realN8n';
import type { Section, SectionResult } from './section';

/**
 * Time to mitigate in a real n8n: from the incident webhook POST to the moment the Cloudflare
 * simulator receives the Magic Transit advertisement (the PATCH that turns mitigation on), with the
 * provider on loopback (0 ms) and 100 ms away (the simulator's round trip: half before a request
 * reaches it, half before its answer is back). Each incident opens in a fresh scope (its own
 * prefix), so every one activates. The baseline is what a user would otherwise build, Webhook ->
 * Code node counting open incidents in static data -> HTTP Request PATCH to the same endpoint,
 * blind; both run in the same n8n, alternating.
 */

const INCIDENTS = 100;
const WARM_UP = 5;
const LATENCIES_MS = [0, 100];
/**
 * Incidents of one contender are further apart than the trigger's Batch Window (250 ms), as lone
 * incidents are: one arriving within the window of the previous execution waits for it.
 */
const PAUSE_MS = 300;
const ACTIVATION_TIMEOUT_MS = 30_000;

type Contender = 'gate' | 'baseline';
const CONTENDERS: Contender[] = ['gate', 'baseline'];

/**
 * A Cloudflare prefix per incident and contender; hex32 keeps the first 16 characters, so the
 * number is padded.
 */
const prefixFor = (contender: Contender, latencyMs: number, n: number) =>
	hex32(`${contender === 'gate' ? 'g' : 'b'}${latencyMs}-${String(n).padStart(6, '0')}`);

const baselineHeaderCredential = { id: 'benchheader00001', name: 'Detector header' };

function gateWorkflow(webhookId: string) {
	return workflow('benchE2eGate0001', 'Incident Webhook -> Gate -> Magic Transit', [
		[
			incidentTrigger(webhookId),
			{
				name: 'Incident Gate',
				type: `${PACKAGE}.incidentGate`,
				parameters: { operation: 'event', scope: '={{ $json.scope }}', gateKey: 'bench-e2e' },
			},
			{
				name: 'Advertise Prefix',
				type: `${PACKAGE}.cloudflareMagicTransit`,
				parameters: {
					operation: 'activate',
					accountId: rl(ACCOUNT),
					prefixId: rl('={{ $json.scope }}'),
					requestOptions: {},
				},
				credentials: cloudflareCredentials,
			},
			// Confirms the activation (scope through paired items, `active` from the node's output), so the
			// gate never re-emits it while the bench runs.
			{
				name: 'Confirm Activate',
				type: `${PACKAGE}.incidentGate`,
				parameters: { operation: 'confirm', gateKey: 'bench-e2e' },
			},
		],
	]);
}

/**
 * Counts open incidents per scope in static data and lets an event through when its scope goes from
 * none to one.
 */
const COUNT_OPEN_INCIDENTS = `const counts = $getWorkflowStaticData('global');
const { action, scope } = $input.first().json.body;
const before = counts[scope] || 0;
counts[scope] = Math.max(0, before + (action === 'open' ? 1 : action === 'resolve' ? -1 : 0));
return before === 0 && counts[scope] === 1 ? [{ json: { scope } }] : [];`;

function baselineWorkflow(sim: CloudflareSimulator) {
	return workflow('benchE2eBase0001', 'Webhook -> Code -> HTTP Request (baseline)', [
		[
			onReceiptWebhook('bench-baseline', baselineHeaderCredential),
			{
				name: 'Count Open Incidents',
				type: 'n8n-nodes-base.code',
				typeVersion: 2,
				parameters: { mode: 'runOnceForAllItems', jsCode: COUNT_OPEN_INCIDENTS },
			},
			{
				name: 'Advertise Prefix',
				type: 'n8n-nodes-base.httpRequest',
				typeVersion: 4.2,
				parameters: {
					method: 'PATCH',
					url:
						`=${sim.baseUrl}/accounts/${ACCOUNT}/addressing/` +
						'prefixes/{{ $json.scope }}/bgp/status',
					sendHeaders: true,
					headerParameters: { parameters: [{ name: 'Authorization', value: `Bearer ${TOKEN}` }] },
					sendBody: true,
					specifyBody: 'json',
					jsonBody: '{ "advertised": true }',
					options: {},
				},
			},
		],
	]);
}

/** Times, by prefix, when the simulator received an advertisement for it. */
function watchAdvertisements(sim: CloudflareSimulator) {
	const waiting = new Map<string, (receivedAt: number) => void>();
	sim.onRequest = (request) => {
		const match = /\/addressing\/prefixes\/([^/]+)\/bgp\/status$/.exec(request.path);
		const advertised = (request.body as { advertised?: unknown } | undefined)?.advertised === true;
		if (request.method === 'PATCH' && match && advertised)
			waiting.get(match[1])?.(performance.now());
	};
	return async (prefix: string): Promise<number> =>
		await new Promise<number>((resolve, reject) => {
			const timer = setTimeout(() => {
				waiting.delete(prefix);
				reject(new Error(`no advertisement of ${prefix} within ${ACTIVATION_TIMEOUT_MS / 1000} s`));
			}, ACTIVATION_TIMEOUT_MS);
			waiting.set(prefix, (receivedAt) => {
				clearTimeout(timer);
				waiting.delete(prefix);
				resolve(receivedAt);
			});
		});
}

interface Latencies {
	p50: number;
	p95: number;
	p99: number;
	mean: number;
}

function summarize(milliseconds: number[]): Latencies {
	const sorted = [...milliseconds].sort((a, b) => a - b);
	return {
		p50: percentile(sorted, 0.5),
		p95: percentile(sorted, 0.95),
		p99: percentile(sorted, 0.99),
		mean: sorted.reduce((sum, value) => sum + value, 0) / sorted.length,
	};
}

/** Each contender's latencies, one incident at a time, the two alternating. */
async function measure(
	urls: Record<Contender, string>,
	sim: CloudflareSimulator,
	latencyMs: number,
	failures: string[],
): Promise<Record<Contender, number[]>> {
	sim.latencyMs = latencyMs;
	const advertisement = watchAdvertisements(sim);
	const latencies: Record<Contender, number[]> = { gate: [], baseline: [] };
	for (let n = 0; n < WARM_UP + INCIDENTS; n++) {
		for (const contender of CONTENDERS) {
			const prefix = prefixFor(contender, latencyMs, n);
			const received = advertisement(prefix);
			const sentAt = performance.now();
			const { status, answer } = await sendEvent(urls[contender], {
				action: 'open',
				incidentId: `INC-${latencyMs}-${n}`,
				scope: prefix,
			});
			try {
				if (status !== 200)
					throw new Error(`the webhook answered ${status} ${answer.slice(0, 300)}`);
				const latency = (await received) - sentAt;
				if (n >= WARM_UP) latencies[contender].push(latency);
			} catch (error) {
				received.catch(() => undefined);
				failures.push(
					`${contender} at ${latencyMs} ms, incident ${n}: ${(error as Error).message}`,
				);
			}
		}
		await sleep(PAUSE_MS);
	}
	return latencies;
}

async function run(): Promise<SectionResult> {
	const sim = await startCloudflare();
	LATENCIES_MS.forEach((latencyMs, l) =>
		CONTENDERS.forEach((contender, c) => {
			for (let n = 0; n < WARM_UP + INCIDENTS; n++)
				sim.addPrefix(ACCOUNT, {
					id: prefixFor(contender, latencyMs, n),
					cidr: `10.${l * CONTENDERS.length + c}.${n}.0/24`,
				});
		}),
	);
	const triggerId = newWebhookId();
	let n8n: N8nInstance | undefined;
	try {
		n8n = await startN8nWithPackage((instance) => {
			importSenderSecret(instance);
			instance.importCredentials([
				{
					...cloudflareCredentials.cloudflareMitigationApi,
					type: 'cloudflareMitigationApi',
					data: cloudflareCredentialData(sim),
				},
				{
					...baselineHeaderCredential,
					type: 'httpHeaderAuth',
					data: { name: 'Authorization', value: `Bearer ${SENDER_SECRET}` },
				},
			]);
			instance.importWorkflows([gateWorkflow(triggerId), baselineWorkflow(sim)]);
		});
		const urls: Record<Contender, string> = {
			gate: triggerUrl(n8n, triggerId),
			baseline: `${n8n.url}/webhook/bench-baseline`,
		};
		await waitForWebhooks(Object.values(urls));

		const failures: string[] = [];
		const ms = (value: number) => `${value.toFixed(1)} ms`;
		const rows: Array<Array<string | number>> = [];
		const figures: Record<string, unknown> = {};
		for (const latencyMs of LATENCIES_MS) {
			const latencies = await measure(urls, sim, latencyMs, failures);
			const gate = summarize(latencies.gate);
			const baseline = summarize(latencies.baseline);
			const row = (name: string, measured: Latencies, count: number) => [
				`${latencyMs} ms`,
				name,
				count,
				ms(measured.p50),
				ms(measured.p95),
				ms(measured.p99),
				ms(measured.mean),
			];
			const ratio = (key: keyof Latencies) => `${(gate[key] / baseline[key]).toFixed(2)}×`;
			rows.push(
				row(
					'Incident Webhook Trigger -> Incident Gate -> Magic Transit',
					gate,
					latencies.gate.length,
				),
				row(
					'Baseline: Webhook -> Code (static data) -> HTTP Request, blind PATCH',
					baseline,
					latencies.baseline.length,
				),
				['', 'Package ÷ baseline', '', ratio('p50'), ratio('p95'), ratio('p99'), ratio('mean')],
			);
			figures[`${latencyMs}ms`] = { gate, baseline };
		}
		return {
			table: {
				columns: ['Provider round trip', 'Workflow', 'Incidents', 'p50', 'p95', 'p99', 'Mean'],
				rows,
			},
			figures: {
				incidents: INCIDENTS,
				warmUp: WARM_UP,
				milliseconds: figures,
				failures: failures.length,
			},
			failures: failures
				.slice(0, 10)
				.concat(failures.length > 10 ? [`... and ${failures.length - 10} more`] : []),
			notes: [
				'Milliseconds from the webhook POST (Bearer secret, normalized event {action: "open", ' +
					'incidentId, scope}) until the Cloudflare simulator received the PATCH advertising ' +
					'the prefix; one incident at a time, each in a fresh scope, package and baseline ' +
					`alternating, ${PAUSE_MS} ms apart, after ${WARM_UP} warm-up incidents each.`,
				'Before its PATCH the Magic Transit node reads the prefix and its advertisement status ' +
					'side by side: one round trip, which is what it needs not to write when the prefix ' +
					'is already advertised and to restore exactly what it found. The baseline writes ' +
					'blindly, so at 100 ms the difference is that one round trip.',
			],
		};
	} finally {
		if (n8n) await stopN8n(n8n);
		await sim.stop();
	}
}

export const endToEnd: Section = {
	id: 'end-to-end',
	title: 'Time to mitigate in a real n8n (provider 0 ms and 100 ms away)',
	run,
};
