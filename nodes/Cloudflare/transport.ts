import type { IDataObject, IHttpRequestMethods } from 'n8n-workflow';

import type {
	ApiResponse,
	FailureDescription,
	ProviderApiSpec,
	ProviderClient,
} from '../shared/http';
import { ProviderError } from '../shared/errors';

/** Cloudflare's v4 envelope. */
export interface CloudflareEnvelope<T> {
	success: boolean;
	errors?: Array<{
		code: number;
		message: string;
		error_chain?: Array<{ code: number; message: string }>;
	}>;
	messages?: unknown[];
	result: T;
	result_info?: {
		page: number;
		per_page: number;
		total_pages: number;
		count: number;
		total_count: number;
	};
}

const INVALID_TOKEN_CODES = new Set([1000, 6003, 6100, 6101, 6102, 6103, 6111, 9106, 9107]);
const NOT_FOUND_CODES = new Set([7000, 7003, 1001, 1003, 1049]);

/** The parts of an error message that differ between the two Cloudflare nodes. */
export interface CloudflareHints {
	/** Which token permissions the node's operations need. */
	permissions: string;
	/** Which ids the user should check when Cloudflare cannot find the resource. */
	notFound: string;
}

export function cloudflareApi(hints: CloudflareHints): ProviderApiSpec {
	return {
		provider: 'Cloudflare',
		credentialType: 'cloudflareMitigationApi',
		defaultBaseUrl: 'https://api.cloudflare.com/client/v4',
		isFailure: (response) =>
			(response.body as CloudflareEnvelope<unknown> | null)?.success === false,
		describeFailure: (response) => describeCloudflareFailure(response, hints),
	};
}

function describeCloudflareFailure(
	response: ApiResponse,
	hints: CloudflareHints,
): FailureDescription {
	const envelope = response.body as CloudflareEnvelope<unknown> | null;
	const errors = envelope?.errors ?? [];
	const codes = errors.flatMap((e) => [e.code, ...(e.error_chain ?? []).map((c) => c.code)]);
	const first = errors[0];
	const providerMessage = errors.map((e) => `${e.code}: ${e.message}`).join('; ') || undefined;
	const common = { providerCode: first?.code, providerMessage };

	if (response.status === 429) {
		return {
			...common,
			message: 'Cloudflare rate limit reached (1200 requests per 5 minutes per token)',
			hint:
				'The request is retried after the Retry-After delay; raise Max Attempts or Max Retry ' +
				'Time under Options if this persists.',
		};
	}
	if (
		codes.includes(10000) ||
		(response.status === 403 && !codes.some((c) => NOT_FOUND_CODES.has(c)))
	) {
		return {
			...common,
			retryable: false,
			message:
				'Forbidden: the Cloudflare API token lacks a permission this operation needs ' +
				'(Authentication error, code 10000)',
			hint:
				'Edit the token at dash.cloudflare.com/profile/api-tokens and grant ' +
				`${hints.permissions}. ` +
				"Also check the token's account and zone resources include this target.",
		};
	}
	if (
		response.status === 401 ||
		(response.status === 400 && codes.some((c) => INVALID_TOKEN_CODES.has(c)))
	) {
		return {
			...common,
			retryable: false,
			message: 'Cloudflare rejected the API token (invalid, expired or malformed)',
			hint:
				'Create an API token (not the Global API Key) at ' +
				'dash.cloudflare.com/profile/api-tokens and paste it into the credential without the ' +
				'"Bearer" prefix.',
		};
	}
	if (response.status === 404 || codes.some((c) => NOT_FOUND_CODES.has(c))) {
		return {
			...common,
			message: `Cloudflare could not find ${hints.notFound.split(':')[0]}`,
			hint: hints.notFound,
		};
	}
	return {
		...common,
		message:
			`Cloudflare answered HTTP ${response.status}` +
			(first ? `: ${first.message} (code ${first.code})` : ''),
	};
}

/** Sends one request and returns the envelope's `result`. */
export async function cloudflareRequest<T>(
	api: ProviderClient,
	method: IHttpRequestMethods,
	path: string,
	body?: IDataObject,
	qs?: IDataObject,
): Promise<CloudflareEnvelope<T>> {
	const response = await api.request<CloudflareEnvelope<T>>({ method, path, body, qs });
	if (response.body === null || typeof response.body !== 'object' || !('result' in response.body)) {
		throw new ProviderError(`Cloudflare answered ${method} ${path} without a result`, {
			provider: 'Cloudflare',
			httpCode: response.status,
			hint:
				"Check the credential's Base URL: it must be the Cloudflare API root, " +
				'https://api.cloudflare.com/client/v4.',
		});
	}
	return response.body;
}

/** Reads every page of a paged list (Cloudflare's page/per_page with result_info.total_pages). */
export async function cloudflareListAll<T>(
	api: ProviderClient,
	path: string,
	qs: IDataObject = {},
	maxPages = 50,
): Promise<T[]> {
	const all: T[] = [];
	for (let page = 1; page <= maxPages; page++) {
		const envelope = await cloudflareRequest<T[]>(api, 'GET', path, undefined, {
			...qs,
			page,
			per_page: 50,
		});
		all.push(...(envelope.result ?? []));
		const totalPages = envelope.result_info?.total_pages ?? 1;
		if (page >= totalPages) break;
	}
	return all;
}
