import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';

/**
 * Keeps the subscription's signing secret out of clear workflow static data: AES-256-GCM with a key
 * derived (HKDF) from the credential's API token and the trigger's identity. Reading the database
 * or an exported workflow is not enough to forge deliveries; whoever can use the credential can
 * also create a subscription of their own anyway. Rotating the API token makes the stored secret
 * unreadable: the next subscription check replaces the subscription, which brings a new secret.
 */

export interface SealedSecret {
	/** base64 of iv (12 bytes) | tag (16 bytes) | ciphertext. */
	sealed: string;
	/** Tells a secret sealed under another key (another credential) from a damaged one. */
	keyId: string;
}

function keyFor(apiToken: string, owner: string): Buffer {
	return Buffer.from(
		hkdfSync('sha256', apiToken, 'n8n-nodes-ddos-mitigation/pagerduty-signing-secret', owner, 32),
	);
}

const keyIdOf = (key: Buffer) =>
	createHmac('sha256', key).update('key-id').digest('hex').slice(0, 16);

export function sealSecret(secret: string, apiToken: string, owner: string): SealedSecret {
	const key = keyFor(apiToken, owner);
	const iv = randomBytes(12);
	const cipher = createCipheriv('aes-256-gcm', key, iv);
	const ciphertext = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
	return {
		sealed: Buffer.concat([iv, cipher.getAuthTag(), ciphertext]).toString('base64'),
		keyId: keyIdOf(key),
	};
}

/**
 * The secret, 'other-key' when it was sealed with another credential, undefined when unreadable.
 */
export function openSecret(
	box: SealedSecret,
	apiToken: string,
	owner: string,
): string | 'other-key' | undefined {
	const key = keyFor(apiToken, owner);
	if (box.keyId !== keyIdOf(key)) return 'other-key';
	try {
		const raw = Buffer.from(box.sealed, 'base64');
		const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
		decipher.setAuthTag(raw.subarray(12, 28));
		return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
	} catch {
		return undefined;
	}
}
