import type { IDataObject } from 'n8n-workflow';
import { z } from 'zod';

import {
	type IncidentAction,
	type IncidentEvent,
	scalarText,
	valueAtPath,
} from '../IncidentWebhook/event';
import {
	WebhookRejection,
	anySignatureMatches,
	hmacSha256Hex,
} from '../IncidentWebhook/webhookRequest';

/**
 * What arrives from a PagerDuty v3 webhook: signature check and translation into the normalized
 * incident event.
 */

/**
 * Accepts `X-PagerDuty-Signature: v1=<hex>[,v1=<hex>...]` when any v1 value is HMAC-SHA256(secret,
 * raw body). PagerDuty sends one value per active secret while a secret is being rotated.
 */
export function verifyPagerDutySignature(
	header: string | undefined,
	rawBody: Buffer,
	secret: string,
): void {
	if (!header) throw new WebhookRejection(401, 'Missing X-PagerDuty-Signature header');
	const provided = header
		.split(',')
		.map((part) => part.trim())
		.filter((part) => part.startsWith('v1='))
		.map((part) => part.slice('v1='.length));
	if (provided.length === 0)
		throw new WebhookRejection(401, 'X-PagerDuty-Signature carries no v1 signature');
	if (!anySignatureMatches([hmacSha256Hex(secret, rawBody)], provided)) {
		throw new WebhookRejection(
			401,
			"X-PagerDuty-Signature does not match this subscription's signing secret",
		);
	}
}

/** The event's id and time, both inside the signed body; undefined where missing or malformed. */
export function signedEventFacts(body: unknown): { eventId?: string; occurredAtMs?: number } {
	const event = (body as { event?: { id?: unknown; occurred_at?: unknown } } | null)?.event;
	const eventId = typeof event?.id === 'string' && event.id !== '' ? event.id : undefined;
	const occurredAtMs =
		typeof event?.occurred_at === 'string' ? Date.parse(event.occurred_at) : Number.NaN;
	return { eventId, occurredAtMs: Number.isNaN(occurredAtMs) ? undefined : occurredAtMs };
}

export type OtherEvents = 'update' | 'ignore';
export type ScopeSource = 'serviceId' | 'incidentKey' | 'field' | 'none';

export interface PagerDutyNormalizeOptions {
	otherEvents: OtherEvents;
	scopeFrom: ScopeSource;
	/** Dot path inside `event`, e.g. `data.priority.summary`; used when scopeFrom is `field`. */
	scopeField: string;
}

export type DeliveryOutcome =
	{ kind: 'event'; event: IncidentEvent } | { kind: 'acknowledged'; reason: string };

const ACTIONS: Record<string, IncidentAction> = {
	'incident.triggered': 'open',
	'incident.reopened': 'open',
	'incident.resolved': 'resolve',
};

const reference = z
	.object({ id: z.string(), summary: z.string().optional(), html_url: z.string().optional() })
	.passthrough();

const incidentData = z
	.object({
		id: z.string().min(1),
		type: z.literal('incident'),
		number: z.number().optional(),
		status: z.string().optional(),
		incident_key: z.string().nullable().optional(),
		title: z.string().optional(),
		urgency: z.string().optional(),
		priority: reference.nullable().optional(),
		service: reference.optional(),
		html_url: z.string().optional(),
	})
	.passthrough();

const envelope = z.object({
	event: z
		.object({
			id: z.string().optional(),
			event_type: z.string().min(1),
			resource_type: z.string().optional(),
			occurred_at: z.string().optional(),
			agent: z.unknown().optional(),
			// Incident events about a note, a responder, a task... carry that object, with an `incident`
			// reference.
			data: z.object({ type: z.string().optional(), incident: reference.optional() }).passthrough(),
		})
		.passthrough(),
});

export function normalizePagerDutyDelivery(
	body: unknown,
	options: PagerDutyNormalizeOptions,
): DeliveryOutcome {
	const parsed = envelope.safeParse(body);
	if (!parsed.success) {
		const issue = parsed.error.issues[0];
		throw new WebhookRejection(
			400,
			`Not a PagerDuty v3 webhook event: ${issue.path.join('.') || 'body'}: ${issue.message}`,
		);
	}
	const event = parsed.data.event;
	if (event.event_type === 'pagey.ping') return { kind: 'acknowledged', reason: 'ping' };

	const incident = incidentData.safeParse(event.data);
	const incidentId = incident.success ? incident.data.id : event.data.incident?.id;
	if (!incidentId)
		return { kind: 'acknowledged', reason: `${event.event_type} is not about an incident` };

	const action = ACTIONS[event.event_type] ?? 'update';
	if (action === 'update' && options.otherEvents === 'ignore') {
		return {
			kind: 'acknowledged',
			reason: `${event.event_type} ignored (Other Incident Events: Ignore)`,
		};
	}

	const details = incident.success ? incident.data : undefined;
	const normalized: IncidentEvent = {
		action,
		incidentId,
		source: 'pagerduty',
		eventType: event.event_type,
		eventId: event.id,
		occurredAt: event.occurred_at,
		incidentNumber: details?.number,
		status: details?.status,
		urgency: details?.urgency,
		priority: (details?.priority as IDataObject | null | undefined) ?? null,
		service: details?.service as IDataObject | undefined,
		htmlUrl: details?.html_url ?? event.data.incident?.html_url,
		incidentKey: details?.incident_key ?? undefined,
		event: event as IDataObject,
	};
	const title = details?.title ?? event.data.incident?.summary;
	if (title) normalized.title = title;
	const scope = scopeOf(options, event, details);
	if (scope !== undefined) normalized.scope = scope;
	return { kind: 'event', event: normalized };
}

function scopeOf(
	options: PagerDutyNormalizeOptions,
	event: z.infer<typeof envelope>['event'],
	incident: z.infer<typeof incidentData> | undefined,
): string | undefined {
	switch (options.scopeFrom) {
		case 'serviceId':
			return scalarText(incident?.service?.id ?? valueAtPath(event.data, 'service.id'));
		case 'incidentKey':
			return scalarText(incident?.incident_key);
		case 'field':
			return scalarText(valueAtPath(event, options.scopeField));
		case 'none':
			return undefined;
	}
}
