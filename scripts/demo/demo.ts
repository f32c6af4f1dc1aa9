import { join } from 'node:path';

import type { N8nInstance } from '../n8nHarness';
import { detectorsOf, fireIncident, type IncidentAction } from './detectors';
import { startDemoSimulators } from './simulators';
import { startStatusPage, type DemoState, type RequestSeen } from './statusPage';
import { startThreeLayers } from './threeLayers';
import { demoWorkflows, type DemoTimings } from './workflows';

/**
 * `npm start -- --demo`: the examples imported into the local n8n, wired to the provider
 * simulators, with detectors a newcomer fires from the command line and a status page (plus a
 * terminal line per write) to watch mitigation go on and off. Only credentials and target ids
 * differ from what a user imports from examples/.
 */

const EXAMPLES = join(__dirname, '..', '..', 'examples');
export const DEFAULT_STATUS_PORT = 5680;
const POLL_MS = 200;

export interface DemoOptions {
	statusPort: number;
	timings: DemoTimings;
	/** Where the demo's running commentary goes (one line per call). */
	log(line: string): void;
}

const now = () => new Date().toISOString();
const clock = () => now().slice(11, 19);

/**
 * Starts the simulators, imports the wired examples into the (not yet started) n8n, and serves the
 * status page.
 */
export async function prepareDemo(n8n: N8nInstance, options: DemoOptions) {
	const { simulators, pagerDuty } = await startDemoSimulators();
	const threeLayers = await startThreeLayers();
	if ('simulators' in threeLayers) simulators.push(...threeLayers.simulators);
	const { examples, credentials, skipped } = demoWorkflows(EXAMPLES, simulators, options.timings);
	const threeLayersUnavailable = 'unavailable' in threeLayers ? threeLayers.unavailable : undefined;
	n8n.importCredentials(credentials);
	const workflows = examples.map((e) => e.workflow);
	n8n.importWorkflows(workflows);

	const requests: RequestSeen[] = [];
	const incidents: DemoState['incidents'] = [];
	const openIncidents = new Set<string>();
	const watched = simulators.map((s) => ({
		...s,
		seen: 0,
		last: s.state(),
		changes: [] as DemoState['simulators'][number]['changes'],
	}));
	const width = Math.max(...simulators.map((s) => s.name.length));

	// The simulators keep a request log, not events: polling it often enough reads as live.
	const poll = setInterval(() => {
		for (const simulator of watched) {
			const fresh = simulator.sim.log.slice(simulator.seen);
			if (fresh.length === 0) continue;
			simulator.seen += fresh.length;
			for (const request of fresh) {
				requests.unshift({ at: now(), simulator: simulator.name, ...request });
				if (request.method !== 'GET' && request.method !== 'HEAD') {
					options.log(
						`${clock()} ${simulator.name.padEnd(width)} ` +
							`${request.method} ${request.path} -> ${request.status}`,
					);
				}
			}
			requests.splice(200);
			const current = simulator.state();
			for (const line of current.resources.filter((r) => !simulator.last.resources.includes(r)))
				options.log(`${clock()} ${simulator.name.padEnd(width)} now: ${line}`);
			if (current.mitigating !== simulator.last.mitigating) {
				simulator.changes.push({ at: now(), mitigating: current.mitigating });
				options.log(
					`${clock()} >>> ${simulator.name} mitigation ${current.mitigating ? 'ON' : 'OFF'}`,
				);
			}
			simulator.last = current;
		}
	}, POLL_MS);
	poll.unref();

	const fire = async (action: IncidentAction, id: string) => {
		const at = now();
		options.log(`${clock()} incident ${id} ${action}: the detectors report it to n8n`);
		const deliveries = await fireIncident(action, id, { n8nUrl: n8n.url, examples, pagerDuty });
		incidents.push({ at, action, id, deliveries });
		options.log(
			`${clock()} incident ${id} ${action}: ` +
				`${deliveries.map((d) => `${d.detector} -> n8n ${d.status}`).join('; ')}`,
		);
		if (action === 'open') openIncidents.add(id);
		else openIncidents.delete(id);
		if (action === 'resolve' && openIncidents.size === 0) {
			options.log(
				`${clock()} last incident resolved: mitigation with a ` +
					'hold-down comes off in about ' +
					`${options.timings.withdrawDelaySeconds} s (Tick every ` +
					`${options.timings.tickSeconds} s)`,
			);
		}
		return deliveries;
	};

	const state = (): DemoState => ({
		n8n: n8n.url,
		holdDown: options.timings,
		simulators: watched.map((s) => ({
			name: s.name,
			baseUrl: s.sim.baseUrl,
			credential: s.credential.name,
			...s.last,
			writes: s.sim.writes().length,
			changes: s.changes,
		})),
		incidents,
		requests,
	});
	const statusPage = await startStatusPage(options.statusPort, { state, fire });
	const statusUrl = `http://127.0.0.1:${options.statusPort}/`;

	return {
		statusUrl,
		/** n8n reports ready before the PagerDuty trigger has created its webhook subscription. */
		async waitUntilLive(timeoutMs = 60_000) {
			const pagerDutyTriggers = workflows
				.flatMap((w) => w.nodes)
				.filter((n) => n.type.endsWith('.pagerDutyIncidentTrigger')).length;
			const deadline = Date.now() + timeoutMs;
			while (pagerDuty.subscriptions.size < pagerDutyTriggers) {
				if (Date.now() > deadline)
					throw new Error(
						'the PagerDuty trigger did not subscribe in ' +
							`${timeoutMs / 1000} s; n8n log: ${n8n.logFile}`,
					);
				await new Promise((resolve) => setTimeout(resolve, 250));
			}
		},
		instructions(): string[] {
			const port =
				options.statusPort === DEFAULT_STATUS_PORT ? '' : ` --port ${options.statusPort}`;
			const command = (args: string) => `  node scripts/demo-incident.js ${args}${port}`;
			const { withdrawDelaySeconds, tickSeconds } = options.timings;
			return [
				'Demo: the examples are imported, published and wired to ' +
					'local provider simulators (no cloud account needed):',
				...examples.map((e) => `  ${e.file.padEnd(40)} "${e.workflow.name}"`),
				...skipped.map((s) => `  not imported: ${s}`),
				...(threeLayersUnavailable ? [`  (example 04: ${threeLayersUnavailable})`] : []),
				`  Status page: ${statusUrl}  (each simulator's state and ` +
					'the requests it receives; refreshes itself)',
				...simulators.map((s) => `  ${`${s.name}:`.padEnd(width + 2)} ${s.sim.baseUrl}`),
				`  Hold-downs here are ${withdrawDelaySeconds} s with a Tick ` +
					`every ${tickSeconds} s; the example files use minutes.`,
				'',
				`Fire a test incident (${detectorsOf(workflows).join(', ')} ` +
					'report it) and watch mitigation go on:',
				command('open wave-1'),
				'A second wave: mitigation stays on, no new provider calls:',
				command('open wave-2'),
				'Resolve both: mitigation stays on until the last resolve, ' +
					`then comes off (after the ${withdrawDelaySeconds} s ` +
					'hold-down where the example has one):',
				command('resolve wave-1'),
				command('resolve wave-2'),
				'',
				'Go live: in n8n > Credentials, put your real keys into each ' +
					'"(demo simulator)" credential and set its Base URL',
				"back to the provider's default; the workflows keep using " +
					'them unchanged. Then pick your own prefix, firewall or',
				"server in each provider node (the demo points them at the simulators' sample resources).",
			];
		},
		async stop() {
			clearInterval(poll);
			statusPage.closeAllConnections();
			await new Promise((resolve) => statusPage.close(resolve));
			for (const simulator of simulators) await simulator.sim.stop();
		},
	};
}
