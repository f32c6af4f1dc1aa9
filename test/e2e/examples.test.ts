import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

import { type N8nInstance, ensureN8n } from '../../scripts/n8nHarness';
import { incidentEvent, type PagerDutySimulator } from '../simulators/pagerDuty';
import type { CloudflareSimulator } from '../simulators/cloudflare';
import type { DigitalOceanSimulator } from '../simulators/digitalOcean';
import {
	ACCOUNT,
	PREFIX,
	TOKEN as CLOUDFLARE_TOKEN,
	startCloudflare,
} from '../unit/cloudflare/fixture';
import { TOKEN as DIGITALOCEAN_TOKEN, startDigitalOcean } from '../unit/digitalOcean/fixture';
import { KEY as VULTR_KEY, startVultr } from '../unit/vultr/fixture';
import { TOKEN as LINODE_TOKEN, startLinode } from '../unit/linode/fixture';
import { SERVICE, TOKEN as PAGERDUTY_TOKEN, startPagerDuty } from '../unit/pagerDuty/fixture';
import { SINGLE as OVH_SINGLE_IP_BLOCK, ovhCredentials, startOvh } from '../unit/ovh/fixture';
import {
	SERVER as HETZNER_SERVER,
	SERVER_IP as HETZNER_SERVER_IP,
	hetznerCredentials,
	startHetzner,
} from '../unit/hetzner/fixture';
import type { OvhSimulator } from '../simulators/ovh';
import type { HetznerSimulator } from '../simulators/hetzner';
import { OWNER, startN8nWith, stopN8n, waitUntil as until } from './harness';
import { locator } from './workflows';

/**
 * Every workflow in examples/ imported into a real n8n as a user would import it, wired to the
 * simulators, and run through a multi-wave attack. Only what a user must adapt anyway (their own
 * target ids) and the hold-down timings (minutes in the examples, seconds here) are changed.
 */

const EXAMPLES = join(__dirname, '../../examples');
/**
 * n8n stores execution data in the flatted format; its own copy of the library reads it (not a
 * dependency of ours).
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const flatted = require(join(ensureN8n().modules, 'flatted')) as { parse(text: string): unknown };
const DETECTOR_SECRET = 'example-detector-secret-0123456789';
const WORKFLOW_01 = 'example01pdmt0001';

type ExampleNode = {
	name: string;
	type: string;
	parameters: Record<string, unknown>;
	webhookId?: string;
};
type Example = { id?: string; name: string; nodes: ExampleNode[]; connections: unknown };

function loadExample(file: string, id: string): Example {
	return { ...(JSON.parse(readFileSync(join(EXAMPLES, file), 'utf8')) as Example), id };
}

/** Points every node of a type at the user's own target, as picking it in the editor does. */
function retarget(example: Example, type: string, targets: Record<string, string>) {
	for (const node of example.nodes.filter((n) => n.type.endsWith(`.${type}`))) {
		for (const [parameter, value] of Object.entries(targets))
			node.parameters[parameter] = locator(value);
	}
}

/**
 * Hold-downs and the gate's Re-Emit Interval of seconds instead of minutes, and schedules every
 * second or two, so a test can watch them act (and would see an unconfirmed change emitted again).
 */
function shortenTimings(example: Example, withdrawDelaySeconds: number) {
	const scheduleSeconds: Record<string, number> = { 'Every Minute': 1, 'Every 5 Minutes': 2 };
	for (const node of example.nodes) {
		if (node.type.endsWith('.incidentGate'))
			node.parameters.options = {
				...(node.parameters.options as object),
				withdrawDelaySeconds,
				reemitIntervalSeconds: 1,
			};
		if (node.type === 'n8n-nodes-base.scheduleTrigger' && scheduleSeconds[node.name]) {
			node.parameters.rule = {
				interval: [{ field: 'seconds', secondsInterval: scheduleSeconds[node.name] }],
			};
		}
	}
}

/** Waits for something n8n does; a timeout shows n8n's log. */
const waitUntil = (what: string, condition: () => boolean | Promise<boolean>, timeoutMs?: number) =>
	until(what, condition, timeoutMs, () => `n8n log:\n${n8n.logTail(40)}`);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

type RunData = Record<string, Array<{ data: { main: Array<unknown[] | null> } }>>;

/** The finished executions of a workflow not in `seen` (added to it), with their run data. */
async function newExecutions(workflowId: string, seen: Set<string>) {
	api ??= await n8n.login();
	const filter = encodeURIComponent(JSON.stringify({ workflowId }));
	const list = (await (await api(`/rest/executions?filter=${filter}&limit=100`)).json()) as {
		data: { results: Array<{ id: string; status: string }> };
	};
	const runs: RunData[] = [];
	for (const { id, status } of list.data.results) {
		if (seen.has(id) || ['new', 'running', 'waiting'].includes(status)) continue;
		seen.add(id);
		const body = (await (await api(`/rest/executions/${id}`)).json()) as { data: { data: string } };
		const run = flatted.parse(body.data.data) as { resultData: { runData: RunData } };
		runs.push(run.resultData.runData);
	}
	return runs;
}

let n8n: N8nInstance;
let api: Awaited<ReturnType<N8nInstance['login']>> | undefined;
let cloudflare: CloudflareSimulator;
let pagerDuty: PagerDutySimulator;
let digitalOcean: DigitalOceanSimulator;
let digitalOceanFirewallId: string;
let ovh: OvhSimulator;
let hetzner: HetznerSimulator;
const stops: Array<() => Promise<void>> = [];

beforeAll(async () => {
	cloudflare = await startCloudflare();
	pagerDuty = await startPagerDuty();
	const doSetup = await startDigitalOcean();
	digitalOcean = doSetup.sim;
	digitalOceanFirewallId = doSetup.web.id;
	const vultr = await startVultr();
	const linode = await startLinode();
	ovh = await startOvh();
	// Example 02's OVH address has the user's own Edge Network Firewall rules, disabled until
	// attacked.
	ovh.addFirewall(OVH_SINGLE_IP_BLOCK, OVH_SINGLE_IP_BLOCK.split('/')[0], false, [
		{ sequence: 0, action: 'permit', protocol: 'tcp', tcpOption: 'established' },
		{ sequence: 1, action: 'permit', protocol: 'tcp', destinationPort: 'eq 443' },
		{ sequence: 19, action: 'deny', protocol: 'ipv4' },
	]);
	hetzner = await startHetzner();
	stops.push(
		() => cloudflare.stop(),
		() => pagerDuty.stop(),
		() => digitalOcean.stop(),
		() => vultr.sim.stop(),
		() => linode.sim.stop(),
		() => ovh.stop(),
		() => hetzner.stop(),
	);

	const pagerDutyExample = loadExample('01-pagerduty-magic-transit.json', WORKFLOW_01);
	retarget(pagerDutyExample, 'cloudflareMagicTransit', { accountId: ACCOUNT, prefixId: PREFIX });
	retarget(pagerDutyExample, 'pagerDutyIncidentTrigger', { serviceId: SERVICE });
	shortenTimings(pagerDutyExample, 3);

	const fastNetMonExample = loadExample(
		'03-fastnetmon-firewall-lockdown.json',
		'example03fnmfw001',
	);
	retarget(fastNetMonExample, 'digitalOceanFirewall', { firewallId: digitalOceanFirewallId });
	retarget(fastNetMonExample, 'vultrFirewall', { firewallGroupId: vultr.web.id });
	retarget(fastNetMonExample, 'linodeFirewall', { firewallId: String(linode.web.id) });
	shortenTimings(fastNetMonExample, 2);

	const alertmanagerExample = loadExample('02-alertmanager-ovh-hetzner.json', 'example02amovh01');
	shortenTimings(alertmanagerExample, 0);

	n8n = await startN8nWith({ owner: OWNER }, (instance) => {
		instance.importCredentials([
			{
				id: 'exampleCloudflare',
				name: 'Cloudflare',
				type: 'cloudflareMitigationApi',
				data: { apiToken: CLOUDFLARE_TOKEN, baseUrl: cloudflare.baseUrl, accountId: '' },
			},
			{
				id: 'examplePagerDuty',
				name: 'PagerDuty',
				type: 'pagerDutyMitigationApi',
				data: { apiToken: PAGERDUTY_TOKEN, baseUrl: pagerDuty.baseUrl },
			},
			{
				id: 'exampleDetectorSecret',
				name: 'Detector secret',
				type: 'incidentWebhookSecretApi',
				data: { secret: DETECTOR_SECRET },
			},
			{
				id: 'exampledigitalOceanMitigationApi',
				name: 'digitalOcean',
				type: 'digitalOceanMitigationApi',
				data: { accessToken: DIGITALOCEAN_TOKEN, baseUrl: digitalOcean.baseUrl },
			},
			{
				id: 'examplevultrMitigationApi',
				name: 'vultr',
				type: 'vultrMitigationApi',
				data: { apiKey: VULTR_KEY, baseUrl: vultr.sim.baseUrl },
			},
			{
				id: 'exampleAlertmanager',
				name: 'Alertmanager secret',
				type: 'incidentWebhookSecretApi',
				data: { secret: DETECTOR_SECRET },
			},
			{ id: 'exampleOvh', name: 'OVH', type: 'ovhMitigationApi', data: ovhCredentials(ovh) },
			{
				id: 'exampleHetzner',
				name: 'Hetzner Robot',
				type: 'hetznerRobotMitigationApi',
				data: hetznerCredentials(hetzner),
			},
			{
				id: 'examplelinodeMitigationApi',
				name: 'linode',
				type: 'linodeMitigationApi',
				data: { accessToken: LINODE_TOKEN, baseUrl: linode.sim.baseUrl },
			},
		]);
		instance.importWorkflows([pagerDutyExample, alertmanagerExample, fastNetMonExample]);
	});
	// Published workflows go live shortly after n8n reports ready.
	await waitUntil('the PagerDuty subscription exists', () => pagerDuty.subscriptions.size === 1);
});

afterAll(async () => {
	await stopN8n(n8n);
	for (const stop of stops) await stop();
});

describe('examples/ in a real n8n', () => {
	it('ships only workflows this suite imports', () => {
		expect(
			readdirSync(EXAMPLES)
				.filter((f) => f.endsWith('.json'))
				.sort(),
		).toEqual([
			'01-pagerduty-magic-transit.json',
			'02-alertmanager-ovh-hetzner.json',
			'03-fastnetmon-firewall-lockdown.json',
			'04-three-layers.json', // run by bgp.test.ts, next to the gobgpd and BIRD it needs
		]);
	});

	it(
		'01: PagerDuty incidents advertise the prefix once, keep it through a second wave and a ' +
			'drift, withdraw after the hold-down',
		async () => {
			const prefix = () => cloudflare.accounts.get(ACCOUNT)!.prefixes.get(PREFIX)!;
			const subscriptionId = [...pagerDuty.subscriptions.keys()][0];
			const deliver = async (type: string, incidentId: string) =>
				expect(
					(
						await pagerDuty.deliver(
							subscriptionId,
							incidentEvent(type, { id: incidentId, serviceId: SERVICE }),
						)
					).status,
				).toBe(200);

			// PagerDuty retries a delivery the trigger refused: the first one may arrive while n8n is still
			// finishing the activation that created the subscription.
			const firstOpen = incidentEvent('incident.triggered', { id: 'QWAVE1', serviceId: SERVICE });
			await waitUntil(
				'the trigger accepts the first delivery',
				async () => (await pagerDuty.deliver(subscriptionId, firstOpen)).status === 200,
			);
			await waitUntil('the prefix is advertised', () => prefix().advertised);
			const advertisements = () => cloudflare.writes().filter((w) => w.method === 'PATCH').length;
			expect(advertisements()).toBe(1);

			// Confirm recorded the Activate: the next Ticks (every second, Re-Emit Interval 1 s) have
			// nothing to emit again.
			const seen = new Set<string>();
			await waitUntil('Confirm records the Activate', async () =>
				(await newExecutions(WORKFLOW_01, seen)).some((run) => run.Confirm),
			);
			await sleep(3_500);
			const ticks = (await newExecutions(WORKFLOW_01, seen)).filter(
				(run) => run['Incident Gate Tick'],
			);
			expect(ticks.length).toBeGreaterThanOrEqual(2);
			for (const tick of ticks) {
				const [activate, withdraw] = tick['Incident Gate Tick'][0].data.main;
				expect([activate?.length ?? 0, withdraw?.length ?? 0]).toEqual([0, 0]);
				expect(tick['Advertise Prefix (Tick)']).toBeUndefined();
			}

			// Someone withdraws the prefix by hand during the attack: reconciliation advertises it again.
			prefix().advertised = false;
			await waitUntil(
				'reconciliation advertises the prefix again',
				() => prefix().advertised,
				30_000,
			);
			expect(advertisements()).toBe(2);

			await deliver('incident.triggered', 'QWAVE2');
			await deliver('incident.resolved', 'QWAVE1');
			// Longer than the hold-down: one incident is still open, so nothing may change.
			await sleep(4_000);
			expect(prefix().advertised).toBe(true);
			expect(advertisements()).toBe(2);

			await deliver('incident.resolved', 'QWAVE2');
			await sleep(1_500);
			expect(prefix().advertised).toBe(true); // hold-down running
			await waitUntil('the Tick withdraws the prefix', () => !prefix().advertised, 30_000);
			expect(advertisements()).toBe(3);
			await sleep(3_000); // reconciliation runs again and must leave a withdrawn prefix alone
			expect(prefix().advertised).toBe(false);
		},
	);

	it('01: the scheduled PagerDuty Subscription Check re-enables a suspended subscription', async () => {
		const subscription = [...pagerDuty.subscriptions.values()][0];
		subscription.delivery_method.temporarily_disabled = true;
		await waitUntil(
			'the Subscription Check re-enables the subscription',
			() => !subscription.delivery_method.temporarily_disabled,
			30_000,
		);
		expect(
			pagerDuty.log.filter((r) => r.path === `/webhook_subscriptions/${subscription.id}/enable`),
		).toHaveLength(1);
	});

	it('02: alerts enable the OVH Edge Network Firewall and the Hetzner firewall, resolves undo it', async () => {
		const [ovhAddress] = OVH_SINGLE_IP_BLOCK.split('/');
		const alert = (
			status: 'firing' | 'resolved',
			fingerprint: string,
			target: string,
			hoster: string,
		) => ({
			status,
			labels: { alertname: 'InboundFlood', severity: 'critical', target, hoster },
			annotations: { summary: `Inbound flood on ${target}` },
			startsAt: '2026-11-24T09:41:03.123Z',
			endsAt: status === 'firing' ? '0001-01-01T00:00:00Z' : '2026-11-24T09:58:03.123Z',
			generatorURL: 'http://prometheus.example.net:9090/graph',
			fingerprint,
		});
		const notify = (status: 'firing' | 'resolved', alerts: object[]) =>
			fetch(`${n8n.url}/webhook/5b0c6a4e-1d0e-4d52-9a51-0d1f6b1e0a02/incident`, {
				method: 'POST',
				headers: { 'content-type': 'application/json', authorization: `Bearer ${DETECTOR_SECRET}` },
				body: JSON.stringify({
					version: '4',
					groupKey: '{}:{alertname="InboundFlood"}',
					truncatedAlerts: 0,
					status,
					receiver: 'n8n-ddos',
					groupLabels: {},
					commonLabels: {},
					commonAnnotations: {},
					externalURL: 'http://alertmanager.example.net:9093',
					alerts,
				}),
			});
		const ovhFiltering = () => ovh.edgeFiltering(OVH_SINGLE_IP_BLOCK, ovhAddress);
		const ovhBefore = ovh.firewallSnapshot(OVH_SINGLE_IP_BLOCK, ovhAddress);
		const hetznerStatus = () => hetzner.servers.get(HETZNER_SERVER)!.firewall!.status;
		const rulesBefore = structuredClone(hetzner.servers.get(HETZNER_SERVER)!.firewall!.rules);
		const statusBefore = hetznerStatus();

		const firing = [
			alert('firing', 'a1', ovhAddress, 'ovh'),
			alert('firing', 'b1', HETZNER_SERVER_IP, 'hetzner'),
		];
		await waitUntil(
			'the Alertmanager webhook listens',
			async () => (await notify('firing', firing)).status === 200,
		);
		await waitUntil(
			"OVH's Edge Network Firewall and the Hetzner firewall are on",
			() => ovhFiltering() && hetznerStatus() === 'active',
		);

		expect(
			(
				await notify('resolved', [
					alert('resolved', 'a1', ovhAddress, 'ovh'),
					alert('resolved', 'b1', HETZNER_SERVER_IP, 'hetzner'),
				])
			).status,
		).toBe(200);
		await waitUntil('both are undone', () => !ovhFiltering() && hetznerStatus() === statusBefore);
		expect(ovh.firewallSnapshot(OVH_SINGLE_IP_BLOCK, ovhAddress)).toEqual(ovhBefore);
		expect(ovh.retiredMitigationPosts).toBe(0);
		expect(hetzner.servers.get(HETZNER_SERVER)!.firewall!.rules).toEqual(rulesBefore);
	});

	it(
		"03: a FastNetMon ban locks the attacked server's firewall down (the Tick repeats a failed " +
			'attempt), the unban restores it exactly',
		async () => {
			const original = structuredClone(digitalOcean.firewalls.get(digitalOceanFirewallId));
			const fastNetMon = (file: string) =>
				fetch(`${n8n.url}/webhook/5b0c6a4e-1d0e-4d52-9a51-0d1f6b1e0a03/incident`, {
					method: 'POST',
					headers: {
						'content-type': 'application/json',
						authorization: `Bearer ${DETECTOR_SECRET}`,
					},
					body: readFileSync(join(__dirname, '../fixtures', file), 'utf8'),
				});
			const lockdownFirewall = () =>
				[...digitalOcean.firewalls.values()].find((f) => f.name.startsWith('ddos-lockdown-'));

			// DigitalOcean refuses the first attempt to create the lockdown firewall: the lockdown node
			// continues on fail, Confirm marks the Activate due again, and the next Tick repeats it.
			digitalOcean.inject({
				method: 'POST',
				path: /\/firewalls$/,
				response: { status: 422, body: { id: 'unprocessable_entity', message: 'try again' } },
			});
			await waitUntil(
				'the FastNetMon webhook listens',
				async () => (await fastNetMon('fastnetmon-ban.json')).status === 200,
			);
			// Lockdown attaches the lockdown firewall first, then detaches the original: wait for both
			// steps.
			await waitUntil(
				'the DigitalOcean firewall is locked down',
				() =>
					lockdownFirewall() !== undefined &&
					digitalOcean.firewalls.get(digitalOceanFirewallId)!.droplet_ids.length === 0,
			);
			expect(lockdownFirewall()!.droplet_ids).toEqual(original!.droplet_ids);
			const creates = digitalOcean.log.filter(
				(r) => r.method === 'POST' && r.path.endsWith('/firewalls'),
			);
			expect(creates.map((r) => r.status < 400)).toEqual([false, true]);

			// Confirm recorded the lockdown: the Ticks that follow (every second, Re-Emit Interval 1 s)
			// do not emit it again, so DigitalOcean sees no further request.
			await sleep(1_500);
			const requestsAfterLockdown = digitalOcean.log.length;
			await sleep(3_000);
			expect(digitalOcean.log.slice(requestsAfterLockdown)).toEqual([]);

			expect((await fastNetMon('fastnetmon-unban.json')).status).toBe(200);
			await waitUntil('the lockdown is withdrawn', () => lockdownFirewall() === undefined, 30_000);
			const restored = digitalOcean.firewalls.get(digitalOceanFirewallId)!;
			expect({ ...restored, pending_changes: undefined, status: undefined }).toEqual({
				...original,
				pending_changes: undefined,
				status: undefined,
			});
		},
	);
});
