import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IWebhookFunctions, IWebhookResponseData } from 'n8n-workflow';

/**
 * Request handling shared by both triggers: the raw body exactly as sent (signatures are computed over it, never
 * over re-serialized JSON), constant-time secret checks, and refusals that start no execution.
 */

/** A refused delivery: answered with this status and a message that never contains a secret. */
export class WebhookRejection extends Error {
	constructor(
		/** 400 for bad input (the rule, oversized bodies included), 401 for failed authentication. */
		readonly status: 400 | 401,
		message: string,
	) {
		super(message);
		this.name = 'WebhookRejection';
	}
}

/**
 * Answers the request directly and tells n8n not to start an execution. Throwing from webhook() instead would make
 * n8n record a failed execution for every forged or malformed request.
 */
export function refuse(ctx: IWebhookFunctions, rejection: WebhookRejection): IWebhookResponseData {
	const res = ctx.getResponseObject();
	res.status(rejection.status).json({ error: rejection.message });
	return { noWebhookResponse: true };
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
			'The request body could not be read: send JSON (Content-Type: application/json), not a multipart form',
		);
	}
	if (raw.length > maxBytes) {
		throw new WebhookRejection(
			400,
			`The request body is ${raw.length} bytes, over the limit of ${maxBytes} bytes set on the trigger`,
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

/** Compares two hex digests in constant time (digests have a fixed length, so comparing lengths first leaks nothing). */
function sameDigest(expectedHex: string, providedHex: string): boolean {
	const expected = Buffer.from(expectedHex, 'utf8');
	const provided = Buffer.from(providedHex.toLowerCase(), 'utf8');
	return expected.length === provided.length && timingSafeEqual(expected, provided);
}

/**
 * True when any provided signature matches any expected one. Every pair is compared so that the time taken does
 * not reveal which secret or which position matched (rotation sends one signature per active secret).
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

/** Compares a presented secret with the configured ones through their SHA-256, so neither length nor content leaks. */
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
 * Keys seen recently, bounded in count and age: delivery ids for deduplicating at-least-once deliveries, and
 * signatures for refusing replays. Held in memory by the node module, so it covers one n8n process (main or
 * webhook process), which is where a retried delivery lands in regular mode.
 */
export class RecentKeys {
	private readonly seenAt = new Map<string, number>();

	constructor(
		private readonly maxEntries: number,
		private readonly maxAgeMs: number,
	) {}

	/** Records the key; returns true when it was already recorded within the age limit. */
	checkAndRemember(key: string, now = Date.now()): boolean {
		this.forgetOlderThan(now - this.maxAgeMs);
		const seen = this.seenAt.has(key);
		this.seenAt.delete(key);
		this.seenAt.set(key, now);
		while (this.seenAt.size > this.maxEntries) {
			const oldest = this.seenAt.keys().next().value as string;
			this.seenAt.delete(oldest);
		}
		return seen;
	}

	private forgetOlderThan(cutoff: number): void {
		for (const [key, at] of this.seenAt) {
			if (at >= cutoff) break;
			this.seenAt.delete(key);
		}
	}
}
