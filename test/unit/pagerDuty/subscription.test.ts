import { NodeApiError } from 'n8n-workflow';

import {
	TEST_WEBHOOK_URL,
	type TriggerOptions,
	activate,
	callWebhook,
	runHook,
	runWorkflowNode,
} from '../../helpers/runWebhook';
import {
	type PagerDutySimulator,
	type SimSubscription,
	incidentEvent,
	pagerDutySignature,
} from '../../simulators/pagerDuty';
import { listSearch } from '../../helpers/runNode';
import { PagerDutyMitigationApi } from '../../../credentials/PagerDutyMitigationApi.credentials';
import {
	OTHER_SERVICE,
	SERVICE,
	TEAM,
	TOKEN,
	freshProcess,
	rl,
	startPagerDuty,
	triggerOptions,
} from './fixture';

let sim: PagerDutySimulator;
let { trigger, check } = freshProcess();

beforeEach(async () => {
	sim = await startPagerDuty();
	({ trigger, check } = freshProcess());
});
afterEach(async () => {
	await sim.stop();
});

const onlySubscription = () => {
	expect(sim.subscriptions.size).toBe(1);
	return [...sim.subscriptions.values()][0];
};

const recordOf = (options: TriggerOptions) =>
	(
		options.globalStaticData?.pagerDutySubscriptions as
			Record<string, Record<string, unknown>> | undefined
	)?.['trigger-node'];

/** A delivery signed like PagerDuty with the subscription's current secrets starts the workflow. */
async function deliveryStarts(options: TriggerOptions, subscription: SimSubscription) {
	const rawBody = JSON.stringify(
		incidentEvent('incident.triggered', { id: 'Q1', serviceId: SERVICE }),
	);
	const outcome = await callWebhook(trigger, options, {
		rawBody,
		headers: {
			'content-type': 'application/json',
			'x-pagerduty-signature': pagerDutySignature(rawBody, subscription.secrets),
		},
	});
	return outcome.status === 200 && outcome.items?.length === 1;
}

/** Everything n8n stores for the workflow: the node's and the global static data. */
const storedText = (options: TriggerOptions) =>
	JSON.stringify([options.staticData, options.globalStaticData]);

describe('PagerDuty Incident Trigger: webhook subscription lifecycle', () => {
	it(
		'on activation creates a v3 subscription for the service, to the production URL, with the ' +
			'default events',
		async () => {
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
			expect(recordOf(options)?.subscriptionId).toBe(subscription.id);
			expect(await deliveryStarts(options, subscription)).toBe(true);
			expect(sim.allRequestsPinnedVersion2()).toBe(true);
		},
	);

	it('keeps the signing secret out of clear static data', async () => {
		const options = triggerOptions(sim);
		await activate(trigger, options);
		const [secret] = onlySubscription().secrets;
		expect(storedText(options)).not.toContain(secret);
		expect(storedText(options)).not.toContain(Buffer.from(secret).toString('base64'));
	});

	it('subscribes to a team or to the whole account', async () => {
		await activate(
			trigger,
			triggerOptions(
				sim,
				{ filterType: 'team', teamId: rl(TEAM) },
				{ workflowId: 'team-workflow', webhookUrl: `${TEST_WEBHOOK_URL}-team` },
			),
		);
		await activate(
			trigger,
			triggerOptions(
				sim,
				{ filterType: 'account' },
				{ workflowId: 'account-workflow', webhookUrl: `${TEST_WEBHOOK_URL}-account` },
			),
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
		expect(recordOf(options)?.subscriptionId).toBe(second.id);
		expect(await deliveryStarts(options, second)).toBe(true);
	});

	it(
		"restores a secret that a concurrent execution's static-data save dropped, keeping the " +
			'subscription',
		async () => {
			const options = triggerOptions(sim);
			await activate(trigger, options);
			const subscription = onlySubscription();
			options.globalStaticData = {};
			await activate(trigger, options);
			expect(onlySubscription().id).toBe(subscription.id);
			expect(await deliveryStarts(options, subscription)).toBe(true);
		},
	);

	it('after a restart, replaces a subscription whose secret was lost, leaving no orphan behind', async () => {
		const options = triggerOptions(sim);
		await activate(trigger, options);
		const orphan = onlySubscription();
		(recordOf(options)!.secret as Record<string, string>).sealed = 'AAAA';
		({ trigger, check } = freshProcess());
		await activate(trigger, options);
		const replacement = onlySubscription();
		expect(replacement.id).not.toBe(orphan.id);
		expect(await deliveryStarts(options, replacement)).toBe(true);
	});

	it('seals the clear secret an older version kept, keeping its subscription and its deliveries', async () => {
		const options = triggerOptions(sim);
		await activate(trigger, options);
		const subscription = onlySubscription();
		// What an activation by the previous version left: the record in the node's static data, in
		// clear.
		options.globalStaticData = {};
		options.staticData = {
			subscriptionId: subscription.id,
			signingSecret: subscription.secrets[0],
		};
		({ trigger, check } = freshProcess());
		expect(await deliveryStarts(options, subscription)).toBe(true);
		await activate(trigger, options);
		expect(onlySubscription().id).toBe(subscription.id);
		expect(options.staticData).toEqual({});
		expect(storedText(options)).not.toContain(subscription.secrets[0]);
		expect(await deliveryStarts(options, subscription)).toBe(true);
	});

	it('leaves no orphan when the reply to a create is lost and the create is retried', async () => {
		sim.inject({
			method: 'POST',
			path: /^\/webhook_subscriptions$/,
			afterHandler: true,
			response: { status: 502, body: { error: { message: 'Bad gateway', code: 2000 } } },
		});
		const options = triggerOptions(sim);
		await activate(trigger, options);
		const subscription = onlySubscription();
		expect(recordOf(options)?.subscriptionId).toBe(subscription.id);
		expect(await deliveryStarts(options, subscription)).toBe(true);
	});

	it('removes a subscription to its URL left by an earlier failed activation before creating one', async () => {
		const leftover = triggerOptions(sim);
		await activate(trigger, leftover);
		const options = triggerOptions(sim);
		await activate(trigger, options);
		expect(onlySubscription().id).toBe(recordOf(options)?.subscriptionId);
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

	it(
		'replaces the subscription when the webhook URL changed (the delivery URL cannot be ' +
			'updated)',
		async () => {
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
		},
	);

	it("listening for a test event in the editor leaves the production subscription's secret alone", async () => {
		const production = triggerOptions(sim);
		await activate(trigger, production);
		const live = onlySubscription();
		const test = {
			...production,
			mode: 'manual' as const,
			webhookUrl: TEST_WEBHOOK_URL.replace('/webhook/', '/webhook-test/'),
		};
		await activate(trigger, test);
		expect(sim.subscriptions.size).toBe(2);
		expect(await deliveryStarts(production, live)).toBe(true);
		await runHook(trigger, 'delete', test);
		expect(onlySubscription().id).toBe(live.id);
		expect(await deliveryStarts(production, live)).toBe(true);
	});

	it('deletes the subscription on deactivation and forgets its secret', async () => {
		const options = triggerOptions(sim);
		await activate(trigger, options);
		const { result } = await runHook(trigger, 'delete', options);
		expect(result).toBe(true);
		expect(sim.subscriptions.size).toBe(0);
		expect(options.globalStaticData).toEqual({ pagerDutySubscriptions: {} });
	});

	it('deactivates cleanly when the subscription was already deleted in PagerDuty', async () => {
		const options = triggerOptions(sim);
		await activate(trigger, options);
		sim.subscriptions.clear();
		const { result } = await runHook(trigger, 'delete', options);
		expect(result).toBe(true);
		expect(recordOf(options)).toBeUndefined();
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
		expect(recordOf(options)?.subscriptionId).toBe(onlySubscription().id);
		expect(warnings.join(' ')).not.toContain(onlySubscription().secrets[0]);
	});

	it(
		'deletes a subscription created without a signing secret, instead of keeping one that only ' +
			'produces 401s',
		async () => {
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
							delivery_method: {
								type: 'http_delivery_method',
								url: TEST_WEBHOOK_URL,
								secret: null,
							},
						},
					},
				},
			});
			const options = triggerOptions(sim);
			await expect(runHook(trigger, 'create', options)).rejects.toThrow('without a signing secret');
			expect(recordOf(options)).toBeUndefined();
		},
	);

	it('explains a rejected token without showing it', async () => {
		const options = triggerOptions(sim);
		options.credentials!.pagerDutyMitigationApi.apiToken = 'wrong-token-value';
		const failure = await runHook(trigger, 'create', options).catch((error: unknown) => error);
		// The node module is loaded in isolation (a fresh process), with its own copy of n8n-workflow.
		expect((failure as Error).constructor.name).toBe(NodeApiError.name);
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

describe('PagerDuty Subscription Check: repairs without a restart', () => {
	/**
	 * Activated, then n8n restarted: the trigger's checkExists does not run again, the check node
	 * does.
	 */
	async function activatedThenRestarted() {
		const options = triggerOptions(sim);
		await activate(trigger, options);
		({ trigger, check } = freshProcess());
		return options;
	}

	it('re-enables a subscription PagerDuty suspended, and says so', async () => {
		const options = await activatedThenRestarted();
		const subscription = onlySubscription();
		subscription.delivery_method.temporarily_disabled = true;
		const { items, hints } = await runWorkflowNode(check, options);
		expect(subscription.delivery_method.temporarily_disabled).toBe(false);
		expect(items).toEqual([
			expect.objectContaining({
				trigger: 'PagerDuty Incident Trigger',
				subscriptionId: subscription.id,
				healthy: false,
				repairs: [expect.stringContaining('re-enabled')],
			}),
		]);
		expect(hints).toEqual([expect.stringContaining('re-enabled')]);
		expect(onlySubscription().id).toBe(subscription.id);
	});

	it('does not bring back a subscription that deactivation deletes while a check runs', async () => {
		const options = triggerOptions(sim);
		await activate(trigger, options);
		// The scheduled check loaded the workflow (and its static data) before the deactivation; its
		// read reaches PagerDuty only after the deletion.
		sim.latencyMs = 200;
		const running = runWorkflowNode(check, {
			...options,
			globalStaticData: structuredClone(options.globalStaticData),
		});
		await new Promise((resolve) => setTimeout(resolve, 20));
		sim.latencyMs = 0;
		expect((await runHook(trigger, 'delete', options)).result).toBe(true);
		await running;
		expect(sim.subscriptions.size).toBe(0);
		expect(sim.log.filter((request) => request.method === 'POST')).toHaveLength(1);
	});

	it('reports a healthy subscription without writing anything', async () => {
		const options = await activatedThenRestarted();
		const writes = sim.writes().length;
		const { items, hints } = await runWorkflowNode(check, options);
		expect(items).toEqual([expect.objectContaining({ healthy: true, repairs: [] })]);
		expect(hints).toEqual([]);
		expect(sim.writes()).toHaveLength(writes);
	});

	it(
		're-creates a subscription whose secret can no longer be read (API token rotated), and the ' +
			'trigger verifies with the new one',
		async () => {
			const options = await activatedThenRestarted();
			const old = onlySubscription();
			sim.tokens.add('rotated-token-value-0123456789');
			options.credentials!.pagerDutyMitigationApi.apiToken = 'rotated-token-value-0123456789';
			const { items } = await runWorkflowNode(check, options);
			const replacement = onlySubscription();
			expect(replacement.id).not.toBe(old.id);
			expect(items).toEqual([
				expect.objectContaining({
					subscriptionId: replacement.id,
					repairs: [expect.stringContaining('secret')],
				}),
			]);
			expect(await deliveryStarts(options, replacement)).toBe(true);
			// The repaired record is in static data, so it also survives the next restart.
			({ trigger, check } = freshProcess());
			expect(await deliveryStarts(options, replacement)).toBe(true);
		},
	);

	it('re-creates a subscription deleted in PagerDuty', async () => {
		const options = await activatedThenRestarted();
		sim.subscriptions.clear();
		const { items } = await runWorkflowNode(check, options);
		expect(items).toEqual([
			expect.objectContaining({ repairs: [expect.stringContaining('deleted')] }),
		]);
		expect(await deliveryStarts(options, onlySubscription())).toBe(true);
	});

	it(
		"after a secret rotation on PagerDuty's side and the suspension it causes, replaces the " +
			'subscription',
		async () => {
			const options = triggerOptions(sim);
			await activate(trigger, options);
			const rotated = onlySubscription();
			sim.rotateSecret(rotated.id);
			sim.finishRotation(rotated.id);
			expect(await deliveryStarts(options, rotated)).toBe(false);
			rotated.delivery_method.temporarily_disabled = true;
			const { items } = await runWorkflowNode(check, options);
			const replacement = onlySubscription();
			expect(replacement.id).not.toBe(rotated.id);
			expect(items).toEqual([
				expect.objectContaining({ repairs: [expect.stringContaining('rotated')] }),
			]);
			expect(await deliveryStarts(options, replacement)).toBe(true);
		},
	);

	it("refuses to work with another credential than the trigger's, instead of fighting it", async () => {
		const options = await activatedThenRestarted();
		const subscription = onlySubscription();
		await expect(
			runWorkflowNode(check, { ...options, credentialId: 'another-credential' }),
		).rejects.toThrow('another PagerDuty credential');
		expect(onlySubscription().id).toBe(subscription.id);
	});

	it('says when the workflow has no activated PagerDuty trigger', async () => {
		const { items, hints } = await runWorkflowNode(check, triggerOptions(sim));
		expect(items).toEqual([expect.objectContaining({ healthy: false })]);
		expect(hints).toEqual([expect.stringContaining('No active PagerDuty Incident Trigger')]);
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
