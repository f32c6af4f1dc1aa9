import type Redis from 'ioredis';
import type { ICredentialDataDecryptedObject } from 'n8n-workflow';

/**
 * n8n's built-in Redis credential, as the nodes of this package that keep state in Redis read it
 * (the Incident Gate's store, the Incident Webhook Trigger's shared replay cache).
 */
export interface RedisOptions {
	host: string;
	port: number;
	username?: string;
	password?: string;
	db: number;
	tls: boolean;
	rejectUnauthorized: boolean;
}

export function redisOptionsFromCredential(
	credential: ICredentialDataDecryptedObject,
): RedisOptions {
	return {
		host: String(credential.host || 'localhost'),
		port: Number(credential.port || 6379),
		username: credential.user ? String(credential.user) : undefined,
		password: credential.password ? String(credential.password) : undefined,
		db: Number(credential.database || 0),
		tls: credential.ssl === true,
		rejectUnauthorized: credential.disableTlsVerification !== true,
	};
}

/** ioredis options for a client that connects when told to (`connect()`), not when created. */
export function redisConnectionOptions(options: RedisOptions) {
	return {
		host: options.host,
		port: options.port,
		username: options.username,
		password: options.password,
		db: options.db,
		tls: options.tls ? { rejectUnauthorized: options.rejectUnauthorized } : undefined,
		lazyConnect: true,
	};
}

/**
 * Connects a client made with redisConnectionOptions. A failed connect disconnects it, or ioredis
 * would keep it reconnecting in the background, one more per failed event or request; it throws
 * the reason from the error event, as connect() itself only says "Connection is closed" (e.g. for
 * WRONGPASS). Later errors reach callers through the commands that fail.
 */
export async function connectRedis<Client extends Redis>(redis: Client): Promise<Client> {
	let lastError: Error | undefined;
	redis.on('error', (error: Error) => (lastError = error));
	try {
		await redis.connect();
	} catch (error) {
		redis.disconnect();
		throw lastError ?? error;
	}
	return redis;
}

/**
 * One client per server and process (ioredis reconnects on its own), not one per request; a client
 * that failed to connect is forgotten, so the next caller tries again.
 */
export async function sharedRedisClient<Client>(
	clients: Map<string, Promise<Client>>,
	options: RedisOptions,
	connect: (options: RedisOptions) => Promise<Client>,
): Promise<Client> {
	const key = JSON.stringify(options);
	let client = clients.get(key);
	if (!client) {
		client = connect(options);
		clients.set(key, client);
		client.catch(() => clients.delete(key));
	}
	return await client;
}
