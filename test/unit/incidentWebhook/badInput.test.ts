import { fixture, postSigned, webhookOptions } from './fixture';

/**
 * Every case here is correctly signed: the refusal is about the content, answered 400 with the
 * field named.
 */
async function refusal(parameters: Record<string, unknown>, rawBody: string) {
	const outcome = await postSigned(webhookOptions(parameters), rawBody);
	expect(outcome.status).toBe(400);
	expect(outcome.items).toBeUndefined();
	return (outcome.responseBody as { error: string }).error;
}

describe('Incident Webhook Trigger: bad input starts nothing', () => {
	it('refuses a body that is not JSON', async () => {
		expect(await refusal({}, '{"action": "open",')).toContain('not valid JSON');
	});

	it('refuses an empty body', async () => {
		expect(await refusal({}, '')).toContain('empty');
	});

	it('refuses a body over the size limit before parsing it (413)', async () => {
		const big = JSON.stringify({ action: 'open', incidentId: 'x', padding: 'a'.repeat(2048) });
		const outcome = await postSigned(webhookOptions({ options: { maxBodyKb: 1 } }), big);
		expect(outcome).toMatchObject({ status: 413, items: undefined });
		expect((outcome.responseBody as { error: string }).error).toContain(
			'over the limit of 1024 bytes',
		);
	});

	it('names a missing incidentId in a normalized event', async () => {
		expect(await refusal({}, JSON.stringify({ action: 'open' }))).toBe(
			'Not a valid incident event: incidentId: Required',
		);
	});

	it('names an unknown action in a normalized event', async () => {
		expect(await refusal({}, JSON.stringify({ action: 'start', incidentId: 'a' }))).toMatch(
			/action: must be "open", "resolve" or "update"/,
		);
	});

	it('names the position of a bad event in a list', async () => {
		const message = await refusal(
			{},
			JSON.stringify([
				{ action: 'open', incidentId: 'a' },
				{ action: 'open', incidentId: '' },
			]),
		);
		expect(message).toContain('[1].incidentId');
	});

	it('names the alert missing its fingerprint in an Alertmanager notification', async () => {
		const notification = JSON.parse(fixture('alertmanager-firing.json'));
		delete notification.alerts[1].fingerprint;
		expect(await refusal({ format: 'alertmanager' }, JSON.stringify(notification))).toContain(
			'alerts[1].fingerprint',
		);
	});

	it('refuses an Alertmanager notification without alerts', async () => {
		expect(
			await refusal(
				{ format: 'alertmanager' },
				JSON.stringify({ version: '4', status: 'firing', alerts: [] }),
			),
		).toContain('alerts: expected at least one alert');
	});

	it('names a missing or invalid ip in a FastNetMon notification', async () => {
		expect(await refusal({ format: 'fastnetmon' }, JSON.stringify({ action: 'ban' }))).toContain(
			'ip: Required',
		);
		expect(
			await refusal({ format: 'fastnetmon' }, JSON.stringify({ ip: 'example.com', action: 'ban' })),
		).toContain("'example.com' is not an IP address");
	});

	it('names the mapped field an event lacks', async () => {
		const mapping = {
			format: 'mapping',
			idPath: 'attack.id',
			actionPath: 'state',
			scopePath: 'target.prefix',
		};
		expect(
			await refusal(mapping, JSON.stringify({ state: 'open', target: { prefix: 'p' } })),
		).toContain('"attack.id" (incident ID)');
		expect(
			await refusal(mapping, JSON.stringify({ attack: { id: 1 }, target: { prefix: 'p' } })),
		).toContain('"state" (action)');
		expect(
			await refusal(
				mapping,
				JSON.stringify([
					{ attack: { id: 1 }, state: 'open' },
					{ attack: { id: 1 }, state: 'open' },
				]),
			),
		).toContain('"target.prefix" (scope) is missing or empty in event 0');
	});

	it('refuses a mapping whose events path is not a list', async () => {
		expect(
			await refusal(
				{ format: 'mapping', eventsPath: 'alerts', idPath: 'id', actionPath: 'status' },
				JSON.stringify({ alerts: {} }),
			),
		).toContain('"alerts" (events list)');
	});
});
