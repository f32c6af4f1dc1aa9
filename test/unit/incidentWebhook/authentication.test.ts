import type { ICredentialTestFunctions } from 'n8n-workflow';

import type { TriggerOptions } from '../../helpers/runWebhook';
import {
	PREVIOUS_SECRET,
	SECRET,
	postRaw,
	sign,
	trigger,
	unixNow,
	webhookOptions,
} from './fixture';

const event = JSON.stringify({ action: 'open', incidentId: 'INC-1', scope: '203.0.113.0/24' });
const post = (options: TriggerOptions, headers: Record<string, string>, rawBody = event) =>
	postRaw(options, rawBody, headers);

describe('Incident Webhook Trigger: HMAC signature over the raw body (Replay Protection off)', () => {
	it('accepts the hex HMAC-SHA256 of the body, with or without the sha256= prefix', async () => {
		const options = webhookOptions({ freshness: 'off' });
		expect(
			(await post(options, { 'X-Signature-256': `sha256=${sign(SECRET, event)}` })).items,
		).toHaveLength(1);
		expect((await post(options, { 'X-Signature-256': sign(SECRET, event) })).items).toHaveLength(1);
	});

	it('reads the signature from the configured header', async () => {
		const options = webhookOptions({ signatureHeader: 'X-Hub-Signature-256', freshness: 'off' });
		expect(
			(await post(options, { 'x-hub-signature-256': `sha256=${sign(SECRET, event)}` })).status,
		).toBe(200);
		expect(
			(await post(options, { 'X-Signature-256': `sha256=${sign(SECRET, event)}` })).status,
		).toBe(401);
	});

	it('accepts the previous secret during a rotation', async () => {
		expect(
			(
				await post(webhookOptions({ freshness: 'off' }), {
					'X-Signature-256': sign(PREVIOUS_SECRET, event),
				})
			).status,
		).toBe(200);
	});

	it.each([
		['no signature header', {}],
		[
			'a signature made with another secret',
			{ 'X-Signature-256': sign('another-secret-of-sufficient-length!!', event) },
		],
		['a signature of a different body', { 'X-Signature-256': sign(SECRET, `${event} `) }],
		['an empty signature', { 'X-Signature-256': 'sha256=' }],
	])('refuses %s with 401 and starts nothing', async (_case, headers) => {
		const outcome = await post(webhookOptions({ freshness: 'off' }), headers);
		expect(outcome).toMatchObject({ status: 401, items: undefined });
		expect(JSON.stringify(outcome.responseBody)).not.toContain(SECRET);
	});
});

describe('Incident Webhook Trigger: timestamped signatures and replays', () => {
	const options = () =>
		webhookOptions({ timestampHeader: 'X-Signature-Timestamp', replayWindow: 300 });
	const signedAt = (timestamp: string, body = event) => ({
		'X-Signature-Timestamp': timestamp,
		'X-Signature-256': `sha256=${sign(SECRET, `${timestamp}.${body}`)}`,
	});

	it('accepts a signature of "<timestamp>.<body>" within the window', async () => {
		expect((await post(options(), signedAt(unixNow()))).items).toHaveLength(1);
	});

	it('refuses the same signed request a second time (replay)', async () => {
		const shared = options();
		const headers = signedAt(unixNow());
		expect((await post(shared, headers)).status).toBe(200);
		expect(await post(shared, headers)).toMatchObject({
			status: 409,
			items: undefined,
			responseBody: { error: expect.stringContaining('replay') },
		});
	});

	it('refuses a correctly signed timestamp outside the replay window', async () => {
		const old = String(Math.floor(Date.now() / 1000) - 301);
		expect(await post(options(), signedAt(old))).toMatchObject({ status: 401, items: undefined });
	});

	it('refuses a body-only signature when a timestamp is required', async () => {
		expect(
			(
				await post(options(), {
					'X-Signature-256': sign(SECRET, event),
					'X-Signature-Timestamp': unixNow(),
				})
			).status,
		).toBe(401);
	});

	it('refuses a request without the timestamp header', async () => {
		expect(
			(await post(options(), { 'X-Signature-256': sign(SECRET, `${unixNow()}.${event}`) })).status,
		).toBe(401);
	});

	it('refuses a timestamp moved forward after signing', async () => {
		const timestamp = unixNow();
		const headers = {
			...signedAt(timestamp),
			'X-Signature-Timestamp': String(Number(timestamp) + 1),
		};
		expect((await post(options(), headers)).status).toBe(401);
	});
});

describe('Incident Webhook Trigger: Bearer secret', () => {
	const options = () => webhookOptions({ authentication: 'bearerSecret' });

	it(
		'accepts "Authorization: Bearer <secret>" (what Alertmanager sends with ' +
			'http_config.authorization)',
		async () => {
			expect((await post(options(), { Authorization: `Bearer ${SECRET}` })).items).toHaveLength(1);
		},
	);

	it.each([
		['no Authorization header', {}],
		['a wrong secret', { Authorization: 'Bearer not-the-secret' }],
		['the secret without the Bearer scheme', { Authorization: SECRET }],
	])('refuses %s with 401', async (_case, headers) => {
		expect(await post(options(), headers)).toMatchObject({ status: 401, items: undefined });
	});
});

describe('Incident Webhook Trigger: no authentication', () => {
	it('accepts unsigned requests only when authentication is explicitly None', async () => {
		expect((await post(webhookOptions({ authentication: 'none' }), {})).items).toHaveLength(1);
		expect((await post(webhookOptions(), {})).status).toBe(401);
	});
});

describe('Incident Webhook Secret credential test', () => {
	const test = (data: Record<string, string>) =>
		trigger.methods.credentialTest.incidentWebhookSecretTest.call({} as ICredentialTestFunctions, {
			id: '1',
			name: 'secret',
			type: 'incidentWebhookSecretApi',
			data,
		});

	it('accepts a long secret and an empty previous secret', async () => {
		expect(await test({ secret: SECRET, previousSecret: '' })).toMatchObject({ status: 'OK' });
	});

	it('refuses a short secret or one with surrounding whitespace', async () => {
		expect(await test({ secret: 'short' })).toMatchObject({
			status: 'Error',
			message: expect.stringContaining('at least 32'),
		});
		expect(await test({ secret: ` ${SECRET}` })).toMatchObject({
			status: 'Error',
			message: expect.stringContaining('whitespace'),
		});
		expect(await test({ secret: SECRET, previousSecret: 'short' })).toMatchObject({
			status: 'Error',
			message: expect.stringContaining('Previous Secret'),
		});
	});
});

describe('Incident Webhook Trigger: the secret is re-read at most a second late', () => {
	const NEW_SECRET = 'e4b6d8f0a2c4e6b8d0f1a3c5e7b9d2f7c1e9a3f5b0d2e4f6a8c0b2d5d2f8a1c3';
	const body = JSON.stringify({ action: 'open', incidentId: 'INC-R', scope: '203.0.113.0/24' });
	const bearer = (options: TriggerOptions, secret: string) =>
		postRaw(options, body, { authorization: `Bearer ${secret}` });

	it('refuses the replaced secret once a second has passed since the credential was read', async () => {
		const options = webhookOptions({
			authentication: 'bearerSecret',
			options: { batchWindowMs: 0 },
		});
		expect((await bearer(options, SECRET)).status).toBe(200);
		options.credentials = { incidentWebhookSecretApi: { secret: NEW_SECRET, previousSecret: '' } };
		// Within the second the secrets read for the previous request still apply.
		expect((await bearer(options, SECRET)).status).toBe(200);
		await new Promise((resolve) => setTimeout(resolve, 1_100));
		expect((await bearer(options, SECRET)).status).toBe(401);
		expect((await bearer(options, NEW_SECRET)).status).toBe(200);
	});
});

describe('Incident Webhook Trigger: a credential n8n cannot read', () => {
	it('answers 503 so the sender retries, and starts no execution', async () => {
		const options = { ...webhookOptions({ authentication: 'bearerSecret' }), credentials: {} };
		const outcome = await post(options, { authorization: `Bearer ${SECRET}` });
		expect(outcome.status).toBe(503);
		expect(outcome.items).toBeUndefined();
		expect(JSON.stringify(outcome.responseBody)).toContain('could not read its shared secret');
	});
});
