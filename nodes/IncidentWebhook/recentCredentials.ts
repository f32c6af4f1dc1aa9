import type { IWebhookFunctions } from 'n8n-workflow';

import { processMemory } from '../shared/processMemory';

/**
 * n8n reads a credential from its database, decrypts it and resolves its expressions in a fresh
 * expression isolate on every getCredentials call (60-115 ms per request measured under load, the
 * same for n8n's Webhook node with Header Auth). In a storm that is most of a request's cost, so
 * what a trigger reads from a credential is reused for this long: a changed or removed credential
 * applies to requests arriving up to a second later.
 */
const CREDENTIAL_REUSE_MS = 1000;

/** What `read` got from the node's credential of this type, read again after a second. */
export async function recentlyRead<Value>(
	ctx: IWebhookFunctions,
	credentialType: string,
	read: () => Promise<Value>,
): Promise<Value> {
	const credentialId = ctx.getNode().credentials?.[credentialType]?.id;
	if (!credentialId) return await read();
	const key = `${ctx.getWorkflow().id}/${ctx.getNode().id}/${credentialType}/${credentialId}`;
	const recent = processMemory.webhookRecentCredentials.get(key);
	if (recent && performance.now() - recent.loadedAt < CREDENTIAL_REUSE_MS)
		return recent.value as Value;
	const value = await read();
	processMemory.webhookRecentCredentials.set(key, { value, loadedAt: performance.now() });
	return value;
}
