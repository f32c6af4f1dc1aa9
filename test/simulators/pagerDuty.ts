import { createHmac, randomBytes } from 'node:crypto';

import { Simulator, type SimRequest, type SimResponse } from './framework';

/**
 * PagerDuty REST API v2 as the PagerDuty Incident Trigger uses it (abilities, services, teams, v3
 * webhook subscriptions), with exact `Authorization: Token token=<key>` checks and PagerDuty's
 * error envelope, plus a sender that delivers webhook events the way PagerDuty does: one `v1=`
 * HMAC-SHA256 signature per active secret, a stable X-Webhook-Id across retries, and a 24-hour
 * suspension after three consecutive refused deliveries.
 */

export interface SimSubscription {
	id: string;
	type: 'webhook_subscription';
	active: boolean;
	description: string;
	events: string[];
	filter: { type: string; id?: string };
	delivery_method: {
		id: string;
		type: 'http_delivery_method';
		url: string;
		temporarily_disabled: boolean;
	};
	/** Active signing secrets, newest last; two while a secret is being rotated. */
	secrets: string[];
	/** Refused (non-retried 4xx) deliveries in a row. */
	consecutiveDrops: number;
}

export interface Delivery {
	status: number;
	body: string;
	webhookId: string;
}

const ACCEPT = 'application/vnd.pagerduty+json;version=2';

const error = (status: number, code: number, message: string, errors?: string[]): SimResponse => ({
	status,
	body: { error: { message, code, ...(errors ? { errors } : {}) } },
});

let nextId = 1;
const pagerDutyId = () => `P${String(nextId++).padStart(6, '0')}`;

/**
 * HMAC-SHA256 of the raw body with each secret, formatted as PagerDuty's X-PagerDuty-Signature
 * header.
 */
export function pagerDutySignature(rawBody: string, secrets: string[]): string {
	return secrets
		.map((secret) => `v1=${createHmac('sha256', secret).update(rawBody).digest('hex')}`)
		.join(',');
}

/** A v3 incident event as PagerDuty sends it (developer-docs webhooks overview). */
export function incidentEvent(
	eventType: string,
	incident: {
		id: string;
		serviceId: string;
		title?: string;
		incidentKey?: string;
		urgency?: string;
	},
): { event: Record<string, unknown> } {
	const status =
		eventType === 'incident.resolved'
			? 'resolved'
			: eventType === 'incident.acknowledged'
				? 'acknowledged'
				: 'triggered';
	return {
		event: {
			id: `01${randomBytes(12).toString('hex').toUpperCase()}`,
			event_type: eventType,
			resource_type: 'incident',
			occurred_at: new Date().toISOString(),
			agent: {
				html_url: 'https://acme.pagerduty.com/users/PLH1HKV',
				id: 'PLH1HKV',
				self: 'https://api.pagerduty.com/users/PLH1HKV',
				summary: 'Tenex Engineer',
				type: 'user_reference',
			},
			client: null,
			data: {
				id: incident.id,
				type: 'incident',
				self: `https://api.pagerduty.com/incidents/${incident.id}`,
				html_url: `https://acme.pagerduty.com/incidents/${incident.id}`,
				number: 2,
				status,
				incident_key: incident.incidentKey ?? 'd3640fbd41094207a1c11e58e46b1662',
				created_at: '2020-04-09T15:16:27Z',
				title: incident.title ?? 'Inbound flood on 203.0.113.0/24',
				service: {
					html_url: `https://acme.pagerduty.com/services/${incident.serviceId}`,
					id: incident.serviceId,
					self: `https://api.pagerduty.com/services/${incident.serviceId}`,
					summary: 'Edge network',
					type: 'service_reference',
				},
				assignees: [],
				escalation_policy: {
					html_url: 'https://acme.pagerduty.com/escalation_policies/PUS0KTE',
					id: 'PUS0KTE',
					self: 'https://api.pagerduty.com/escalation_policies/PUS0KTE',
					summary: 'Default',
					type: 'escalation_policy_reference',
				},
				teams: [],
				priority: {
					html_url: 'https://acme.pagerduty.com/account/incident_priorities',
					id: 'PSO75BM',
					self: 'https://api.pagerduty.com/priorities/PSO75BM',
					summary: 'P1',
					type: 'priority_reference',
				},
				urgency: incident.urgency ?? 'high',
				conference_bridge: null,
				resolve_reason: null,
			},
		},
	};
}

export class PagerDutySimulator extends Simulator {
	protected readonly prefix = '';
	readonly tokens = new Set<string>();
	readonly services = new Map<string, { id: string; name: string }>();
	readonly teams = new Map<string, { id: string; name: string }>();
	readonly subscriptions = new Map<string, SimSubscription>();
	/** Accept header of every request, to check the client pins API version 2. */
	readonly acceptHeaders: string[] = [];

	constructor() {
		super();
		this.route('GET', '/abilities', () => ({
			status: 200,
			body: { abilities: ['teams', 'urgencies', 'webhook_subscriptions'] },
		}));
		this.route('GET', '/services', (req) =>
			this.list(
				req,
				'services',
				[...this.services.values()].map((s) => ({
					...s,
					summary: s.name,
					type: 'service',
					html_url: `https://acme.pagerduty.com/services/${s.id}`,
				})),
			),
		);
		this.route('GET', '/teams', (req) =>
			this.list(
				req,
				'teams',
				[...this.teams.values()].map((t) => ({ ...t, summary: t.name, type: 'team' })),
			),
		);
		this.route('GET', '/webhook_subscriptions', (req) =>
			this.list(
				req,
				'webhook_subscriptions',
				[...this.subscriptions.values()].map((s) => this.redacted(s)),
			),
		);
		this.route('POST', '/webhook_subscriptions', (req) => this.create(req));
		this.route('GET', '/webhook_subscriptions/:id', (req) =>
			this.withSubscription(req, (s) => ({
				status: 200,
				body: { webhook_subscription: this.redacted(s) },
			})),
		);
		this.route('PUT', '/webhook_subscriptions/:id', (req) =>
			this.withSubscription(req, (s) => {
				const changes = (
					req.body as { webhook_subscription?: Partial<SimSubscription> } | undefined
				)?.webhook_subscription;
				if (!changes)
					return error(400, 2001, 'Invalid Input Provided', ['webhook_subscription is required']);
				if ('delivery_method' in changes)
					return error(400, 2001, 'Invalid Input Provided', ['delivery_method cannot be updated']);
				if (changes.events) s.events = changes.events;
				if (changes.filter) s.filter = changes.filter;
				if (typeof changes.active === 'boolean') s.active = changes.active;
				return { status: 200, body: { webhook_subscription: this.redacted(s) } };
			}),
		);
		this.route('DELETE', '/webhook_subscriptions/:id', (req) =>
			this.withSubscription(req, (s) => {
				this.subscriptions.delete(s.id);
				return { status: 204 };
			}),
		);
		this.route('POST', '/webhook_subscriptions/:id/enable', (req) =>
			this.withSubscription(req, (s) => {
				s.delivery_method.temporarily_disabled = false;
				s.consecutiveDrops = 0;
				return { status: 200, body: { webhook_subscription: this.redacted(s) } };
			}),
		);
	}

	/** Starts a secret rotation: deliveries are then signed with the old and the new secret. */
	rotateSecret(subscriptionId: string): string {
		const secret = randomBytes(24).toString('base64');
		this.subscriptions.get(subscriptionId)!.secrets.push(secret);
		return secret;
	}

	/** Ends a rotation: only the newest secret signs. */
	finishRotation(subscriptionId: string): void {
		const subscription = this.subscriptions.get(subscriptionId)!;
		subscription.secrets = subscription.secrets.slice(-1);
	}

	/**
	 * Delivers one event to the subscription's URL as PagerDuty does. `signWith` overrides the
	 * secrets (to forge); `webhookId` repeats an earlier delivery (a retry).
	 */
	async deliver(
		subscriptionId: string,
		payload: unknown,
		options: { signWith?: string[]; webhookId?: string; omitSignature?: boolean } = {},
	): Promise<Delivery> {
		const subscription = this.subscriptions.get(subscriptionId);
		if (!subscription) throw new Error(`simulator: no subscription ${subscriptionId}`);
		if (!subscription.active || subscription.delivery_method.temporarily_disabled) {
			throw new Error(
				`simulator: subscription ${subscriptionId} is disabled; PagerDuty would not deliver`,
			);
		}
		const rawBody = JSON.stringify(payload);
		const webhookId = options.webhookId ?? randomBytes(16).toString('hex');
		const headers: Record<string, string> = {
			'content-type': 'application/json',
			'user-agent': 'PagerDuty-Webhook/V3.0',
			'x-webhook-id': webhookId,
			'x-webhook-subscription': subscription.id,
		};
		if (!options.omitSignature)
			headers['x-pagerduty-signature'] = pagerDutySignature(
				rawBody,
				options.signWith ?? subscription.secrets,
			);
		const response = await fetch(subscription.delivery_method.url, {
			method: 'POST',
			headers,
			body: rawBody,
			signal: AbortSignal.timeout(5000),
		});
		const body = await response.text();
		// Non-retried 4xx responses drop the webhook; three in a row suspend the subscription for 24 h.
		const dropped = response.status >= 400 && response.status < 500 && response.status !== 429;
		subscription.consecutiveDrops = dropped ? subscription.consecutiveDrops + 1 : 0;
		if (subscription.consecutiveDrops >= 3)
			subscription.delivery_method.temporarily_disabled = true;
		return { status: response.status, body, webhookId };
	}

	protected authenticate(req: SimRequest): SimResponse | undefined {
		this.acceptHeaders.push(req.headers.accept ?? '');
		const match = /^Token token=(\S+)$/.exec(req.headers.authorization ?? '');
		if (!match || !this.tokens.has(match[1])) return error(401, 2006, 'Authentication failed');
		return undefined;
	}

	protected notFound(): SimResponse {
		return error(404, 2100, 'Not Found');
	}

	/** Every request pinned API version 2. */
	allRequestsPinnedVersion2(): boolean {
		return this.acceptHeaders.length > 0 && this.acceptHeaders.every((accept) => accept === ACCEPT);
	}

	private create(req: SimRequest): SimResponse {
		const spec = (req.body as { webhook_subscription?: Record<string, unknown> } | undefined)
			?.webhook_subscription;
		const delivery = spec?.delivery_method as { type?: string; url?: string } | undefined;
		const filter = spec?.filter as { type?: string; id?: string } | undefined;
		const events = spec?.events as string[] | undefined;
		const problems: string[] = [];
		if (spec?.type !== 'webhook_subscription') problems.push('type must be webhook_subscription');
		if (delivery?.type !== 'http_delivery_method' || !delivery.url)
			problems.push('delivery_method must be an http_delivery_method with a url');
		if (!Array.isArray(events) || events.length === 0) problems.push('events must not be empty');
		if (
			!filter ||
			!['account_reference', 'service_reference', 'team_reference'].includes(filter.type ?? '')
		)
			problems.push('filter.type is invalid');
		if (filter?.type === 'service_reference' && !this.services.has(filter.id ?? ''))
			problems.push('filter.id is not a service');
		if (filter?.type === 'team_reference' && !this.teams.has(filter.id ?? ''))
			problems.push('filter.id is not a team');
		if (problems.length) return error(400, 2001, 'Invalid Input Provided', problems);
		const subscription: SimSubscription = {
			id: pagerDutyId(),
			type: 'webhook_subscription',
			active: true,
			description: String(spec!.description ?? ''),
			events: events!,
			filter:
				filter!.type === 'account_reference'
					? { type: 'account_reference' }
					: { type: filter!.type!, id: filter!.id },
			delivery_method: {
				id: pagerDutyId(),
				type: 'http_delivery_method',
				url: delivery!.url!,
				temporarily_disabled: false,
			},
			secrets: [randomBytes(24).toString('base64')],
			consecutiveDrops: 0,
		};
		this.subscriptions.set(subscription.id, subscription);
		const created = this.redacted(subscription);
		created.delivery_method = { ...created.delivery_method, secret: subscription.secrets[0] };
		return { status: 200, body: { webhook_subscription: created } };
	}

	/** What GET returns: the secret is never shown again after creation. */
	private redacted(s: SimSubscription) {
		return {
			id: s.id,
			type: s.type,
			active: s.active,
			description: s.description,
			events: [...s.events],
			filter: { ...s.filter },
			delivery_method: { ...s.delivery_method, secret: null as string | null, custom_headers: [] },
		};
	}

	private withSubscription(
		req: SimRequest,
		handler: (s: SimSubscription) => SimResponse,
	): SimResponse {
		const subscription = this.subscriptions.get(req.params.id);
		return subscription ? handler(subscription) : error(404, 2100, 'Not Found');
	}

	private list(req: SimRequest, key: string, all: Array<Record<string, unknown>>): SimResponse {
		const limit = Math.min(Number(req.query.get('limit') ?? 25), 100);
		const offset = Number(req.query.get('offset') ?? 0);
		if (offset + limit > 10000)
			return error(400, 2001, 'Invalid Input Provided', ['Offset must be less than 10000']);
		const query = (req.query.get('query') ?? '').toLowerCase();
		const matching = all.filter(
			(item) =>
				!query ||
				String(item.name ?? '')
					.toLowerCase()
					.includes(query),
		);
		return {
			status: 200,
			body: {
				[key]: matching.slice(offset, offset + limit),
				limit,
				offset,
				more: offset + limit < matching.length,
				total: null,
			},
		};
	}
}
