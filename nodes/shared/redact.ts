/**
 * Removes credentials from text a provider sent back, before it reaches an n8n error or an output
 * item. Providers echo requests in their errors: a proxy repeats the Authorization header, AWS's
 * signature-mismatch message quotes the canonical request with its x-amz-security-token line.
 */

const REDACTED = '[redacted]';

/**
 * Headers and fields whose value is a secret, as `name: value`, `name=value` or `"name":"value"`.
 */
const SECRET_FIELD_NAMES = [
	'authorization',
	'proxy-authorization',
	'x-amz-security-token',
	'x-amz-signature',
	'x-amz-credential',
	'x-auth-key',
	'x-auth-token',
	'x-api-key',
	'x-ovh-signature',
	'x-ovh-consumer',
	'x-ovh-application',
	'api[-_]?key',
	'api[-_]?token',
	'access[-_]?token',
	'secret[-_]?access[-_]?key',
	'session[-_]?token',
	'consumer[-_]?key',
	'application[-_]?secret',
	'password',
	'secret',
].join('|');
const SECRET_FIELD = new RegExp(
	`\\b(${SECRET_FIELD_NAMES})(["']?\\s*[:=]\\s*["']?)` +
		'(?:(?:bearer|basic|token|aws4-hmac-sha256)\\s+)?[^\\s"\',;&}]+',
	'gi',
);

const SECRET_PATTERNS: Array<[RegExp, string]> = [
	[SECRET_FIELD, `$1$2${REDACTED}`],
	// An authorization scheme and its credential, wherever it appears.
	[/\b(Bearer|Basic)\s+[\w.~+/=-]{8,}/g, `$1 ${REDACTED}`],
	[/\bToken token=[^\s"',;]+/g, `Token token=${REDACTED}`],
	// SigV4 parts and AWS access key ids.
	[/\b(Credential|Signature|SignedHeaders)=[^\s"',;&]+/g, `$1=${REDACTED}`],
	[/\b(?:AKIA|ASIA)[A-Z0-9]{16}\b/g, REDACTED],
];

/**
 * `text` without any credential value in `secrets` and without anything that looks like a secret
 * header.
 */
export function redact(text: string, secrets: readonly string[] = []): string {
	let result = text;
	for (const secret of secrets) {
		if (secret.length >= 6) result = result.split(secret).join(REDACTED);
	}
	for (const [pattern, replacement] of SECRET_PATTERNS)
		result = result.replace(pattern, replacement);
	return result;
}

/** Credential fields that are not secret (where to connect, which account). */
const PUBLIC_FIELDS = new Set(['baseUrl', 'endpoint', 'accountId', 'region']);

/** Every secret string value of a credential, for redact(). */
export function secretsOf(credentials: Record<string, unknown>): string[] {
	return Object.entries(credentials)
		.filter(([name, value]) => !PUBLIC_FIELDS.has(name) && typeof value === 'string')
		.map(([, value]) => (value as string).trim())
		.filter((value) => value.length >= 6);
}
