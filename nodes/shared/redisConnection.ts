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
