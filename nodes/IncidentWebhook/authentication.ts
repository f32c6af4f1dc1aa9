import { createHash } from 'node:crypto';
import type { IWebhookFunctions } from 'n8n-workflow';

import {
	WebhookRejection,
	credentialsOrRefuse,
	anySignatureMatches,
	headerValue,
	hmacSha256Hex,
	secretMatches,
} from './webhookRequest';
import { processMemory } from '../shared/processMemory';
import { recentlyRead } from './recentCredentials';
import { type ReplayCache, forgetShared, rememberShared } from './replayCache';

/**
 * Who may start an incident: a sender holding the shared secret, proven either by an HMAC-SHA256
 * signature over the raw body or by presenting it as a Bearer token.
 *
 * Signed string with freshness (the default): `<timestamp>.<raw body>`, where <timestamp> is the
 * timestamp header's value exactly as sent (Unix seconds); without freshness (an explicit choice):
 * the raw body bytes.
 */

export type AuthenticationMethod = 'hmacSignature' | 'bearerSecret' | 'none';

/** Below this a secret can be guessed offline from one captured signature. */
export const MIN_SECRET_LENGTH = 32;

export const DEFAULT_TIMESTAMP_HEADER = 'X-Signature-Timestamp';

const acceptedRequests = processMemory.webhookAcceptedRequests;

/** What authentication established about the request. */
export interface Authenticated {
	/** The signed timestamp (ms since the epoch) when freshness was checked. */
	signedAtMs?: number;
	/** Forgets that this signed request was received, so that its retry is accepted. */
	forget?: () => Promise<void>;
}

async function sharedSecrets(ctx: IWebhookFunctions): Promise<string[]> {
	return await recentlyRead(
		ctx,
		'incidentWebhookSecretApi',
		async () => await loadSharedSecrets(ctx),
	);
}

async function loadSharedSecrets(ctx: IWebhookFunctions): Promise<string[]> {
	const credentials = await credentialsOrRefuse(
		ctx,
		'incidentWebhookSecretApi',
		'shared secret credential',
	);
	const secrets = [credentials.secret, credentials.previousSecret].filter(
		(value): value is string => typeof value === 'string' && value !== '',
	);
	if (secrets.length === 0)
		throw new WebhookRejection(500, 'The trigger has no shared secret configured');
	if (secrets.some((secret) => secret.length < MIN_SECRET_LENGTH)) {
		throw new WebhookRejection(
			500,
			`The trigger's shared secret must be at least ${MIN_SECRET_LENGTH} characters ` +
				'(e.g. openssl rand -hex 32); requests are refused until the credential is fixed',
		);
	}
	return secrets;
}

/** A window in seconds; anything that is not a positive number (e.g. a bad expression) is the default. */
export function positiveSeconds(value: unknown, fallback: number): number {
	const seconds = Number(value);
	return Number.isFinite(seconds) && seconds > 0 ? seconds : fallback;
}

export async function authenticateRequest(
	ctx: IWebhookFunctions,
	method: AuthenticationMethod,
	rawBody: Buffer,
): Promise<Authenticated> {
	if (method === 'none') return {};
	const secrets = await sharedSecrets(ctx);
	if (method === 'bearerSecret') {
		const match = /^Bearer\s+(.+)$/i.exec(headerValue(ctx, 'authorization') ?? '');
		if (!match) throw new WebhookRejection(401, 'Missing "Authorization: Bearer <secret>" header');
		if (!secretMatches(match[1].trim(), secrets))
			throw new WebhookRejection(401, 'The Bearer secret is not the one configured on the trigger');
		return {};
	}

	const signatureHeader = String(ctx.getNodeParameter('signatureHeader', 'X-Signature-256')).trim();
	const provided = (headerValue(ctx, signatureHeader) ?? '')
		.split(',')
		.map((value) => value.trim().replace(/^sha256=/i, ''))
		.filter(Boolean);
	if (provided.length === 0) throw new WebhookRejection(401, `Missing ${signatureHeader} header`);

	if (ctx.getNodeParameter('freshness', 'required') === 'off') {
		const expected = secrets.map((secret) => hmacSha256Hex(secret, rawBody));
		if (!anySignatureMatches(expected, provided))
			throw new WebhookRejection(
				401,
				`${signatureHeader} does not match the body signed with the shared secret`,
			);
		return {};
	}

	// An empty header name (as saved before freshness became the default) means the default header.
	const timestampHeader =
		String(ctx.getNodeParameter('timestampHeader', DEFAULT_TIMESTAMP_HEADER)).trim() ||
		DEFAULT_TIMESTAMP_HEADER;
	const timestamp = headerValue(ctx, timestampHeader);
	if (!timestamp) {
		throw new WebhookRejection(
			401,
			`Missing ${timestampHeader} header: the trigger requires fresh requests (Unix seconds in ` +
				`${timestampHeader}, ${signatureHeader} = HMAC of "<timestamp>.<body>"). ` +
				'Update the sender, or set Replay Protection to Off on the trigger',
		);
	}
	if (!/^\d{1,12}$/.test(timestamp))
		throw new WebhookRejection(401, `${timestampHeader} must be Unix time in seconds`);
	const expected = secrets.map((secret) => hmacSha256Hex(secret, `${timestamp}.`, rawBody));
	if (!anySignatureMatches(expected, provided)) {
		throw new WebhookRejection(
			401,
			`${signatureHeader} does not match "<${timestampHeader}>.<body>" ` +
				'signed with the shared secret',
		);
	}
	// Checked after the signature so that an unauthenticated caller learns nothing about the clock.
	const windowSeconds = positiveSeconds(ctx.getNodeParameter('replayWindow', 300), 300);
	const signedAtMs = Number(timestamp) * 1000;
	const skew = Math.abs(Date.now() - signedAtMs) / 1000;
	if (skew > windowSeconds) {
		throw new WebhookRejection(
			401,
			`${timestampHeader} is ${Math.round(skew)} s away from n8n's clock, ` +
				`outside the ${windowSeconds} s replay window`,
		);
	}
	// Keyed on what was signed, not on the header's text: any spelling of the same signature is the
	// same request.
	const signed = createHash('sha256').update(`${timestamp}.`).update(rawBody).digest('hex');
	const key = `${ctx.getWorkflow().id}/${ctx.getNode().id}/${signed}`;
	// A request stays valid while its timestamp is within the window either side of the clock.
	const ttlMs = 2 * windowSeconds * 1000 + 1000;
	const { replayCache } = ctx.getNodeParameter('options', {}) as { replayCache?: ReplayCache };
	if (replayCache === 'redis') {
		const token = await rememberShared(ctx, key, ttlMs);
		return { signedAtMs, forget: async () => await forgetShared(ctx, key, token) };
	}
	const outcome = acceptedRequests.remember(key, ttlMs);
	if (outcome === 'seen')
		throw new WebhookRejection(409, 'This signed request was already received (replay)');
	if (outcome === 'full') {
		throw new WebhookRejection(
			503,
			'Too many signed requests within the replay window to remember them all; retry later',
		);
	}
	return { signedAtMs, forget: async () => acceptedRequests.forget(key) };
}
