import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { IncidentWebhookTrigger } from '../../../nodes/IncidentWebhook/IncidentWebhookTrigger.node';
import { callWebhook, type TriggerOptions } from '../../helpers/runWebhook';

export const SECRET = '3f9a1c0e5b7d2f4a6c8e0b1d3f5a7c9e1b3d5f7a9c0e2b4d6f8a0c2e4b6d8f0a';
export const PREVIOUS_SECRET = 'b1d3f5a7c9e0b2d4f6a8c0e2b4d6f8a0c1e3b5d7f9a1c3e5b7d9f0a2c4e6b8d0';

export const trigger = new IncidentWebhookTrigger();

export const fixture = (name: string) =>
	readFileSync(join(__dirname, '../../fixtures', name), 'utf8');

export const sign = (secret: string, message: string) =>
	createHmac('sha256', secret).update(message).digest('hex');

export function webhookOptions(parameters: Record<string, unknown> = {}): TriggerOptions {
	return {
		parameters: { authentication: 'hmacSignature', format: 'normalized', ...parameters },
		credentials: { incidentWebhookSecretApi: { secret: SECRET, previousSecret: PREVIOUS_SECRET } },
		staticData: {},
		workflowId: `wf-${Math.random()}`,
	};
}

export const unixNow = () => String(Math.floor(Date.now() / 1000));

/**
 * What a sender using the defaults sends: Unix seconds, and the signature of "<timestamp>.<raw
 * body>".
 */
export const freshHeaders = (rawBody: string, timestamp = unixNow(), secret = SECRET) => ({
	'X-Signature-Timestamp': timestamp,
	'X-Signature-256': `sha256=${sign(secret, `${timestamp}.${rawBody}`)}`,
});

/** Posts a JSON body with exactly the headers given: signed, unsigned or forged. */
export async function postRaw(
	options: TriggerOptions,
	rawBody: string,
	headers: Record<string, string> = {},
) {
	return await callWebhook(trigger, options, {
		rawBody,
		headers: { 'content-type': 'application/json', ...headers },
	});
}

/** Posts a body signed with the shared secret as the trigger's defaults expect. */
export async function postSigned(
	options: TriggerOptions,
	rawBody: string,
	headers: Record<string, string> = {},
) {
	return await postRaw(options, rawBody, { ...freshHeaders(rawBody), ...headers });
}
