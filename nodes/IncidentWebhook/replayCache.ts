import Redis from 'ioredis';
import type { IWebhookFunctions } from 'n8n-workflow';

import { processMemory } from '../shared/processMemory';
import { redact } from '../shared/redact';
import {
	redisConnectionOptions,
	redisOptionsFromCredential,
	type RedisOptions,
} from '../shared/redisConnection';
import { WebhookRejection, credentialsOrRefuse } from './webhookRequest';

/**
 * Where the keys of accepted signed requests are kept: in this n8n process, or in Redis, shared
 * by every n8n process that receives the trigger's requests (queue mode with webhook processes).
 */
export type ReplayCache = 'process' | 'redis';

/** Namespaces the keys, so that they cannot collide with n8n's own (Bull) or the gate's. */
const KEY_PREFIX = 'n8n-ddos:replay:';

/** As for the shared secret: n8n's credential read is most of a request's cost in a storm. */
const OPTIONS_REUSE_MS = 1000;

const cache = processMemory.webhookReplayRedis;

async function readOptions(ctx: IWebhookFunctions): Promise<RedisOptions> {
	const credentialId = ctx.getNode().credentials?.redis?.id;
	const key = `${ctx.getWorkflow().id}/${ctx.getNode().id}/${credentialId}`;
	const recent = credentialId ? cache.recentOptions.get(key) : undefined;
	if (recent && performance.now() - recent.loadedAt < OPTIONS_REUSE_MS) return recent.options;
	const options = redisOptionsFromCredential(
		await credentialsOrRefuse(ctx, 'redis', 'Redis credential for the replay cache'),
	);
	if (credentialId) cache.recentOptions.set(key, { options, loadedAt: performance.now() });
	return options;
}

async function connect(options: RedisOptions): Promise<Redis> {
	// Fails a command after one reconnection attempt, so an unreachable Redis answers the sender
	// within seconds (ioredis waits at most 2 s between attempts) instead of holding its request.
	const redis = new Redis({ ...redisConnectionOptions(options), maxRetriesPerRequest: 1 });
	// Each failure reaches the sender (and n8n's log) as a 503 through the request it failed;
	// without a listener ioredis would also print every failed reconnection to the console.
	let lastError: Error | undefined;
	redis.on('error', (error: Error) => (lastError = error));
	try {
		await redis.connect();
	} catch (error) {
		// Otherwise the client would keep reconnecting in the background, one per failed request.
		redis.disconnect();
		// connect() only says "Connection is closed"; the error event says why (e.g. WRONGPASS).
		throw lastError ?? error;
	}
	return redis;
}

/** One client per server and process (ioredis reconnects on its own), not one per request. */
async function client(options: RedisOptions): Promise<Redis> {
	const key = JSON.stringify(options);
	let redis = cache.clients.get(key);
	if (!redis) {
		redis = connect(options);
		cache.clients.set(key, redis);
		redis.catch(() => cache.clients.delete(key));
	}
	return await redis;
}

/**
 * Records a signed request in Redis for `ttlMs`, or refuses it: 409 when any process already
 * recorded it, 503 when Redis cannot say (a request is never accepted without being recorded).
 * One atomic SET NX, so two processes receiving the same request at once accept it once.
 */
export async function rememberShared(
	ctx: IWebhookFunctions,
	key: string,
	ttlMs: number,
): Promise<void> {
	const options = await readOptions(ctx);
	let answer: string | null;
	try {
		answer = await (await client(options)).set(`${KEY_PREFIX}${key}`, '1', 'PX', ttlMs, 'NX');
	} catch (error) {
		const reason = redact((error as Error).message, options.password ? [options.password] : []);
		throw new WebhookRejection(
			503,
			`The trigger could not reach its Redis replay cache (${reason}); the request was not ` +
				'accepted, the sender retries',
		);
	}
	if (answer === null)
		throw new WebhookRejection(409, 'This signed request was already received (replay)');
}
