import { randomUUID } from 'node:crypto';

import Redis from 'ioredis';
import type { IWebhookFunctions } from 'n8n-workflow';

import { processMemory } from '../shared/processMemory';
import { redact } from '../shared/redact';
import {
	connectRedis,
	redisConnectionOptions,
	redisOptionsFromCredential,
	sharedRedisClient,
	type RedisOptions,
} from '../shared/redisConnection';
import { recentlyRead } from './recentCredentials';
import { WebhookRejection, credentialsOrRefuse } from './webhookRequest';

/**
 * Where the keys of accepted signed requests are kept: in this n8n process, or in Redis, shared
 * by every n8n process that receives the trigger's requests (queue mode with webhook processes).
 */
export type ReplayCache = 'process' | 'redis';

/** Namespaces the keys, so that they cannot collide with n8n's own (Bull) or the gate's. */
const KEY_PREFIX = 'n8n-ddos:replay:';

const cache = processMemory.webhookReplayRedis;

async function readOptions(ctx: IWebhookFunctions): Promise<RedisOptions> {
	return await recentlyRead(ctx, 'redis', async () =>
		redisOptionsFromCredential(
			await credentialsOrRefuse(ctx, 'redis', 'Redis credential for the replay cache'),
		),
	);
}

/** Why Redis failed, as ioredis says it, without the password. */
const failureReason = (error: unknown, options: RedisOptions) =>
	redact((error as Error).message, options.password ? [options.password] : []);

/**
 * Fails a command after one reconnection attempt, so an unreachable Redis answers the sender within
 * seconds (ioredis waits at most 2 s between attempts) instead of holding its request.
 */
const connect = async (options: RedisOptions) =>
	await connectRedis(new Redis({ ...redisConnectionOptions(options), maxRetriesPerRequest: 1 }));

/** This process's client for the Redis server in `options`, shared by its requests. */
const replayClient = async (options: RedisOptions) =>
	await sharedRedisClient(cache.clients, options, connect);

/**
 * Records the key unless it is there, atomically. It holds the token of the request that recorded
 * it: ioredis sends a command again when its connection was lost before the answer, and Redis may
 * have run the first one; finding its own token, the repeat is not taken for a replay.
 */
const RECORD_ONCE = `local held = redis.call('GET', KEYS[1])
if not held then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
if held == ARGV[1] then return 1 end
return 0`;

/** Removes the key only if this request recorded it. */
const FORGET_MINE = `if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0`;

/**
 * Records a signed request in Redis for `ttlMs`, or refuses it: 409 when any process already
 * recorded it, 503 when Redis cannot say (a request is never accepted without being recorded).
 * One atomic script, so two processes receiving the same request at once accept it once. Returns
 * the token to forget it with.
 */
export async function rememberShared(
	ctx: IWebhookFunctions,
	key: string,
	ttlMs: number,
): Promise<string> {
	const options = await readOptions(ctx);
	const token = randomUUID();
	let recorded: unknown;
	let client: Redis | undefined;
	try {
		client = await replayClient(options);
		recorded = await client.eval(RECORD_ONCE, 1, `${KEY_PREFIX}${key}`, token, String(ttlMs));
	} catch (error) {
		// Redis may have recorded it before the answer was lost: the sender's retry must not find it.
		await client?.eval(FORGET_MINE, 1, `${KEY_PREFIX}${key}`, token).catch(() => undefined);
		const reason = failureReason(error, options);
		throw new WebhookRejection(
			503,
			`The trigger could not reach its Redis replay cache (${reason}); the request was not ` +
				'accepted, the sender retries',
		);
	}
	if (recorded !== 1)
		throw new WebhookRejection(409, 'This signed request was already received (replay)');
	return token;
}

/**
 * Removes what this request recorded, for one n8n did not take (its retry must be accepted). When
 * Redis cannot be reached the retry is refused as a replay until the key expires: said in n8n's log.
 */
export async function forgetShared(
	ctx: IWebhookFunctions,
	key: string,
	token: string,
): Promise<void> {
	const options = await readOptions(ctx);
	try {
		const client = await replayClient(options);
		await client.eval(FORGET_MINE, 1, `${KEY_PREFIX}${key}`, token);
	} catch (error) {
		const reason = failureReason(error, options);
		ctx.logger.warn(
			`Incident Webhook Trigger "${ctx.getNode().name}": n8n did not take a signed request and ` +
				`its Redis replay cache could not forget it (${reason}); the sender's retry is refused ` +
				'as a replay until the Replay Window has passed twice',
		);
	}
}
