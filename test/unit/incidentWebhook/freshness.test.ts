import type { TriggerOptions } from '../../helpers/runWebhook';
import {
	SECRET,
	fixture,
	freshHeaders,
	postRaw,
	postSigned,
	sign,
	unixNow,
	webhookOptions,
} from './fixture';

const event = JSON.stringify({ action: 'resolve', incidentId: 'INC-1', scope: '203.0.113.10' });
const post = (options: TriggerOptions, headers: Record<string, string>, rawBody = event) =>
	postRaw(options, rawBody, headers);

describe('Incident Webhook Trigger: freshness is on by default', () => {
	it('refuses a body-only signature when nothing was configured, naming the timestamp header', async () => {
		const outcome = await post(webhookOptions(), { 'X-Signature-256': sign(SECRET, event) });
		expect(outcome).toMatchObject({ status: 401, items: undefined });
		expect((outcome.responseBody as { error: string }).error).toContain('X-Signature-Timestamp');
	});

	it('accepts "<X-Signature-Timestamp>.<body>" signed with the secret, with no parameter set', async () => {
		expect((await post(webhookOptions(), freshHeaders(event))).items).toHaveLength(1);
	});

	it('refuses a day-old signed unban (the replay that withdrew mitigation during a new attack)', async () => {
		const dayOld = String(Math.floor(Date.now() / 1000) - 24 * 3600);
		const outcome = await post(webhookOptions(), freshHeaders(event, dayOld));
		expect(outcome).toMatchObject({ status: 401, items: undefined });
		expect(outcome.warnings.join(' ')).toContain('replay window');
	});

	it('keeps the default window when the Replay Window is not a number (e.g. a bad expression)', async () => {
		const dayOld = String(Math.floor(Date.now() / 1000) - 24 * 3600);
		const outcome = await post(
			webhookOptions({ replayWindow: 'soon' }),
			freshHeaders(event, dayOld),
		);
		expect(outcome).toMatchObject({ status: 401, items: undefined });
	});

	it('accepts a body-only signature only when freshness is explicitly off', async () => {
		const options = webhookOptions({ freshness: 'off' });
		expect((await post(options, { 'X-Signature-256': sign(SECRET, event) })).items).toHaveLength(1);
	});
});

describe('Incident Webhook Trigger: a signed request n8n did not take is not a replay', () => {
	it('accepts the retry of a request n8n answered 503 (no execution), then refuses its replay', async () => {
		const headers = freshHeaders(event);
		const options = webhookOptions();
		const refused = await post({ ...options, startAnswer: 503 }, headers);
		expect(refused.status).toBe(503);

		const retry = await post(options, headers);
		expect(retry).toMatchObject({ status: 200 });
		expect(retry.items).toHaveLength(1);
		expect((await post(options, headers)).status).toBe(409);
	});
});

describe('Incident Webhook Trigger: a signed request is accepted once, whatever the header looks like', () => {
	const variants: Array<[string, (signature: string) => string]> = [
		['the same header', (signature) => `sha256=${signature}`],
		['upper-case hex', (signature) => `sha256=${signature.toUpperCase()}`],
		['the signature repeated', (signature) => `sha256=${signature},sha256=${signature}`],
		['an extra junk value', (signature) => `sha256=${signature},junk`],
		['no prefix', (signature) => signature],
	];

	it.each(variants)('refuses a replay sent with %s (409, no execution)', async (_case, vary) => {
		const options = webhookOptions();
		const timestamp = unixNow();
		const signature = sign(SECRET, `${timestamp}.${event}`);
		const first = await post(options, {
			'X-Signature-Timestamp': timestamp,
			'X-Signature-256': `sha256=${signature}`,
		});
		expect(first.items).toHaveLength(1);
		const replay = await post(options, {
			'X-Signature-Timestamp': timestamp,
			'X-Signature-256': vary(signature),
		});
		expect(replay).toMatchObject({ status: 409, items: undefined });
		expect((replay.responseBody as { error: string }).error).toContain('already received');
	});

	it('one signed request starts one execution even when sent five times in a row with variations', async () => {
		const options = webhookOptions();
		const timestamp = unixNow();
		const signature = sign(SECRET, `${timestamp}.${event}`);
		const headers = variants.map(([, vary]) => ({
			'X-Signature-Timestamp': timestamp,
			'X-Signature-256': vary(signature),
		}));
		const outcomes = await Promise.all(headers.map((h) => post(options, h)));
		expect(outcomes.filter((outcome) => outcome.items !== undefined)).toHaveLength(1);
	});
});

describe('Incident Webhook Trigger: secrets too short to be safe are refused at runtime', () => {
	it.each(['hmacSignature', 'bearerSecret'])(
		'refuses every request (500, no execution) with %s and a 1-character secret',
		async (authentication) => {
			const options = webhookOptions({ authentication });
			options.credentials = { incidentWebhookSecretApi: { secret: 'x', previousSecret: '' } };
			const outcome = await post(options, {
				...freshHeaders(event, unixNow(), 'x'),
				authorization: 'Bearer x',
			});
			expect(outcome).toMatchObject({ status: 500, items: undefined });
			expect((outcome.responseBody as { error: string }).error).toContain('at least 32 characters');
			expect(outcome.warnings.join(' ')).toContain('at least 32 characters');
		},
	);
});

describe('Incident Webhook Trigger: no incident refused for its size', () => {
	const alerts = (count: number) => {
		const notification = JSON.parse(fixture('alertmanager-firing.json'));
		const [template] = notification.alerts;
		notification.alerts = Array.from({ length: count }, (_, i) => ({
			...template,
			labels: { ...template.labels, prefix: `10.${i >> 8}.${i & 255}.0/24` },
			fingerprint: `fp${String(i).padStart(14, '0')}`,
		}));
		return JSON.stringify(notification);
	};

	it('accepts a 600-alert Alertmanager group (over 256 KB) as 600 events', async () => {
		const body = alerts(600);
		expect(body.length).toBeGreaterThan(256 * 1024);
		const outcome = await postSigned(webhookOptions({ format: 'alertmanager' }), body);
		expect(outcome.status).toBe(200);
		expect(outcome.items).toHaveLength(600);
	});

	it('accepts a 5,000-alert group', async () => {
		const outcome = await postSigned(webhookOptions({ format: 'alertmanager' }), alerts(5000));
		expect(outcome.items).toHaveLength(5000);
	});

	it('refuses a group over the documented hard cap of 10,000 events, and logs why', async () => {
		const outcome = await postSigned(webhookOptions({ format: 'alertmanager' }), alerts(10_001));
		expect(outcome).toMatchObject({ status: 413, items: undefined });
		expect(outcome.warnings.join(' ')).toContain('10000');
	});
});

describe('Incident Webhook Trigger: every refusal is logged with its reason', () => {
	it('logs a forged signature, naming the trigger and the reason but not the secret', async () => {
		const outcome = await post(webhookOptions(), {
			...freshHeaders(event),
			'X-Signature-256': 'sha256=' + '0'.repeat(64),
		});
		expect(outcome.status).toBe(401);
		expect(outcome.warnings).toEqual([expect.stringContaining('does not match')]);
		expect(outcome.warnings.join(' ')).not.toContain(SECRET);
	});

	it('logs a malformed body', async () => {
		const outcome = await postSigned(webhookOptions(), JSON.stringify({ action: 'open' }));
		expect(outcome.status).toBe(400);
		expect(outcome.warnings).toEqual([expect.stringContaining('incidentId: Required')]);
	});
});

describe('Incident Webhook Trigger: occurredAt on every event', () => {
	it("takes an Alertmanager alert's startsAt when firing and endsAt when resolved", async () => {
		const options = webhookOptions({ format: 'alertmanager' });
		const firing = await postSigned(options, fixture('alertmanager-firing.json'));
		expect(firing.items?.[0].occurredAt).toBe('2024-05-14T09:41:03.123Z');
		const resolved = await postSigned(options, fixture('alertmanager-resolved.json'));
		expect(resolved.items?.[0].occurredAt).toBe('2024-05-14T10:02:33.000Z');
	});

	it("keeps a normalized event's own occurredAt", async () => {
		const body = JSON.stringify({
			action: 'open',
			incidentId: 'a',
			occurredAt: '2026-01-02T03:04:05Z',
		});
		expect((await postSigned(webhookOptions(), body)).items?.[0].occurredAt).toBe(
			'2026-01-02T03:04:05Z',
		);
	});

	it('uses the signed timestamp for FastNetMon, whose JSON carries no attack time', async () => {
		const body = fixture('fastnetmon-ban.json');
		const timestamp = String(Math.floor(Date.now() / 1000) - 20);
		const outcome = await post(
			webhookOptions({ format: 'fastnetmon' }),
			freshHeaders(body, timestamp),
			body,
		);
		expect(outcome.items?.[0].occurredAt).toBe(new Date(Number(timestamp) * 1000).toISOString());
	});

	it('uses the receipt time when the sender gives no time at all', async () => {
		const before = Date.now();
		const outcome = await post(
			webhookOptions({ authentication: 'bearerSecret', format: 'fastnetmon' }),
			{ authorization: `Bearer ${SECRET}` },
			fixture('fastnetmon-unban.json'),
		);
		const occurredAt = Date.parse(String(outcome.items?.[0].occurredAt));
		expect(occurredAt).toBeGreaterThanOrEqual(before - 1);
		expect(occurredAt).toBeLessThanOrEqual(Date.now());
	});
});
