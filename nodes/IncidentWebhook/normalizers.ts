import type { IDataObject } from 'n8n-workflow';
import { z } from 'zod';

import { ipAddress } from '../shared/validation';
import { type IncidentAction, type IncidentEvent, scalarText, valueAtPath } from './event';
import { WebhookRejection } from './webhookRequest';

/**
 * Turns one parsed request body into normalized incident events, or refuses it with a 400 naming
 * the field.
 */

export type PayloadFormat = 'normalized' | 'alertmanager' | 'fastnetmon' | 'mapping';

export interface NormalizeOptions {
	/**
	 * `source` of every event; empty means the format's name (or the normalized event's own
	 * `source`).
	 */
	source: string;
	/** Alertmanager: the label whose value becomes the scope. */
	scopeLabel: string;
	mapping: FieldMapping;
	/**
	 * `occurredAt` of events whose sender gives no time (ISO 8601): the signed timestamp, else the
	 * receipt time.
	 */
	defaultOccurredAt: string;
}

export interface FieldMapping {
	/**
	 * Dot path to an array of events inside the body; empty: the body is one event or an array of
	 * events.
	 */
	eventsPath: string;
	idPath: string;
	actionPath: string;
	/** Empty: events carry no scope (the gate uses its default). */
	scopePath: string;
	titlePath: string;
	/** Compared case-insensitively; any other value means "update". */
	openValues: string[];
	resolveValues: string[];
}

/**
 * The documented hard cap: more events than this in one request is refused (413) and logged. Real
 * senders stay far below it (an Alertmanager group of 10,000 alerts is about 5 MB); n8n's own body
 * limit, N8N_PAYLOAD_SIZE_MAX (16 MB by default), applies before the trigger runs.
 */
export const MAX_EVENTS_PER_REQUEST = 10_000;

function refuseOverCap(count: number, what: string): void {
	if (count > MAX_EVENTS_PER_REQUEST) {
		throw new WebhookRejection(
			413,
			`The request contains ${count} ${what}, ` +
				`over the hard cap of ${MAX_EVENTS_PER_REQUEST} per request: ` +
				'split it (Alertmanager: lower max_alerts or group_by more labels)',
		);
	}
}

export function normalizePayload(
	format: PayloadFormat,
	body: unknown,
	options: NormalizeOptions,
): IncidentEvent[] {
	switch (format) {
		case 'normalized':
			return normalizedEvents(body, options.source, options.defaultOccurredAt);
		case 'alertmanager':
			return alertmanagerEvents(body, options);
		case 'fastnetmon':
			// FastNetMon's JSON document carries no attack time.
			return [
				{
					...fastNetMonEvent(body, options.source || 'fastnetmon'),
					occurredAt: options.defaultOccurredAt,
				},
			];
		case 'mapping':
			return mappedEvents(body, options.mapping, options.source || 'webhook').map((event) => ({
				...event,
				occurredAt: options.defaultOccurredAt,
			}));
	}
}

/** zod paths as a reader writes them: `alerts[0].fingerprint`. */
function fieldName(path: Array<string | number>): string {
	return path.reduce<string>(
		(name, step) =>
			typeof step === 'number' ? `${name}[${step}]` : name ? `${name}.${step}` : step,
		'',
	);
}

function parseOrRefuse<S extends z.ZodTypeAny>(
	schema: S,
	body: unknown,
	what: string,
): z.output<S> {
	const result = schema.safeParse(body);
	if (result.success) return result.data;
	const problems = result.error.issues.slice(0, 5).map((issue) => {
		const field = fieldName(issue.path);
		return field ? `${field}: ${issue.message}` : issue.message;
	});
	throw new WebhookRejection(400, `Not a valid ${what}: ${problems.join('; ')}`);
}

const idText = z
	.union([z.string().trim().min(1, 'must not be empty'), z.number()], {
		errorMap: (_issue, ctx) => ({
			message: ctx.data === undefined ? 'Required' : 'must be a non-empty string or a number',
		}),
	})
	.transform(String);

const normalizedEvent = z
	.object({
		action: z.enum(['open', 'resolve', 'update'], {
			errorMap: () => ({ message: 'must be "open", "resolve" or "update"' }),
		}),
		incidentId: idText,
		scope: z
			.union([z.string().trim().min(1), z.number()])
			.transform(String)
			.optional(),
		title: z.string().optional(),
		source: z.string().trim().min(1).optional(),
		occurredAt: z.string().trim().min(1).optional(),
	})
	.passthrough();

const normalizedList = z.array(normalizedEvent).min(1, 'expected at least one event');

function normalizedEvents(
	body: unknown,
	source: string,
	defaultOccurredAt: string,
): IncidentEvent[] {
	if (Array.isArray(body)) refuseOverCap(body.length, 'events');
	// Checked separately (not as a union) so that the refusal names the field, not "Invalid input".
	const events = Array.isArray(body)
		? parseOrRefuse(normalizedList, body, 'list of incident events')
		: [parseOrRefuse(normalizedEvent, body, 'incident event')];
	return events.map((event) => ({
		...(event as IDataObject),
		action: event.action,
		incidentId: event.incidentId,
		source: event.source ?? (source || 'webhook'),
		occurredAt: event.occurredAt ?? defaultOccurredAt,
	}));
}

// Prometheus Alertmanager webhook_config payload, version 4
// (prometheus.io/docs/alerting/latest/configuration/#webhook_config).
const alertmanagerAlert = z
	.object({
		status: z.enum(['firing', 'resolved'], {
			errorMap: () => ({ message: 'must be "firing" or "resolved"' }),
		}),
		labels: z.record(z.string()).default({}),
		annotations: z.record(z.string()).default({}),
		startsAt: z.string().optional(),
		endsAt: z.string().optional(),
		generatorURL: z.string().optional(),
		fingerprint: z.string().trim().min(1, 'must not be empty'),
	})
	.passthrough();

const alertmanagerNotification = z
	.object({
		version: z.string().optional(),
		groupKey: z.string().optional(),
		status: z.string().optional(),
		receiver: z.string().optional(),
		externalURL: z.string().optional(),
		alerts: z.array(alertmanagerAlert).min(1, 'expected at least one alert'),
	})
	.passthrough();

/** A time Alertmanager really set: it sends Go's zero time (year 1) for an unset endsAt. */
function alertTime(value: string | undefined): string | undefined {
	if (!value) return undefined;
	const ms = Date.parse(value);
	return Number.isNaN(ms) || ms <= 0 ? undefined : value;
}

function alertmanagerEvents(body: unknown, options: NormalizeOptions): IncidentEvent[] {
	const alerts = (body as { alerts?: unknown } | null)?.alerts;
	if (Array.isArray(alerts)) refuseOverCap(alerts.length, 'alerts');
	const notification = parseOrRefuse(alertmanagerNotification, body, 'Alertmanager notification');
	const scopeLabel = options.scopeLabel;
	return notification.alerts.map((alert) => {
		const firing = alert.status === 'firing';
		const event: IncidentEvent = {
			action: firing ? 'open' : 'resolve',
			incidentId: alert.fingerprint,
			source: options.source || 'alertmanager',
			occurredAt: alertTime(firing ? alert.startsAt : alert.endsAt) ?? options.defaultOccurredAt,
			alertname: alert.labels.alertname,
			labels: alert.labels,
			annotations: alert.annotations,
			startsAt: alert.startsAt,
			endsAt: alert.endsAt,
			generatorURL: alert.generatorURL,
			receiver: notification.receiver,
			groupKey: notification.groupKey,
			externalURL: notification.externalURL,
		};
		const scope = scopeLabel ? scalarText(alert.labels[scopeLabel]) : undefined;
		if (scope !== undefined) event.scope = scope;
		const title = alert.annotations.summary ?? alert.labels.alertname;
		if (title) event.title = title;
		return event;
	});
}

// FastNetMon JSON notify / web callback document
// (fastnetmon.com/docs-fnm-advanced/fastnetmon-json-formats/).
const fastNetMonNotification = z
	.object({
		ip: ipAddress,
		action: z.string().trim().min(1, 'must not be empty'),
		alert_scope: z.string().optional(),
		attack_details: z
			.object({
				attack_uuid: z.string().optional(),
				attack_severity: z.string().optional(),
				attack_type: z.string().optional(),
				attack_direction: z.string().optional(),
				attack_protocol: z.string().optional(),
			})
			.passthrough()
			.optional(),
	})
	.passthrough();

const FASTNETMON_ACTIONS: Record<string, IncidentAction> = { ban: 'open', unban: 'resolve' };

function fastNetMonEvent(body: unknown, source: string): IncidentEvent {
	const notification = parseOrRefuse(fastNetMonNotification, body, 'FastNetMon notification');
	const details = notification.attack_details ?? {};
	const describedAs = [details.attack_type, details.attack_direction].filter(
		(part) => part && part !== 'unknown',
	);
	const what = describedAs.length ? `${describedAs.join(' ')} attack` : 'attack';
	const severity = details.attack_severity ? ` (${details.attack_severity} severity)` : '';
	return {
		action: FASTNETMON_ACTIONS[notification.action] ?? 'update',
		// The ban and the unban of one attack carry the same uuid; without one, the attacked IP pairs
		// them.
		incidentId: details.attack_uuid || notification.ip,
		scope: notification.ip,
		title: `FastNetMon ${notification.action}: ${what} on ${notification.ip}${severity}`,
		source,
		fastnetmonAction: notification.action,
		alertScope: notification.alert_scope,
		attackDetails: details as IDataObject,
	};
}

function mappedEvents(body: unknown, mapping: FieldMapping, source: string): IncidentEvent[] {
	const root = mapping.eventsPath ? valueAtPath(body, mapping.eventsPath) : body;
	if (mapping.eventsPath && !Array.isArray(root)) {
		throw new WebhookRejection(
			400,
			`Field "${mapping.eventsPath}" (events list) is missing or not a list`,
		);
	}
	const items = Array.isArray(root) ? root : [root];
	if (items.length === 0) throw new WebhookRejection(400, 'The request contains no events');
	refuseOverCap(items.length, 'events');
	const openValues = new Set(mapping.openValues.map((value) => value.toLowerCase()));
	const resolveValues = new Set(mapping.resolveValues.map((value) => value.toLowerCase()));
	return items.map((item, index) => {
		const where = items.length > 1 ? ` in event ${index}` : '';
		const required = (path: string, role: string): string => {
			const value = scalarText(valueAtPath(item, path));
			if (value === undefined)
				throw new WebhookRejection(400, `Field "${path}" (${role}) is missing or empty${where}`);
			return value;
		};
		const incidentId = required(mapping.idPath, 'incident ID');
		const actionValue = required(mapping.actionPath, 'action').toLowerCase();
		const action: IncidentAction = openValues.has(actionValue)
			? 'open'
			: resolveValues.has(actionValue)
				? 'resolve'
				: 'update';
		const event: IncidentEvent = {
			action,
			incidentId,
			source,
			sourceAction: actionValue,
			payload: item as IDataObject,
		};
		if (mapping.scopePath) event.scope = required(mapping.scopePath, 'scope');
		const title = mapping.titlePath ? scalarText(valueAtPath(item, mapping.titlePath)) : undefined;
		if (title !== undefined) event.title = title;
		return event;
	});
}
