import { redact, secretsOf } from '../../../nodes/shared/redact';

describe('redaction of provider text', () => {
	it.each([
		['Invalid header Authorization: Bearer cf-token-0123456789abcdef', 'cf-token-0123456789abcdef'],
		['{"authorization":"Token token=pd-key-0123456789"}', 'pd-key-0123456789'],
		['proxy said: authorization=BasIC dXNlcjpwYXNzd29yZA==', 'dXNlcjpwYXNzd29yZA=='],
		['x-amz-security-token:FwoGZXIvYXdzEXAMPLEsessionTOKEN//0123\nx-amz-date:2026', 'FwoGZXIv'],
		[
			'Credential=AKIAIOSFODNN7EXAMPLE/20260101/us-east-1/shield/aws4_request',
			'AKIAIOSFODNN7EXAMPLE',
		],
		['Signature=0123456789abcdef0123456789abcdef', '0123456789abcdef0123456789abcdef'],
		['X-Ovh-Signature: $1$0123456789abcdef0123456789abcdef01234567', '$1$0123456789abcdef'],
	])('removes the secret from %j', (text, secret) => {
		const cleaned = redact(text);
		expect(cleaned).not.toContain(secret);
		expect(cleaned).toContain('[redacted]');
	});

	it('removes every credential value wherever it appears, and keeps the rest of the message', () => {
		const secrets = secretsOf({
			apiKey: 'VULTRKEY0123456789',
			baseUrl: 'https://api.vultr.com/v2',
		});
		expect(secrets).toEqual(['VULTRKEY0123456789']);
		expect(redact('key VULTRKEY0123456789 is not allowed from 192.0.2.1', secrets)).toBe(
			'key [redacted] is not allowed from 192.0.2.1',
		);
	});
});
