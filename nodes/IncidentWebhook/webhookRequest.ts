import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type {
	ICredentialDataDecryptedObject,
	IWebhookFunctions,
	IWebhookResponseData,
} from 'n8n-workflow';

/**
 * Request handling shared by both triggers: the raw body exactly as sent (signatures are computed
 * over it, never over re-serialized JSON), constant-time secret checks, and refusals that start no
 * execution.
 */

/**
 * A refused delivery: answered with this status and a message that never contains a secret. 400 bad
 * input, 401 failed authentication or a stale timestamp, 409 a replay of an accepted request, 413
 * over the hard size cap, 500 a trigger misconfigured on n8n's side (senders retry 5xx, so nothing
 * is lost once it is fixed), 503 the replay store is full.
 */
export class WebhookRejection extends Error {
	constructor(
		readonly status: 400 | 401 | 409 | 413 | 500 | 503,
		message: string,
	) {
		super(message);
		this.name = 'WebhookRejection';
	}
}

/**
 * Answers the request directly and tells n8n not to start an execution. Throwing from webhook()
 * instead would make n8n record a failed execution for every forged or malformed request.
 */
export function refuse(ctx: IWebhookFunctions, rejection: WebhookRejection): IWebhookResponseData {
	ctx.logger.warn(
		`${ctx.getNode().name} (workflow ${ctx.getWorkflow().id}) refused a request with ` +
			`${rejection.status}: ${rejection.message}`,
	);
	const res = ctx.getResponseObject();
	res.status(rejection.status).json({ error: rejection.message });
	return { noWebhookResponse: true };
}

/**
 * The trigger's credential of this type, or a 503 the sender retries when n8n cannot read it (e.g.
 * while n8n is still starting): throwing from webhook() would make n8n record a failed execution
 * for every such request.
 */
export async function credentialsOrRefuse(
	ctx: IWebhookFunctions,
	type: string,
	what: string,
): Promise<ICredentialDataDecryptedObject> {
	try {
		return await ctx.getCredentials(type);
	} catch (error) {
		throw new WebhookRejection(
			503,
			`The trigger could not read its ${what} (${(error as Error).message}); the sender retries`,
		);
	}
}

/** The body bytes n8n read from the socket (decompressed, otherwise untouched). */
export async function readRawBody(ctx: IWebhookFunctions, maxBytes: number): Promise<Buffer> {
	const req = ctx.getRequestObject();
	if (!Buffer.isBuffer(req.rawBody) && typeof req.readRawBody === 'function')
		await req.readRawBody();
	const raw: unknown = req.rawBody;
	if (!Buffer.isBuffer(raw)) {
		throw new WebhookRejection(
			400,
			'The request body could not be read: send JSON (Content-Type: application/json), not a ' +
				'multipart form',
		);
	}
	if (raw.length > maxBytes) {
		throw new WebhookRejection(
			413,
			`The request body is ${raw.length} bytes, ` +
				`over the limit of ${maxBytes} bytes set on the trigger`,
		);
	}
	return raw;
}

export function parseJsonBody(raw: Buffer): unknown {
	const text = raw.toString('utf8').replace(/^\uFEFF/, '');
	if (text.trim() === '')
		throw new WebhookRejection(400, 'The request body is empty; expected a JSON document');
	try {
		return JSON.parse(text);
	} catch (error) {
		throw new WebhookRejection(
			400,
			`The request body is not valid JSON (${(error as Error).message})`,
		);
	}
}

/** One header's value, whatever its case; the first one when repeated. */
export function headerValue(ctx: IWebhookFunctions, name: string): string | undefined {
	const value = ctx.getHeaderData()[name.toLowerCase()];
	const first = Array.isArray(value) ? value[0] : value;
	return typeof first === 'string' && first.trim() !== '' ? first.trim() : undefined;
}

export function hmacSha256Hex(secret: string, ...parts: Array<string | Buffer>): string {
	const hmac = createHmac('sha256', secret);
	for (const part of parts) hmac.update(part);
	return hmac.digest('hex');
}

/**
 * Compares two hex digests in constant time (digests have a fixed length, so comparing lengths
 * first leaks nothing).
 */
function sameDigest(expectedHex: string, providedHex: string): boolean {
	const expected = Buffer.from(expectedHex, 'utf8');
	const provided = Buffer.from(providedHex.toLowerCase(), 'utf8');
	return expected.length === provided.length && timingSafeEqual(expected, provided);
}

/**
 * True when any provided signature matches any expected one. Every pair is compared so that the
 * time taken does not reveal which secret or which position matched (rotation sends one signature
 * per active secret).
 */
export function anySignatureMatches(expectedHex: string[], providedHex: string[]): boolean {
	let matched = false;
	for (const expected of expectedHex) {
		for (const provided of providedHex) {
			if (sameDigest(expected, provided)) matched = true;
		}
	}
	return matched;
}

/**
 * Compares a presented secret with the configured ones through their SHA-256, so neither length nor
 * content leaks.
 */
export function secretMatches(presented: string, secrets: string[]): boolean {
	const presentedDigest = createHash('sha256').update(presented).digest();
	let matched = false;
	for (const secret of secrets) {
		const digest = createHash('sha256').update(secret).digest();
		if (timingSafeEqual(presentedDigest, digest)) matched = true;
	}
	return matched;
}

/**
 * Keys seen recently, each remembered for its own time to live and never evicted before it expires:
 * delivery ids for deduplicating at-least-once deliveries, and signed requests for refusing
 * replays. Evicting a live key early would let its replay through, so a full store refuses new keys
 * instead. Held in memory by the node module, so it covers one n8n process (main or webhook
 * process).
 */
export class RecentKeys {
	private readonly expiresAt = new Map<string, number>();

	constructor(private readonly maxEntries: number) {}

	/** Records the key until `now + ttlMs`: 'new', 'seen' (recorded and not expired) or 'full'. */
	remember(key: string, ttlMs: number, now = Date.now()): 'new' | 'seen' | 'full' {
		const expires = this.expiresAt.get(key);
		if (expires !== undefined && expires > now) return 'seen';
		if (this.expiresAt.size >= this.maxEntries) this.forgetExpired(now);
		if (this.expiresAt.size >= this.maxEntries) return 'full';
		this.expiresAt.set(key, now + ttlMs);
		return 'new';
	}

	/** Forgets the key at once, e.g. for a request n8n did not take. */
	forget(key: string): void {
		this.expiresAt.delete(key);
	}

	private forgetExpired(now: number): void {
		for (const [key, expires] of this.expiresAt) if (expires <= now) this.expiresAt.delete(key);
	}
}

/** The parts of n8n's response object (Express, on Node's ServerResponse) that tell whether, and
 * how, the request was answered. */
export interface AnsweredResponse {
	statusCode: number;
	writableFinished: boolean;
	once(event: 'finish' | 'close', listener: () => void): unknown;
}

/**
 * A request remembered as received (replay protection, delivery deduplication) is forgotten when
 * n8n does not take it: any answer but 2xx, or the connection closed before the answer. The
 * sender's retry is then accepted instead of refused as a replay or skipped as a duplicate, so a
 * refused execution loses no event.
 */
export function forgetUnlessTaken(response: AnsweredResponse, forget: () => unknown): void {
	let settled = false;
	const settle = () => {
		if (settled) return;
		settled = true;
		const taken =
			response.writableFinished && response.statusCode >= 200 && response.statusCode < 300;
		if (!taken) void Promise.resolve(forget()).catch(() => undefined);
	};
	response.once('finish', settle);
	response.once('close', settle);
}
