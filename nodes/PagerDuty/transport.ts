import type { IDataObject, IHttpRequestMethods } from 'n8n-workflow';

import { ProviderError } from '../shared/errors';
import {
	DEFAULT_RETRY_POLICY,
	type ApiResponse,
	type FailureDescription,
	type ProviderApiSpec,
	type ProviderClient,
	type RetryPolicy,
} from '../shared/http';

/**
 * PagerDuty REST API v2 as the trigger uses it: webhook subscriptions (v3 webhooks), services and
 * teams.
 */

const ACCEPT = 'application/vnd.pagerduty+json;version=2';

interface PagerDutyErrorBody {
	error?: { message?: string; code?: number; errors?: string[] };
}

export const pagerDutyApi: ProviderApiSpec = {
	provider: 'PagerDuty',
	credentialType: 'pagerDutyMitigationApi',
	defaultBaseUrl: 'https://api.pagerduty.com',
	describeFailure: describePagerDutyFailure,
};

/** Activation waits on these calls, so they retry briefly rather than for minutes. */
export const LIFECYCLE_RETRY_POLICY: RetryPolicy = {
	...DEFAULT_RETRY_POLICY,
	maxAttempts: 3,
	maxRetryTimeMs: 20_000,
	timeoutMs: 15_000,
};

/**
 * A create whose reply is lost may still have happened: it is retried only after looking for it (no
 * orphan).
 */
export const CREATE_ONCE_POLICY: RetryPolicy = { ...LIFECYCLE_RETRY_POLICY, maxAttempts: 1 };

function describePagerDutyFailure(response: ApiResponse): FailureDescription {
	const error = (response.body as PagerDutyErrorBody | null)?.error;
	const details = error?.errors?.length ? ` (${error.errors.join('; ')})` : '';
	const common = {
		providerCode: error?.code,
		providerMessage: error?.message ? `${error.message}${details}` : undefined,
	};
	if (response.status === 429 || error?.code === 2020) {
		const resetSeconds = Number(response.headers['ratelimit-reset']);
		return {
			...common,
			retryable: true,
			retryAfterMs: Number.isFinite(resetSeconds) ? resetSeconds * 1000 : undefined,
			message: 'PagerDuty rate limit reached (960 requests per minute, code 2020)',
			hint:
				'The request is retried after the limit resets. Other integrations using the same API ' +
				'key share this limit.',
		};
	}
	if (response.status === 401 || error?.code === 2006) {
		return {
			...common,
			retryable: false,
			message: 'PagerDuty rejected the API token (authentication failed)',
			hint:
				'Create a REST API key under Integrations > API Access Keys and paste it into the ' +
				'credential without the "Token token=" prefix. EU accounts use the Base URL ' +
				'https://api.eu.pagerduty.com.',
		};
	}
	if (response.status === 403 || error?.code === 2010) {
		return {
			...common,
			retryable: false,
			message:
				'PagerDuty denied access: the API key may not manage webhook subscriptions for this ' +
				'service or team',
			hint:
				'Use a general access key that is not read-only, or a user token whose user can manage ' +
				'the chosen service or team.',
		};
	}
	if (response.status === 404) {
		return {
			...common,
			message: 'PagerDuty could not find the service, team or webhook subscription',
			hint: 'Check the service or team chosen on the trigger still exists.',
		};
	}
	return {
		...common,
		message:
			`PagerDuty answered HTTP ${response.status}` +
			(error?.message ? `: ${error.message}${details}` : ''),
	};
}

export async function pagerDutyRequest<T>(
	client: ProviderClient,
	method: IHttpRequestMethods,
	path: string,
	options: { body?: IDataObject; qs?: IDataObject; acceptStatus?: number[] } = {},
): Promise<ApiResponse<T>> {
	return await client.request<T>({ method, path, headers: { accept: ACCEPT }, ...options });
}

export type SubscriptionFilter =
	| { type: 'service_reference'; id: string }
	| { type: 'team_reference'; id: string }
	| { type: 'account_reference' };

export interface WebhookSubscription {
	id: string;
	type: 'webhook_subscription';
	active: boolean;
	description?: string;
	events: string[];
	filter: { type: string; id?: string };
	delivery_method: {
		id?: string;
		type: 'http_delivery_method';
		url: string;
		/** Only in the response to the creating POST. */
		secret?: string | null;
		temporarily_disabled?: boolean;
	};
}

interface SubscriptionEnvelope {
	webhook_subscription?: WebhookSubscription;
}

function subscriptionOf(
	response: ApiResponse<SubscriptionEnvelope>,
	action: string,
): WebhookSubscription {
	const subscription = response.body?.webhook_subscription;
	if (!subscription?.id) {
		throw new ProviderError(`PagerDuty answered "${action}" without a webhook subscription`, {
			provider: 'PagerDuty',
			httpCode: response.status,
			hint:
				"Check the credential's Base URL: it must be the PagerDuty REST API root, " +
				'https://api.pagerduty.com.',
		});
	}
	return subscription;
}

export async function createSubscription(
	client: ProviderClient,
	spec: { url: string; events: string[]; filter: SubscriptionFilter; description: string },
): Promise<WebhookSubscription> {
	const response = await pagerDutyRequest<SubscriptionEnvelope>(
		client,
		'POST',
		'/webhook_subscriptions',
		{
			body: {
				webhook_subscription: {
					type: 'webhook_subscription',
					delivery_method: { type: 'http_delivery_method', url: spec.url },
					events: spec.events,
					filter: spec.filter,
					description: spec.description,
				},
			},
		},
	);
	return subscriptionOf(response, 'create webhook subscription');
}

/** Undefined when PagerDuty no longer has it (deleted in the web app or by another tool). */
export async function getSubscription(
	client: ProviderClient,
	id: string,
): Promise<WebhookSubscription | undefined> {
	const response = await pagerDutyRequest<SubscriptionEnvelope>(
		client,
		'GET',
		`/webhook_subscriptions/${encodeURIComponent(id)}`,
		{
			acceptStatus: [404],
		},
	);
	return response.status === 404 ? undefined : subscriptionOf(response, 'get webhook subscription');
}

export async function updateSubscription(
	client: ProviderClient,
	id: string,
	changes: { events?: string[]; filter?: SubscriptionFilter; active?: boolean },
): Promise<WebhookSubscription> {
	const response = await pagerDutyRequest<SubscriptionEnvelope>(
		client,
		'PUT',
		`/webhook_subscriptions/${encodeURIComponent(id)}`,
		{
			body: { webhook_subscription: changes as IDataObject },
		},
	);
	return subscriptionOf(response, 'update webhook subscription');
}

/** Lifts PagerDuty's 24-hour suspension after repeatedly refused deliveries. */
export async function enableSubscription(
	client: ProviderClient,
	id: string,
): Promise<WebhookSubscription> {
	const response = await pagerDutyRequest<SubscriptionEnvelope>(
		client,
		'POST',
		`/webhook_subscriptions/${encodeURIComponent(id)}/enable`,
	);
	return subscriptionOf(response, 'enable webhook subscription');
}

/** False when it was already gone. */
export async function deleteSubscription(client: ProviderClient, id: string): Promise<boolean> {
	const response = await pagerDutyRequest(
		client,
		'DELETE',
		`/webhook_subscriptions/${encodeURIComponent(id)}`,
		{
			acceptStatus: [404],
		},
	);
	return response.status !== 404;
}

export interface ListPage<T> {
	items: T[];
	more: boolean;
	offset: number;
}

/**
 * One page of a classic (limit/offset) list, e.g. `services` or `teams`, filtered by PagerDuty's
 * `query`.
 */
export async function listPage<T>(
	client: ProviderClient,
	collection: 'services' | 'teams',
	query: string | undefined,
	offset: number,
): Promise<ListPage<T>> {
	const limit = 100;
	const response = await pagerDutyRequest<Record<string, unknown> & { more?: boolean }>(
		client,
		'GET',
		`/${collection}`,
		{
			qs: { limit, offset, ...(query ? { query } : {}) },
		},
	);
	const items = response.body?.[collection];
	return {
		items: Array.isArray(items) ? (items as T[]) : [],
		more: response.body?.more === true,
		offset: offset + limit,
	};
}

/**
 * Every webhook subscription of the account that delivers to `url` (classic pagination, 100 per
 * page).
 */
export async function subscriptionsTo(
	client: ProviderClient,
	url: string,
): Promise<WebhookSubscription[]> {
	const found: WebhookSubscription[] = [];
	for (let offset = 0; ; offset += 100) {
		const response = await pagerDutyRequest<{
			webhook_subscriptions?: WebhookSubscription[];
			more?: boolean;
		}>(client, 'GET', '/webhook_subscriptions', { qs: { limit: 100, offset } });
		const page = response.body?.webhook_subscriptions ?? [];
		found.push(...page.filter((subscription) => subscription.delivery_method?.url === url));
		// PagerDuty refuses offset + limit over 10,000.
		if (response.body?.more !== true || offset + 200 > 10_000) return found;
	}
}
