import type {
	ICredentialDataDecryptedObject,
	IDataObject,
	IExecuteFunctions,
	IHookFunctions,
	IHttpRequestMethods,
	IHttpRequestOptions,
	ILoadOptionsFunctions,
} from 'n8n-workflow';
import { setTimeout as sleep } from 'node:timers/promises';

import { ProviderError } from './errors';
import { redact, secretsOf } from './redact';

export interface ApiResponse<T = unknown> {
	status: number;
	headers: Record<string, string>;
	body: T;
}

/** What a provider says about a failed response. */
export interface FailureDescription {
	message: string;
	hint?: string;
	providerCode?: string | number;
	providerMessage?: string;
	/** Overrides the default rule (retry 429, 5xx and connection errors; never 401/403). */
	retryable?: boolean;
	/**
	 * Provider-specific wait signal (e.g. a rate-limit reset header), used when there is no
	 * Retry-After.
	 */
	retryAfterMs?: number;
}

export interface ProviderApiSpec {
	/** Display name used in messages, e.g. "Cloudflare". */
	provider: string;
	credentialType: string;
	/** Default API root when the credential's baseUrl is empty. */
	defaultBaseUrl: string;
	describeFailure(response: ApiResponse): FailureDescription;
	/** Some APIs report failure inside a 2xx body (Cloudflare's `success: false`). */
	isFailure?(response: ApiResponse): boolean;
	/** API root when it depends on more than the credential's baseUrl (OVH's endpoint choice). */
	baseUrlOf?(credentials: ICredentialDataDecryptedObject): string;
	/**
	 * Runs before every attempt, retries included, for what must be fresh each time (OVH's
	 * server-time stamp).
	 */
	prepareAttempt?(request: RequestSpec, client: ProviderClient): Promise<RequestSpec>;
}

export interface RetryPolicy {
	/** Total attempts, the first one included. */
	maxAttempts: number;
	/** Give up rather than wait past this many milliseconds since the first attempt. */
	maxRetryTimeMs: number;
	/** First backoff step; doubles every attempt, with jitter over the upper half of each step. */
	baseDelayMs: number;
	maxDelayMs: number;
	/** Per-request timeout. */
	timeoutMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
	maxAttempts: 5,
	maxRetryTimeMs: 120_000,
	baseDelayMs: 1_000,
	maxDelayMs: 30_000,
	timeoutMs: 30_000,
};

export interface RequestSpec {
	method: IHttpRequestMethods;
	/** Path below the API root, already percent-encoded where the provider signs or routes on it. */
	path: string;
	qs?: IDataObject;
	/** A JSON body, or a URLSearchParams form body. */
	body?: IDataObject | IDataObject[] | URLSearchParams | string;
	headers?: IDataObject;
	/** Statuses that are an answer rather than an error (OVH's 404 "not on mitigation"). */
	acceptStatus?: number[];
	/**
	 * Sending it twice has the effect of sending it once (a whole-object replace, a setting).
	 * Default: every method but POST. A write that is not is never re-sent blindly after a reply that
	 * may have been lost.
	 */
	idempotent?: boolean;
	/**
	 * For a write that is not idempotent (a create): after a 5xx or a timeout, when the write may
	 * have taken effect without the reply reaching us, looks for its effect (by name, label or tag).
	 * What it returns is taken as the write's answer; undefined means the write did not happen and it
	 * is sent again.
	 */
	findEffect?: () => Promise<unknown>;
	/** The answer is not JSON (CloudFront's XML): its text is returned as it is. */
	text?: boolean;
}

const CONNECTION_ERROR_CODES = new Set([
	'ECONNREFUSED',
	'ECONNRESET',
	'ETIMEDOUT',
	'ECONNABORTED',
	'EPIPE',
	'EAI_AGAIN',
	'ENOTFOUND',
	'ERR_SOCKET_CONNECTION_TIMEOUT',
]);

const NEVER_SENT_CODES = new Set(['ECONNREFUSED', 'EAI_AGAIN', 'ENOTFOUND']);

const UNSAFE_TO_REPEAT =
	' (not repeated: the request may have taken effect before the reply was lost; read the ' +
	'state first)';

interface Failure {
	error: ProviderError;
	retryable: boolean;
	/** The request may have taken effect. */
	ambiguous: boolean;
	waitMs?: number;
}

/**
 * Node execution, list search, and trigger webhook lifecycle (create/check/delete a provider
 * subscription).
 */
export type RequestContext = IExecuteFunctions | ILoadOptionsFunctions | IHookFunctions;

/**
 * One provider's HTTP access: authentication through n8n's credential system, JSON parsing that
 * survives malformed bodies, provider error mapping, and retries with exponential backoff, jitter
 * and Retry-After.
 */
export class ProviderClient {
	constructor(
		private readonly ctx: RequestContext,
		readonly spec: ProviderApiSpec,
		readonly baseUrl: string,
		readonly retry: RetryPolicy = DEFAULT_RETRY_POLICY,
		/** The credential's secret values, removed from any provider text put in an error. */
		private readonly secrets: readonly string[] = [],
	) {}

	static async create(
		ctx: RequestContext,
		spec: ProviderApiSpec,
		retry?: RetryPolicy,
	): Promise<ProviderClient> {
		const credentials = await ctx.getCredentials(spec.credentialType);
		const configured = typeof credentials.baseUrl === 'string' ? credentials.baseUrl.trim() : '';
		const baseUrl = spec.baseUrlOf
			? spec.baseUrlOf(credentials)
			: configured || spec.defaultBaseUrl;
		return new ProviderClient(ctx, spec, trimSlash(baseUrl), retry, secretsOf(credentials));
	}

	async request<T = unknown>(req: RequestSpec): Promise<ApiResponse<T>> {
		const started = Date.now();
		const idempotent = req.idempotent ?? req.method !== 'POST';
		/** An earlier attempt may have taken effect though its reply never arrived. */
		let maybeApplied = false;
		for (let attempt = 1; ; attempt++) {
			let failure: Failure;
			try {
				const response = await this.send(
					this.spec.prepareAttempt ? await this.spec.prepareAttempt(req, this) : req,
				);
				// A DELETE whose first reply was lost finds nothing the second time: that is its success.
				if (maybeApplied && req.method === 'DELETE' && response.status === 404)
					return response as ApiResponse<T>;
				const failed =
					(response.status >= 400 && !req.acceptStatus?.includes(response.status)) ||
					(response.status < 400 && this.spec.isFailure?.(response) === true);
				if (!failed) return response as ApiResponse<T>;
				failure = this.failureOf(response);
			} catch (error) {
				if (error instanceof ProviderError) throw error;
				failure = this.connectionFailure(req, error);
			}
			maybeApplied ||= failure.ambiguous;
			const elapsed = Date.now() - started;
			const waitMs = failure.waitMs ?? this.backoff(attempt);
			const blind = failure.ambiguous && !idempotent && !req.findEffect;
			if (
				!failure.retryable ||
				blind ||
				attempt >= this.retry.maxAttempts ||
				elapsed + waitMs > this.retry.maxRetryTimeMs
			) {
				if (blind) failure.error.message += UNSAFE_TO_REPEAT;
				else if (failure.retryable && attempt > 1) {
					const seconds = Math.round(elapsed / 1000);
					failure.error.message += ` (gave up after ${attempt} attempts in ${seconds} s)`;
				}
				throw failure.error;
			}
			await sleep(waitMs);
			if (failure.ambiguous && !idempotent && req.findEffect) {
				const effect = await req.findEffect();
				if (effect !== undefined) return { status: 200, headers: {}, body: effect as T };
			}
		}
	}

	private async send(req: RequestSpec): Promise<ApiResponse> {
		const options: IHttpRequestOptions = {
			method: req.method,
			url: this.baseUrl + req.path,
			qs: req.qs,
			headers: { accept: 'application/json', ...req.headers },
			body: req.body,
			// We parse ourselves so that a malformed body becomes a clear error instead of a silent
			// string.
			encoding: 'text',
			json: false,
			returnFullResponse: true,
			ignoreHttpStatusErrors: true,
			timeout: this.retry.timeoutMs,
		};
		if (
			req.body !== undefined &&
			!(req.body instanceof URLSearchParams) &&
			typeof req.body !== 'string'
		) {
			options.body = JSON.stringify(req.body);
			options.headers = { 'content-type': 'application/json', ...options.headers };
		}
		const raw = (await this.ctx.helpers.httpRequestWithAuthentication.call(
			this.ctx,
			this.spec.credentialType,
			options,
		)) as { body: unknown; headers: Record<string, unknown>; statusCode: number };
		const headers: Record<string, string> = {};
		for (const [name, value] of Object.entries(raw.headers ?? {})) {
			headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value);
		}
		return { status: raw.statusCode, headers, body: this.parseBody(req, raw.statusCode, raw.body) };
	}

	private parseBody(req: RequestSpec, status: number, body: unknown): unknown {
		const text = Buffer.isBuffer(body) ? body.toString('utf8') : body;
		if (typeof text !== 'string') return text ?? null;
		if (req.text) return text;
		if (text.trim() === '') return null;
		try {
			return JSON.parse(text);
		} catch {
			// A gateway error page (HTML) on a 5xx is retried like the 5xx it is; on success it is a real
			// fault.
			if (status >= 500) return { unparsable: text.slice(0, 200) };
			throw new ProviderError(
				`${this.spec.provider} returned a response that is not valid JSON (HTTP ${status}) ` +
					`for ${req.method} ${req.path}`,
				{
					provider: this.spec.provider,
					httpCode: status,
					hint:
						`Check that the credential's Base URL points at the ${this.spec.provider} API ` +
						`(${this.spec.defaultBaseUrl}) and not at a web page or proxy.`,
				},
			);
		}
	}

	private failureOf(response: ApiResponse): Failure {
		const description = this.spec.describeFailure(response);
		const retryable = description.retryable ?? (response.status === 429 || response.status >= 500);
		const clean = (text: string | undefined) =>
			text === undefined ? undefined : redact(text, this.secrets);
		const error = new ProviderError(clean(description.message)!, {
			provider: this.spec.provider,
			hint: clean(description.hint),
			httpCode: response.status,
			providerCode: description.providerCode,
			providerMessage: clean(description.providerMessage),
		});
		const retryAfter = parseRetryAfter(response.headers['retry-after']) ?? description.retryAfterMs;
		return {
			error,
			retryable,
			// A 5xx may come from a gateway after the provider applied the change.
			ambiguous: response.status >= 500,
			waitMs:
				retryAfter === undefined ? undefined : Math.min(retryAfter, this.retry.maxRetryTimeMs),
		};
	}

	private connectionFailure(req: RequestSpec, error: unknown): Failure {
		const code = errorCode(error);
		const retryable = code !== undefined && CONNECTION_ERROR_CODES.has(code);
		// The original error may carry request headers (credentials), so only its code is kept.
		const providerError = new ProviderError(
			`Could not reach ${this.spec.provider} at ${this.baseUrl} (${code ?? 'request failed'}) ` +
				`for ${req.method} ${req.path}`,
			{
				provider: this.spec.provider,
				hint:
					"Check the credential's Base URL and that this n8n host can reach it. Default: " +
					this.spec.defaultBaseUrl,
				providerCode: code,
			},
		);
		// Refused or unresolved: the request never arrived. Anything else may have been applied.
		const ambiguous = code === undefined || !NEVER_SENT_CODES.has(code);
		return { error: providerError, retryable, ambiguous };
	}

	private backoff(attempt: number): number {
		const ceiling = Math.min(this.retry.maxDelayMs, this.retry.baseDelayMs * 2 ** (attempt - 1));
		return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
	}
}

/** Retry-After is either delay-seconds or an HTTP date. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
	if (value === undefined || value.trim() === '') return undefined;
	const seconds = Number(value);
	if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
	const date = Date.parse(value);
	return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

function errorCode(error: unknown): string | undefined {
	if (typeof error !== 'object' || error === null) return undefined;
	const candidate = error as { code?: unknown; cause?: { code?: unknown }; message?: unknown };
	if (typeof candidate.code === 'string') return candidate.code;
	if (typeof candidate.cause?.code === 'string') return candidate.cause.code;
	if (typeof candidate.message === 'string') {
		const match = /\b(E[A-Z_]{3,})\b/.exec(candidate.message);
		if (match) return match[1];
	}
	return undefined;
}

function trimSlash(url: string): string {
	return url.replace(/\/+$/, '');
}
