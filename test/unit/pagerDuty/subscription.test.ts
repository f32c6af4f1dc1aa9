import { NodeApiError } from 'n8n-workflow';

import { TEST_WEBHOOK_URL, activate, runHook } from '../../helpers/runWebhook';
import type { PagerDutySimulator } from '../../simulators/pagerDuty';
import { listSearch } from '../../helpers/runNode';
import { PagerDutyMitigationApi } from '../../../credentials/PagerDutyMitigationApi.credentials';
import { forgetProcessSubscriptions } from '../../../nodes/PagerDuty/PagerDutyIncidentTrigger.node';
import {
	OTHER_SERVICE,
	SERVICE,
	TEAM,
	TOKEN,
	rl,
	startPagerDuty,
	trigger,
	triggerOptions,
} from './fixture';

let sim: PagerDutySimulator;

beforeEach(async () => {
	sim = await startPagerDuty();
});
afterEach(async () => {
	await sim.stop();
});

const onlySubscription = () => {
	expect(sim.subscriptions.size).toBe(1);
	return [...sim.subscriptions.values()][0];
};

describe('PagerDuty Incident Trigger: webhook subscription lifecycle', () => {
	it('on activation creates a v3 subscription for the service, to the production URL, with the default events', async () => {
		const options = triggerOptions(sim);
		await activate(trigger, options);
		const subscription = onlySubscription();
		expect(subscription).toMatchObject({
			active: true,
			events: ['incident.triggered', 'incident.resolved', 'incident.reopened'],
			filter: { type: 'service_reference', id: SERVICE },
			delivery_method: { type: 'http_delivery_method', url: TEST_WEBHOOK_URL },
		});
		// The secret PagerDuty returned only at creation is what deliveries will be checked against.
		expect(options.staticData).toEqual({
			subscriptionId: subscription.id,
			signingSecret: subscription.secrets[0],
		});
		expect(sim.allRequestsPinnedVersion2()).toBe(true);
	});

	it('subscribes to a team or to the whole account', async () => {
		await activate(
			trigger,
			triggerOptions(
				sim,
				{ filterType: 'team', teamId: rl(TEAM) },
				{ workflowId: 'team-workflow' },
			),
		);
		await activate(
			trigger,
			triggerOptions(sim, { filterType: 'account' }, { workflowId: 'account-workflow' }),
		);
		expect([...sim.subscriptions.values()].map((s) => s.filter)).toEqual([
			{ type: 'team_reference', id: TEAM },
			{ type: 'account_reference' },
		]);
	});

	it('keeps an intact subscription on re-activation (n8n start) without writing', async () => {
		const options = triggerOptions(sim);
		await activate(trigger, options);
		const writes = sim.writes().length;
		const { result } = await runHook(trigger, 'checkExists', options);
		expect(result).toBe(true);
		expect(sim.writes()).toHaveLength(writes);
	});

	it('recreates a subscription deleted in PagerDuty, with its new secret', async () => {
		const options = triggerOptions(sim);
		await activate(trigger, options);
		const first = onlySubscription();
		sim.subscriptions.delete(first.id);
		await activate(trigger, options);
		const second = onlySubscription();
		expect(second.id).not.toBe(first.id);
		expect(options.staticData).toEqual({
			subscriptionId: second.id,
			signingSecret: second.secrets[0],
		});
	});

	it("restores a secret that a concurrent execution's static-data save dropped, keeping the subscription", async () => {
		const options = triggerOptions(sim);
		await activate(trigger, options);
		const subscription = onlySubscription();
		delete options.staticData.subscriptionId;
		delete options.staticData.signingSecret;
		await activate(trigger, options);
		expect(onlySubscription().id).toBe(subscription.id);
		expect(options.staticData).toEqual({
			subscriptionId: subscription.id,
			signingSecret: subscription.secrets[0],
		});
	});

	it('after a restart, replaces a subscription whose secret was lost, leaving no orphan behind', async () => {
		const options = triggerOptions(sim);
		await activate(trigger, options);
		const orphan = onlySubscription();
		delete options.staticData.signingSecret;
		forgetProcessSubscriptions();
		await activate(trigger, options);
		const replacement = onlySubscription();
		expect(replacement.id).not.toBe(orphan.id);
		expect(options.staticData).toEqual({
			subscriptionId: replacement.id,
			signingSecret: replacement.secrets[0],
		});
	});

	it('re-enables a subscription PagerDuty suspended after refused deliveries', async () => {
		const options = triggerOptions(sim);
		await activate(trigger, options);
		const subscription = onlySubscription();
		subscription.delivery_method.temporarily_disabled = true;
		await activate(trigger, options);
		expect(subscription.delivery_method.temporarily_disabled).toBe(false);
		expect(
			sim.log.some(
				(r) => r.method === 'POST' && r.path === `/webhook_subscriptions/${subscription.id}/enable`,
			),
		).toBe(true);
		expect(sim.subscriptions.size).toBe(1);
	});

	it('turns a subscription switched off by hand back on, and applies changed events and service', async () => {
		const options = triggerOptions(sim);
		await activate(trigger, options);
		const subscription = onlySubscription();
		subscription.active = false;
		options.parameters = {
			...options.parameters,
			serviceId: rl(OTHER_SERVICE),
			events: ['incident.triggered', 'incident.resolved'],
		};
		await activate(trigger, options);
		expect(onlySubscription()).toMatchObject({
			id: subscription.id,
			active: true,
			events: ['incident.triggered', 'incident.resolved'],
			filter: { type: 'service_reference', id: OTHER_SERVICE },
		});
	});

	it('replaces the subscription when the webhook URL changed (the delivery URL cannot be updated)', async () => {
		const options = triggerOptions(sim);
		await activate(trigger, options);
		const old = onlySubscription();
		await activate(trigger, {
			...options,
			webhookUrl: 'https://n8n.other.test/webhook/abc/webhook',
		});
		const replacement = onlySubscription();
		expect(replacement.id).not.toBe(old.id);
		expect(replacement.delivery_method.url).toBe('https://n8n.other.test/webhook/abc/webhook');
	});

	it('deletes the subscription on deactivation and forgets its secret', async () => {
		const options = triggerOptions(sim);
		await activate(trigger, options);
		const { result } = await runHook(trigger, 'delete', options);
		expect(result).toBe(true);
		expect(sim.subscriptions.size).toBe(0);
		expect(options.staticData).toEqual({});
	});

	it('deactivates cleanly when the subscription was already deleted in PagerDuty', async () => {
		const options = triggerOptions(sim);
		await activate(trigger, options);
		sim.subscriptions.clear();
		const { result } = await runHook(trigger, 'delete', options);
		expect(result).toBe(true);
		expect(options.staticData).toEqual({});
	});

	it('keeps the record when deletion fails, so a later deactivation can retry', async () => {
		const options = triggerOptions(sim);
		await activate(trigger, options);
		sim.inject({
			method: 'DELETE',
			times: 5,
			response: { status: 500, body: { error: { message: 'Internal error', code: 2000 } } },
		});
		const { result, warnings } = await runHook(trigger, 'delete', options);
		expect(result).toBe(false);
		expect(options.staticData.subscriptionId).toBe(onlySubscription().id);
		expect(warnings.join(' ')).not.toContain(String(options.staticData.signingSecret));
	});

	it('deletes a subscription created without a signing secret, instead of keeping one that only produces 401s', async () => {
		sim.inject({
			method: 'POST',
			path: /^\/webhook_subscriptions$/,
			afterHandler: true,
			response: {
				status: 200,
				body: {
					webhook_subscription: {
						id: 'PNOSECR',
						type: 'webhook_subscription',
						active: true,
						events: [],
						filter: { type: 'account_reference' },
						delivery_method: { type: 'http_delivery_method', url: TEST_WEBHOOK_URL, secret: null },
					},
				},
			},
		});
		const options = triggerOptions(sim);
		await expect(runHook(trigger, 'create', options)).rejects.toThrow('without a signing secret');
		expect(options.staticData).toEqual({});
	});

	it('explains a rejected token without showing it', async () => {
		const options = triggerOptions(sim);
		options.credentials!.pagerDutyMitigationApi.apiToken = 'wrong-token-value';
		const failure = await runHook(trigger, 'create', options).catch((error: unknown) => error);
		expect(failure).toBeInstanceOf(NodeApiError);
		expect((failure as NodeApiError).message).toContain('PagerDuty rejected the API token');
		expect(JSON.stringify(failure)).not.toContain('wrong-token-value');
		expect(sim.subscriptions.size).toBe(0);
	});

	it('retries a rate-limited creation (429, code 2020) and creates exactly one subscription', async () => {
		sim.inject({
			method: 'POST',
			response: {
				status: 429,
				headers: { 'ratelimit-reset': '0' },
				body: { error: { message: 'Rate Limit Exceeded', code: 2020 } },
			},
		});
		await activate(trigger, triggerOptions(sim));
		expect(sim.subscriptions.size).toBe(1);
		expect(sim.log.filter((r) => r.method === 'POST' && r.status === 429)).toHaveLength(1);
	});
});

describe('PagerDuty Incident Trigger: service and team search', () => {
	const searchOptions = () => ({
		parameters: {},
		credentials: { pagerDutyMitigationApi: { apiToken: TOKEN, baseUrl: sim.baseUrl } },
		credentialTypes: [new PagerDutyMitigationApi()],
	});

	it("finds services by name through PagerDuty's query", async () => {
		const { results } = await listSearch(trigger, 'searchServices', searchOptions(), 'edge');
		expect(results).toEqual([
			{
				name: 'Edge network',
				value: SERVICE,
				url: `https://acme.pagerduty.com/services/${SERVICE}`,
			},
		]);
	});

	it('pages through more than 100 teams', async () => {
		for (let i = 0; i < 120; i++) sim.teams.set(`PT${i}`, { id: `PT${i}`, name: `Team ${i}` });
		const first = await listSearch(trigger, 'searchTeams', searchOptions());
		expect(first.results).toHaveLength(100);
		const second = await listSearch(
			trigger,
			'searchTeams',
			searchOptions(),
			undefined,
			first.paginationToken,
		);
		expect(second.results).toHaveLength(21);
		expect(second.paginationToken).toBeUndefined();
	});
});
