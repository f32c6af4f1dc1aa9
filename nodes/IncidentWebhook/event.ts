import type { IDataObject } from 'n8n-workflow';

/**
 * The normalized incident event both triggers emit (CONTRACT.md). The Incident Gate's default
 * expressions read `action`, `incidentId` and `scope` from it, so Trigger -> Incident Gate works
 * without configuration.
 */
export type IncidentAction = 'open' | 'resolve' | 'update';

export interface IncidentEvent extends IDataObject {
	action: IncidentAction;
	incidentId: string;
	/**
	 * One mitigation per scope (a prefix, a server, an IP); absent means the gate's default scope.
	 */
	scope?: string;
	title?: string;
	/**
	 * Where the event came from: "pagerduty", "alertmanager", "fastnetmon", or what the sender said.
	 */
	source: string;
	/**
	 * When the sender says it happened (ISO 8601), else when it was signed or received; the gate
	 * orders by it.
	 */
	occurredAt?: string;
}

/**
 * Reads a dot path such as `alerts.0.labels.instance` or `data.service.id`; undefined when any step
 * is missing.
 */
export function valueAtPath(value: unknown, path: string): unknown {
	let current = value;
	for (const step of path.split('.').filter((part) => part !== '')) {
		if (current === null || typeof current !== 'object') return undefined;
		current = (current as Record<string, unknown>)[step];
	}
	return current;
}

/**
 * A scalar from a payload as the string the gate compares; undefined for missing, empty or
 * non-scalar values.
 */
export function scalarText(value: unknown): string | undefined {
	if (typeof value === 'string') return value.trim() === '' ? undefined : value.trim();
	if (typeof value === 'number' || typeof value === 'bigint') return String(value);
	if (typeof value === 'boolean') return String(value);
	return undefined;
}
