import type { IWebhookFunctions } from 'n8n-workflow';

import {
	RecentKeys,
	WebhookRejection,
	anySignatureMatches,
	headerValue,
	hmacSha256Hex,
	secretMatches,
} from './webhookRequest';

/**
 * Who may start an incident: a sender holding the shared secret, proven either by an HMAC-SHA256 signature over the
 * raw body (optionally bound to a timestamp, which makes replays detectable) or by presenting it as a Bearer token.
 *
 * Signed string: the raw body bytes; with a timestamp header, `<timestamp>.<raw body>` where <timestamp> is the
 * header's value exactly as sent (Unix seconds).
 */

export type AuthenticationMethod = 'hmacSignature' | 'bearerSecret' | 'none';

/** Signatures accepted with a timestamp, remembered for twice the largest window so none can be used twice. */
const acceptedSignatures = new RecentKeys(20_000, 2 * 24 * 60 * 60 * 1000);

async function sharedSecrets(ctx: IWebhookFunctions): Promise<string[]> {
	const credentials = await ctx.getCredentials('incidentWebhookSecretApi');
	const secrets = [credentials.secret, credentials.previousSecret].filter(
		(value): value is string => typeof value === 'string' && value !== '',
	);
	if (secrets.length === 0) {
		ctx.logger.warn(
			`Incident Webhook Trigger "${ctx.getNode().name}" refused a request: its credential has no secret`,
		);
		throw new WebhookRejection(401, 'The trigger has no shared secret configured');
	}
	return secrets;
}

export async function authenticateRequest(
	ctx: IWebhookFunctions,
	method: AuthenticationMethod,
	rawBody: Buffer,
): Promise<void> {
	if (method === 'none') return;
	const secrets = await sharedSecrets(ctx);
	if (method === 'bearerSecret') {
		const match = /^Bearer\s+(.+)$/i.exec(headerValue(ctx, 'authorization') ?? '');
		if (!match) throw new WebhookRejection(401, 'Missing "Authorization: Bearer <secret>" header');
		if (!secretMatches(match[1].trim(), secrets))
			throw new WebhookRejection(401, 'The Bearer secret is not the one configured on the trigger');
		return;
	}

	const signatureHeader = String(ctx.getNodeParameter('signatureHeader', 'X-Signature-256')).trim();
	const timestampHeader = String(ctx.getNodeParameter('timestampHeader', '')).trim();
	const provided = (headerValue(ctx, signatureHeader) ?? '')
		.split(',')
		.map((value) => value.trim().replace(/^sha256=/i, ''))
		.filter(Boolean);
	if (provided.length === 0) throw new WebhookRejection(401, `Missing ${signatureHeader} header`);

	if (!timestampHeader) {
		const expected = secrets.map((secret) => hmacSha256Hex(secret, rawBody));
		if (!anySignatureMatches(expected, provided))
			throw new WebhookRejection(
				401,
				`${signatureHeader} does not match the body signed with the shared secret`,
			);
		return;
	}

	const timestamp = headerValue(ctx, timestampHeader);
	if (!timestamp) throw new WebhookRejection(401, `Missing ${timestampHeader} header`);
	if (!/^\d{1,12}$/.test(timestamp))
		throw new WebhookRejection(401, `${timestampHeader} must be Unix time in seconds`);
	const expected = secrets.map((secret) => hmacSha256Hex(secret, `${timestamp}.`, rawBody));
	if (!anySignatureMatches(expected, provided)) {
		throw new WebhookRejection(
			401,
			`${signatureHeader} does not match "<${timestampHeader}>.<body>" signed with the shared secret`,
		);
	}
	// Checked after the signature so that an unauthenticated caller learns nothing about the clock.
	const windowSeconds = Number(ctx.getNodeParameter('replayWindow', 300));
	const skew = Math.abs(Date.now() / 1000 - Number(timestamp));
	if (skew > windowSeconds) {
		throw new WebhookRejection(
			401,
			`${timestampHeader} is ${Math.round(skew)} s away from n8n's clock, outside the ${windowSeconds} s replay window`,
		);
	}
	const replayKey = `${ctx.getWorkflow().id}/${ctx.getNode().id}/${timestamp}/${provided.join(',')}`;
	if (acceptedSignatures.checkAndRemember(replayKey))
		throw new WebhookRejection(401, 'This signed request was already received (replay)');
}
