import { activate, callWebhook, type TriggerOptions } from '../../helpers/runWebhook';
import {
	type PagerDutySimulator,
	incidentEvent,
	pagerDutySignature,
} from '../../simulators/pagerDuty';
import { SERVICE, freshProcess, startPagerDuty, triggerOptions } from './fixture';

let sim: PagerDutySimulator;
let options: TriggerOptions;
let subscriptionId: string;
let { trigger } = freshProcess();

beforeEach(async () => {
	sim = await startPagerDuty();
	({ trigger } = freshProcess());
	options = triggerOptions(sim);
	await activate(trigger, options);
	subscriptionId = [...sim.subscriptions.keys()][0];
});
afterEach(async () => {
	await sim.stop();
});

const secrets = () => sim.subscriptions.get(subscriptionId)!.secrets;

/** Signs like PagerDuty with the subscription's active secrets, unless told otherwise. */
function delivery(
	payload: unknown,
	overrides: {
		signature?: string;
		webhookId?: string;
		rawBody?: string;
		startAnswer?: number;
	} = {},
) {
	const rawBody = overrides.rawBody ?? JSON.stringify(payload);
	const headers: Record<string, string> = {
		'content-type': 'application/json',
		'x-webhook-id': overrides.webhookId ?? `wh-${Math.random()}`,
		'X-PagerDuty-Signature': overrides.signature ?? pagerDutySignature(rawBody, secrets()),
	};
	return callWebhook(
		trigger,
		{ ...options, startAnswer: overrides.startAnswer },
		{ rawBody, headers },
	);
}

const triggered = () =>
	incidentEvent('incident.triggered', {
		id: 'Q0RIJJZL24RC6W',
		serviceId: SERVICE,
		incidentKey: 'prefix-203.0.113.0/24',
	});

describe('PagerDuty Incident Trigger: signed deliveries', () => {
	it('turns a signed incident.triggered into one normalized "open" event', async () => {
		const payload = triggered();
		const outcome = await delivery(payload);
		expect(outcome.status).toBe(200);
		expect(outcome.items).toEqual([
			expect.objectContaining({
				action: 'open',
				incidentId: 'Q0RIJJZL24RC6W',
				scope: SERVICE,
				title: 'Inbound flood on 203.0.113.0/24',
				source: 'pagerduty',
				eventType: 'incident.triggered',
				urgency: 'high',
				priority: expect.objectContaining({ summary: 'P1' }),
				service: expect.objectContaining({ id: SERVICE, summary: 'Edge network' }),
				htmlUrl: 'https://acme.pagerduty.com/incidents/Q0RIJJZL24RC6W',
				event: payload.event,
			}),
		]);
	});

	it.each([
		['incident.resolved', 'resolve'],
		['incident.reopened', 'open'],
		['incident.acknowledged', 'update'],
	])('maps %s to action "%s"', async (eventType, action) => {
		const outcome = await delivery(incidentEvent(eventType, { id: 'Q1', serviceId: SERVICE }));
		expect(outcome.items).toEqual([expect.objectContaining({ action, incidentId: 'Q1' })]);
	});

	it('acknowledges other events without starting the workflow when told to ignore them', async () => {
		options.parameters.otherEvents = 'ignore';
		const outcome = await delivery(
			incidentEvent('incident.acknowledged', { id: 'Q1', serviceId: SERVICE }),
		);
		expect(outcome.status).toBe(200);
		expect(outcome.items).toBeUndefined();
	});

	it('takes the scope from the incident key or from an event field when chosen', async () => {
		options.parameters.scopeFrom = 'incidentKey';
		expect((await delivery(triggered())).items?.[0].scope).toBe('prefix-203.0.113.0/24');
		options.parameters.scopeFrom = 'field';
		options.parameters.scopeField = 'data.priority.summary';
		expect((await delivery(triggered())).items?.[0].scope).toBe('P1');
	});

	it('uses the incident reference of events about a note', async () => {
		const note = {
			event: {
				id: '01BX',
				event_type: 'incident.annotated',
				resource_type: 'incident',
				occurred_at: new Date().toISOString(),
				agent: null,
				data: {
					type: 'incident_note',
					content: 'Scrubbing engaged',
					incident: {
						id: 'Q0RIJJZL24RC6W',
						type: 'incident_reference',
						html_url: 'https://acme.pagerduty.com/incidents/Q0RIJJZL24RC6W',
					},
				},
			},
		};
		const outcome = await delivery(note);
		expect(outcome.items).toEqual([
			expect.objectContaining({ action: 'update', incidentId: 'Q0RIJJZL24RC6W' }),
		]);
	});

	it('accepts deliveries signed with both secrets during a rotation, whichever comes first', async () => {
		const [creationSecret] = secrets();
		const newSecret = sim.rotateSecret(subscriptionId);
		const rawBody = JSON.stringify(triggered());
		expect(pagerDutySignature(rawBody, secrets()).split(',')).toHaveLength(2);
		expect((await delivery(undefined, { rawBody })).status).toBe(200);
		const reordered = pagerDutySignature(rawBody, [newSecret, creationSecret]);
		expect((await delivery(undefined, { rawBody, signature: reordered })).status).toBe(200);
	});

	it('refuses deliveries signed only with a secret it never received (rotation finished)', async () => {
		sim.rotateSecret(subscriptionId);
		sim.finishRotation(subscriptionId);
		const outcome = await delivery(triggered());
		expect(outcome).toMatchObject({ status: 401, items: undefined });
	});

	it('acknowledges pagey.ping without starting the workflow', async () => {
		const outcome = await delivery({
			event: {
				id: '01PING',
				event_type: 'pagey.ping',
				resource_type: 'pagey',
				occurred_at: '2024-05-14T09:40:00Z',
				agent: null,
				client: null,
				data: { message: 'Hello from your friend Pagey!', type: 'ping' },
			},
		});
		expect(outcome.status).toBe(200);
		expect(outcome.items).toBeUndefined();
	});

	it('starts the workflow for a retried delivery whose first execution n8n did not take', async () => {
		const payload = triggered();
		const refused = await delivery(payload, { webhookId: 'not-taken', startAnswer: 503 });
		expect(refused.status).toBe(503);
		const retry = await delivery(payload, { webhookId: 'not-taken' });
		expect(retry).toMatchObject({ status: 200 });
		expect(retry.items).toHaveLength(1);
		expect((await delivery(payload, { webhookId: 'not-taken' })).items).toBeUndefined();
	});

	it('starts the workflow once for a delivery PagerDuty retries (same X-Webhook-Id)', async () => {
		const payload = triggered();
		expect((await delivery(payload, { webhookId: 'retry-me' })).items).toHaveLength(1);
		const retry = await delivery(payload, { webhookId: 'retry-me' });
		expect(retry.status).toBe(200);
		expect(retry.items).toBeUndefined();
	});
});

describe('PagerDuty Incident Trigger: replays start nothing', () => {
	const at = (secondsAgo: number) => {
		const payload = triggered();
		payload.event.occurred_at = new Date(Date.now() - secondsAgo * 1000).toISOString();
		return payload;
	};

	it('emits the signed occurred_at as occurredAt', async () => {
		const payload = at(30);
		expect((await delivery(payload)).items?.[0].occurredAt).toBe(payload.event.occurred_at);
	});

	it(
		'starts nothing for a correctly signed event that occurred an hour ago, answering 2xx and ' +
			'logging why',
		async () => {
			const outcome = await delivery(at(3600));
			expect(outcome).toMatchObject({ status: 200, items: undefined });
			expect(outcome.warnings.join(' ')).toContain('Maximum Event Age');
		},
	);

	it('starts nothing for an event dated far in the future', async () => {
		expect((await delivery(at(-3600))).items).toBeUndefined();
	});

	it('keeps the default age limit when Maximum Event Age is not a number', async () => {
		options.parameters.maxEventAge = 'a while';
		expect((await delivery(at(3600))).items).toBeUndefined();
	});

	it('accepts older events when the Maximum Event Age is raised', async () => {
		options.parameters.maxEventAge = 7200;
		expect((await delivery(at(3600))).items).toHaveLength(1);
	});

	it(
		'starts once for a captured delivery replayed with a new X-Webhook-Id (dedup on the signed ' +
			'event id)',
		async () => {
			const payload = at(10);
			expect((await delivery(payload, { webhookId: 'first' })).items).toHaveLength(1);
			const replay = await delivery(payload, { webhookId: 'forged-new-id' });
			expect(replay).toMatchObject({ status: 200, items: undefined });
		},
	);
});

describe('PagerDuty Incident Trigger: refused deliveries start nothing', () => {
	it('refuses a delivery without a signature with 401', async () => {
		const rawBody = JSON.stringify(triggered());
		const outcome = await callWebhook(trigger, options, {
			rawBody,
			headers: { 'content-type': 'application/json' },
		});
		expect(outcome).toMatchObject({ status: 401, items: undefined });
	});

	it('refuses a signature made with another secret', async () => {
		const rawBody = JSON.stringify(triggered());
		const outcome = await delivery(undefined, {
			rawBody,
			signature: pagerDutySignature(rawBody, ['not-the-secret']),
		});
		expect(outcome).toMatchObject({ status: 401, items: undefined });
	});

	it('refuses a body changed after signing, even by one space', async () => {
		const rawBody = JSON.stringify(triggered());
		const outcome = await delivery(undefined, {
			rawBody: rawBody.replace('{', '{ '),
			signature: pagerDutySignature(rawBody, secrets()),
		});
		expect(outcome).toMatchObject({ status: 401, items: undefined });
	});

	it('refuses a signature that is not in the v1= format', async () => {
		const rawBody = JSON.stringify(triggered());
		const bare = pagerDutySignature(rawBody, secrets()).slice('v1='.length);
		expect((await delivery(undefined, { rawBody, signature: bare })).status).toBe(401);
	});

	it('answers 503 (PagerDuty retries it) when no secret is stored, and says how to fix it in the log', async () => {
		options.globalStaticData = {};
		({ trigger } = freshProcess());
		const outcome = await delivery(triggered(), { signature: 'v1=00' });
		expect(outcome).toMatchObject({ status: 503, items: undefined });
		expect(outcome.warnings.join(' ')).toContain('PagerDuty Subscription Check');
	});

	it('answers 503 (PagerDuty retries it) when n8n cannot read the credential', async () => {
		const signature = pagerDutySignature(JSON.stringify(triggered()), secrets());
		options.credentials = {};
		({ trigger } = freshProcess());
		const outcome = await delivery(triggered(), { signature });
		expect(outcome).toMatchObject({ status: 503, items: undefined });
		expect(JSON.stringify(outcome.responseBody)).toContain(
			'could not read its PagerDuty credential',
		);
	});

	it('answers 400 to a correctly signed body that is not JSON', async () => {
		const outcome = await delivery(undefined, { rawBody: 'not json' });
		expect(outcome).toMatchObject({ status: 400, items: undefined });
	});

	it('never shows the signing secret in a refusal', async () => {
		const outcome = await delivery(triggered(), { signature: 'v1=deadbeef' });
		expect(JSON.stringify(outcome.responseBody)).not.toContain(secrets()[0]);
	});
});
