import type {
	ApiResponse,
	FailureDescription,
	ProviderApiSpec,
	ProviderClient,
	RequestSpec,
} from '../shared/http';
import { ProviderError } from '../shared/errors';
import { OVH_ENDPOINTS, TIMESTAMP_HEADER, ovhBaseUrl, ovhClock } from './signature';

/**
 * OVH error bodies: `{errorCode, httpCode, message}` for authentication, `{class, message}` for the
 * rest.
 */
interface OvhErrorBody {
	errorCode?: string;
	class?: string;
	message?: string;
}

/** The consumer-key access rules the node needs, each its own row on OVH's createToken page. */
export const ACCESS_RULES = [
	'GET /ip',
	'GET /ip/*',
	'POST /ip/*/firewall',
	'PUT /ip/*/firewall/*',
	'DELETE /ip/*/firewall/*',
	'POST /ip/*/firewall/*/rule',
	'DELETE /ip/*/firewall/*/rule/*',
];

/** Needed only to raise the auto-mitigation timeout during an incident. */
export const PROFILE_ACCESS_RULES = [
	'POST /ip/*/mitigationProfiles',
	'PUT /ip/*/mitigationProfiles/*',
	'DELETE /ip/*/mitigationProfiles/*',
];

const RULE_LIST =
	`${ACCESS_RULES.join(', ')} (and, for Auto-Mitigation Timeout During Incident, ` +
	`${PROFILE_ACCESS_RULES.join(', ')})`;
const CREATE_TOKEN =
	`${OVH_ENDPOINTS['ovh-eu'].createToken} ` + "(or your endpoint's /createToken/ page)";
const NEW_KEY_HINT =
	`Create keys at ${CREATE_TOKEN} with these ${ACCESS_RULES.length} access rules, ` +
	`each as its own row: ${RULE_LIST}.`;

/**
 * OVH access-rule matching: the method must match; `*` matches any characters, slashes included.
 */
function ruleGrants(rule: string, method: string, path: string): boolean {
	const [ruleMethod, rulePath] = rule.split(' ');
	if (ruleMethod !== method) return false;
	const pattern = rulePath
		.split('*')
		.map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
		.join('.*');
	return new RegExp(`^${pattern}$`).test(path);
}

/**
 * The access rule that grants a call, e.g. `DELETE /ip/*\/firewall/*\/rule/*` for a rule deletion.
 */
export function accessRuleFor(method: string, path: string): string | undefined {
	const bare = decodeURIComponent(path.split('?')[0]);
	const candidates = [...ACCESS_RULES, ...PROFILE_ACCESS_RULES].filter((rule) =>
		ruleGrants(rule, method, bare),
	);
	// The most specific rule: the one with the longest literal path.
	return candidates.sort((a, b) => b.length - a.length)[0];
}

/**
 * Errors that a fresh server-time reading may cure; retried once after re-reading GET /auth/time.
 */
const CLOCK_ERRORS = new Set(['INVALID_SIGNATURE', 'QUERY_TIME_OUT']);

export function describeOvhFailure(response: ApiResponse): FailureDescription {
	const body = (response.body ?? {}) as OvhErrorBody;
	const code = body.errorCode ?? body.class;
	const common = { providerCode: code, providerMessage: body.message };
	switch (body.errorCode) {
		case 'NOT_GRANTED_CALL':
			return {
				...common,
				retryable: false,
				message:
					'OVH has not granted this call to the consumer key (NOT_GRANTED_CALL: "This call has ' +
					'not been granted")',
				hint:
					`The consumer key lacks an access rule. The node needs these ${ACCESS_RULES.length}, ` +
					`each its own row with its own HTTP method: ${RULE_LIST}. The most common mistakes are ` +
					'forgetting GET /ip without the wildcard and the firewall rows. Generate a new ' +
					'consumer ' +
					`key at ${CREATE_TOKEN} with all of them and put it in the credential.`,
			};
		case 'INVALID_CREDENTIAL':
		case 'NOT_CREDENTIAL':
			return {
				...common,
				retryable: false,
				message:
					'OVH does not accept this consumer key (invalid, expired, revoked or never validated)',
				hint:
					`${NEW_KEY_HINT} Use the consumer key shown with them, and validate it (log in on ` +
					'the validation page) if you created it through POST /auth/credential.',
			};
		case 'INVALID_KEY':
			return {
				...common,
				retryable: false,
				message: 'OVH rejected the application key',
				hint:
					'Check the Application Key in the credential and that the Endpoint matches the region ' +
					'where the keys were created (an EU key does not work on the CA or US API). ' +
					NEW_KEY_HINT,
			};
		case 'INVALID_SIGNATURE':
			return {
				...common,
				retryable: false,
				message: 'OVH rejected the request signature (INVALID_SIGNATURE)',
				hint:
					'The Application Secret does not belong to the Application Key and Consumer Key, or ' +
					'a proxy changed the request URL or body. Paste the secret again, with no spaces.',
			};
		case 'QUERY_TIME_OUT':
			return {
				...common,
				retryable: false,
				message:
					"OVH rejected the request's timestamp (QUERY_TIME_OUT), even after re-reading the " +
					'server time',
				hint:
					'The clock of this n8n host moves too fast or too slowly to keep in step with OVH; ' +
					'enable NTP on it.',
			};
	}
	if (response.status === 429) {
		return {
			...common,
			message: 'OVH rate limit reached',
			hint:
				'The request is retried with backoff; OVH asks clients to stay well under 60 requests ' +
				'per minute per consumer key.',
		};
	}
	if (response.status === 404) {
		return {
			...common,
			message: `OVH could not find it: ${body.message ?? 'not found'}`,
			hint:
				'Check the IP block exactly as OVH lists it (e.g. 203.0.113.0/24 or 198.51.100.7/32, ' +
				'see List IP Blocks or the "IP" page of the control panel) and that the IP belongs to ' +
				'this OVH account and endpoint.',
		};
	}
	if (response.status === 401 || response.status === 403) {
		return {
			...common,
			retryable: false,
			message:
				`OVH refused the request (HTTP ${response.status}): ` +
				(body.message ?? code ?? 'forbidden'),
			hint: NEW_KEY_HINT,
		};
	}
	return {
		...common,
		message:
			`OVH answered HTTP ${response.status}` +
			(body.message ? `: ${body.message}` : '') +
			(code ? ` (${code})` : ''),
	};
}

export const ovhApi: ProviderApiSpec = {
	provider: 'OVH',
	credentialType: 'ovhMitigationApi',
	defaultBaseUrl: OVH_ENDPOINTS['ovh-eu'].url,
	baseUrlOf: ovhBaseUrl,
	describeFailure: describeOvhFailure,
	// Every attempt, retries included, carries a fresh server-time stamp; the credential signs over
	// it.
	async prepareAttempt(request: RequestSpec, client: ProviderClient): Promise<RequestSpec> {
		if (request.path === '/auth/time') return request;
		const offset = ovhClock.offset(client.baseUrl) ?? (await clockOnce(client));
		return {
			...request,
			headers: { ...request.headers, [TIMESTAMP_HEADER]: ovhClock.now(offset) },
		};
	},
};

/** Reads OVH's clock (GET /auth/time, unauthenticated) and keeps the offset for this API root. */
export async function syncClock(client: ProviderClient): Promise<number> {
	const sentAt = Date.now();
	const response = await client.request<number>({ method: 'GET', path: '/auth/time' });
	if (typeof response.body !== 'number') {
		throw new ProviderError('OVH answered GET /auth/time without a server time', {
			provider: 'OVH',
			httpCode: response.status,
			hint:
				"Check the credential's Endpoint and Base URL: the Base URL must be an OVH API root " +
				'such as https://eu.api.ovh.com/1.0, or empty.',
		});
	}
	return ovhClock.record(client.baseUrl, response.body, sentAt, Date.now());
}

/** Clock reads under way: requests sent side by side before the first one share its answer. */
const clockReads = new WeakMap<ProviderClient, Promise<number>>();

async function clockOnce(client: ProviderClient): Promise<number> {
	let reading = clockReads.get(client);
	if (!reading) {
		reading = syncClock(client).finally(() => clockReads.delete(client));
		clockReads.set(client, reading);
	}
	return await reading;
}

/**
 * Sends one signed request. A signature or timestamp rejection re-reads the server time once and
 * tries again (OVH's clock may have moved since it was read); a second rejection is the real
 * answer.
 */
export async function ovhRequest<T>(
	client: ProviderClient,
	request: RequestSpec,
): Promise<ApiResponse<T>> {
	try {
		return await client.request<T>(request);
	} catch (error) {
		const code = error instanceof ProviderError ? error.details.providerCode : undefined;
		if (code === 'NOT_GRANTED_CALL') throw namingMissingRule(error as ProviderError, request);
		if (typeof code !== 'string' || !CLOCK_ERRORS.has(code)) throw error;
		await syncClock(client);
		return await client.request<T>(request);
	}
}

/** NOT_GRANTED_CALL names the access rule that would have granted the refused call. */
function namingMissingRule(error: ProviderError, request: RequestSpec): ProviderError {
	const rule = accessRuleFor(request.method, request.path);
	if (!rule) return error;
	return new ProviderError(
		`${error.message}: ${request.method} ${decodeURIComponent(request.path)} needs the ` +
			`access rule "${rule}"`,
		{ ...error.details, hint: `Missing access rule: ${rule}. ${error.details.hint ?? ''}`.trim() },
	);
}
