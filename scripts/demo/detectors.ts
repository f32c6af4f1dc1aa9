import { createHash, createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { incidentEvent, type PagerDutySimulator } from '../../test/simulators/pagerDuty';
import { SERVICE } from '../../test/unit/pagerDuty/fixture';
import { ATTACKED, DETECTOR_SECRET, FASTNETMON_BANS } from './simulators';
import type { DemoWorkflow, WorkflowNode } from './workflows';

/**
 * The demo's detectors: one incident command makes each trigger in the imported workflows receive
 * what its real sender would send. PagerDuty's simulator delivers a signed v3 webhook; FastNetMon
 * and Alertmanager payloads (from the test fixtures) go to each Incident Webhook Trigger with the
 * authentication it is set to.
 */

export type IncidentAction = 'open' | 'resolve';

export interface Delivery {
	detector: string;
	/** HTTP status n8n answered, or the error that prevented delivery. */
	status: number | string;
}

const FIXTURES = join(__dirname, '..', '..', 'test', 'fixtures');
const fixture = (name: string) =>
	JSON.parse(readFileSync(join(FIXTURES, name), 'utf8')) as Record<string, unknown>;

/** Stable per incident and address, so that a resolve names the incident its open created. */
const digest = (...parts: string[]) => createHash('sha256').update(parts.join('\0')).digest('hex');
const uuidFrom = (hex: string) =>
	`${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-` +
	`8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;

function fastNetMonNotifications(action: IncidentAction, incidentId: string, example: string) {
	const template = fixture(action === 'open' ? 'fastnetmon-ban.json' : 'fastnetmon-unban.json');
	return (FASTNETMON_BANS[example] ?? []).map((ip) => ({
		label: `FastNetMon ${template.action} ${ip}`,
		body: {
			...template,
			ip,
			attack_details: {
				...(template.attack_details as object),
				attack_uuid: uuidFrom(digest(incidentId, ip)),
			},
		},
	}));
}

function alertmanagerNotification(action: IncidentAction, incidentId: string, scopeLabel: string) {
	const envelope = fixture(
		action === 'open' ? 'alertmanager-firing.json' : 'alertmanager-resolved.json',
	);
	const [template] = envelope.alerts as Array<Record<string, unknown>>;
	// Example 02 reads where the address is hosted from the `hoster` label.
	const alerts = Object.entries({ ovh: ATTACKED.ovh, hetzner: ATTACKED.hetzner }).map(
		([hoster, address]) => ({
			...template,
			labels: { alertname: 'InboundFlood', severity: 'critical', [scopeLabel]: address, hoster },
			annotations: { summary: `Inbound flood on ${address} (demo ${incidentId})` },
			fingerprint: digest(incidentId, address).slice(0, 16),
		}),
	);
	return {
		label: `Alertmanager ${envelope.status} ${alerts.map((a) => a.labels[scopeLabel]).join(', ')}`,
		body: {
			...envelope,
			commonLabels: { alertname: 'InboundFlood', severity: 'critical' },
			commonAnnotations: {},
			alerts,
		},
	};
}

function notificationsFor(
	node: WorkflowNode,
	action: IncidentAction,
	incidentId: string,
	example: string,
) {
	const format = String(node.parameters.format ?? 'normalized');
	if (format === 'fastnetmon') return fastNetMonNotifications(action, incidentId, example);
	if (format === 'alertmanager')
		return [
			alertmanagerNotification(
				action,
				incidentId,
				String(node.parameters.scopeLabel ?? 'instance'),
			),
		];
	if (format === 'normalized')
		return [
			{
				label: `incident event ${action} ${incidentId}`,
				body: { action, incidentId, scope: 'demo', title: `Demo incident ${incidentId}` },
			},
		];
	return [];
}

const FORMAT_SENDERS: Record<string, string> = {
	fastnetmon: 'FastNetMon',
	alertmanager: 'Alertmanager',
	normalized: 'a webhook sender',
};

/** Who reports the demo's incidents to these workflows, for the printed instructions. */
export function detectorsOf(workflows: DemoWorkflow[]): string[] {
	const senders = workflows
		.flatMap((w) => w.nodes)
		.map((n) =>
			n.type.endsWith('.pagerDutyIncidentTrigger')
				? 'PagerDuty'
				: n.type.endsWith('.incidentWebhookTrigger')
					? FORMAT_SENDERS[String(n.parameters.format ?? 'normalized')]
					: undefined,
		);
	return [...new Set(senders.filter((sender): sender is string => sender !== undefined))];
}

/**
 * Headers as the sender is configured in the trigger's Authentication parameter (default: HMAC
 * signature).
 */
function authenticationHeaders(node: WorkflowNode, rawBody: string): Record<string, string> {
	const authentication = String(node.parameters.authentication ?? 'hmacSignature');
	if (authentication === 'bearerSecret') return { authorization: `Bearer ${DETECTOR_SECRET}` };
	if (authentication !== 'hmacSignature') return {};
	const signatureHeader = String(node.parameters.signatureHeader ?? 'X-Signature-256');
	if (node.parameters.freshness === 'off') {
		const signature = createHmac('sha256', DETECTOR_SECRET).update(rawBody).digest('hex');
		return { [signatureHeader]: `sha256=${signature}` };
	}
	// The trigger's default Replay Protection: Unix seconds, and a signature of "<timestamp>.<raw
	// body>".
	const timestampHeader = String(node.parameters.timestampHeader || 'X-Signature-Timestamp');
	const timestamp = String(Math.floor(Date.now() / 1000));
	const signature = createHmac('sha256', DETECTOR_SECRET)
		.update(`${timestamp}.${rawBody}`)
		.digest('hex');
	return { [signatureHeader]: `sha256=${signature}`, [timestampHeader]: timestamp };
}

async function post(
	url: string,
	rawBody: string,
	headers: Record<string, string>,
): Promise<number | string> {
	try {
		const response = await fetch(url, {
			method: 'POST',
			headers: { 'content-type': 'application/json', ...headers },
			body: rawBody,
			signal: AbortSignal.timeout(10_000),
		});
		return response.status;
	} catch (error) {
		return String((error as Error).message);
	}
}

/**
 * Every detector reports at once, as they would in an attack; n8n answers each as soon as it has
 * the event.
 */
export async function fireIncident(
	action: IncidentAction,
	incidentId: string,
	context: {
		n8nUrl: string;
		examples: Array<{ file: string; workflow: DemoWorkflow }>;
		pagerDuty: PagerDutySimulator;
	},
): Promise<Delivery[]> {
	const eventType = action === 'open' ? 'incident.triggered' : 'incident.resolved';
	const pagerDutyDeliveries = [...context.pagerDuty.subscriptions.values()].map(
		async (subscription): Promise<Delivery> => {
			const detector = `PagerDuty ${eventType} ${incidentId}`;
			try {
				const { status } = await context.pagerDuty.deliver(
					subscription.id,
					incidentEvent(eventType, { id: incidentId, serviceId: SERVICE }),
				);
				return { detector, status };
			} catch (error) {
				return { detector, status: String((error as Error).message) };
			}
		},
	);
	const webhookTriggers = context.examples.flatMap(({ file, workflow }) =>
		workflow.nodes
			.filter((n) => n.type.endsWith('.incidentWebhookTrigger') && n.webhookId)
			.map((node) => ({ file, node })),
	);
	const webhookDeliveries = webhookTriggers.flatMap(({ file, node }) =>
		notificationsFor(node, action, incidentId, file).map(
			async (notification): Promise<Delivery> => {
				const rawBody = JSON.stringify(notification.body);
				const status = await post(
					`${context.n8nUrl}/webhook/${node.webhookId}/incident`,
					rawBody,
					authenticationHeaders(node, rawBody),
				);
				return { detector: notification.label, status };
			},
		),
	);
	return await Promise.all([...pagerDutyDeliveries, ...webhookDeliveries]);
}
