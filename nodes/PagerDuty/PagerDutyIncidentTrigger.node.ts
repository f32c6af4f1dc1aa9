import type {
	IDataObject,
	IHookFunctions,
	INodeType,
	INodeTypeDescription,
	IWebhookFunctions,
	IWebhookResponseData,
} from 'n8n-workflow';
import { NodeConnectionTypes, NodeOperationError } from 'n8n-workflow';

import {
	RecentKeys,
	WebhookRejection,
	credentialsOrRefuse,
	forgetUnlessTaken,
	headerValue,
	parseJsonBody,
	readRawBody,
	refuse,
} from '../IncidentWebhook/webhookRequest';
import { positiveSeconds } from '../IncidentWebhook/authentication';
import { toNodeError } from '../shared/errors';
import { ProviderClient } from '../shared/http';
import {
	type OtherEvents,
	type ScopeSource,
	normalizePagerDutyDelivery,
	signedEventFacts,
	verifyPagerDutySignature,
} from './delivery';
import { pagerDutyListSearch } from './listSearch';
import {
	type SubscriptionRecord,
	TEST_RECORD_SUFFIX,
	type WantedSubscription,
	noteForeignSignature,
	readRecord,
	beginDeactivation,
	repairSubscription,
	sealFor,
	signingSecretOf,
	writeRecord,
} from './subscription';
import {
	CREATE_ONCE_POLICY,
	LIFECYCLE_RETRY_POLICY,
	type SubscriptionFilter,
	deleteSubscription,
	pagerDutyApi,
} from './transport';

const INCIDENT_EVENTS = [
	'incident.acknowledged',
	'incident.annotated',
	'incident.delegated',
	'incident.escalated',
	'incident.priority_updated',
	'incident.reassigned',
	'incident.reopened',
	'incident.resolved',
	'incident.responder.added',
	'incident.responder.replied',
	'incident.service_updated',
	'incident.status_update_published',
	'incident.triggered',
	'incident.unacknowledged',
];

const DEFAULT_EVENTS = ['incident.triggered', 'incident.resolved', 'incident.reopened'];

/** PagerDuty events are a few kilobytes; anything far larger is not PagerDuty. */
const MAX_BODY_BYTES = 1024 * 1024;

/**
 * Signed event ids already accepted. Exact: an id is kept for as long as its event could pass the
 * age check, and older events are refused by that check, so no replay outlives its entry.
 */
const acceptedEvents = new RecentKeys(500_000);

/** What versions before the encrypted record kept in the node's static data, in clear. */
interface LegacyRecord extends IDataObject {
	subscriptionId?: string;
	signingSecret?: string;
}

/**
 * Where the trigger's record is kept: a test URL ("Listen for test event") gets its own
 * subscription and record, so that listening in the editor never replaces the production
 * subscription's secret.
 */
const recordKeyOf = (ctx: IHookFunctions | IWebhookFunctions) =>
	ctx.getMode() === 'manual' ? `${ctx.getNode().id}${TEST_RECORD_SUFFIX}` : ctx.getNode().id;

const credentialIdOf = (ctx: IHookFunctions | IWebhookFunctions) =>
	ctx.getNode().credentials?.pagerDutyMitigationApi?.id ?? '';

async function apiTokenOf(ctx: IHookFunctions | IWebhookFunctions): Promise<string> {
	const credentials = await ctx.getCredentials('pagerDutyMitigationApi');
	return String(credentials.apiToken ?? '');
}

/**
 * The secret deliveries are checked against, from the sealed record or a record kept by an older
 * version.
 */
async function deliverySecret(ctx: IWebhookFunctions): Promise<string | undefined> {
	const record = readRecord(ctx, recordKeyOf(ctx));
	if (!record) {
		const legacy = ctx.getWorkflowStaticData('node') as LegacyRecord;
		return legacy.signingSecret || undefined;
	}
	const credentials = await credentialsOrRefuse(
		ctx,
		'pagerDutyMitigationApi',
		'PagerDuty credential',
	);
	return signingSecretOf(ctx, recordKeyOf(ctx), record, String(credentials.apiToken ?? ''));
}

function wantedSubscription(ctx: IHookFunctions): WantedSubscription {
	const url = ctx.getNodeWebhookUrl('default');
	if (!url)
		throw new NodeOperationError(
			ctx.getNode(),
			'n8n did not provide a webhook URL for this trigger',
		);
	const filterType = ctx.getNodeParameter('filterType') as 'service' | 'team' | 'account';
	let filter: SubscriptionFilter;
	if (filterType === 'account') {
		filter = { type: 'account_reference' };
	} else {
		const parameter = filterType === 'service' ? 'serviceId' : 'teamId';
		const id = String(ctx.getNodeParameter(parameter, '', { extractValue: true })).trim();
		if (!id)
			throw new NodeOperationError(
				ctx.getNode(),
				`Choose the ${filterType} whose incidents should trigger this workflow`,
			);
		filter = { type: filterType === 'service' ? 'service_reference' : 'team_reference', id };
	}
	const events = ctx.getNodeParameter('events', DEFAULT_EVENTS) as string[];
	if (events.length === 0) throw new NodeOperationError(ctx.getNode(), 'Choose at least one event');
	const workflow = ctx.getWorkflow();
	return {
		url,
		filter,
		events,
		description: `n8n workflow "${workflow.name ?? workflow.id}" (${ctx.getNode().name})`,
	};
}

/**
 * Brings PagerDuty's side in line with the trigger (`current` undefined: create) and stores the
 * sealed record, replacing any record an older version kept in clear.
 */
async function applySubscription(
	ctx: IHookFunctions,
	current: { subscriptionId: string; secret: string | undefined } | undefined,
): Promise<void> {
	const wanted = wantedSubscription(ctx);
	const client = await ProviderClient.create(ctx, pagerDutyApi, LIFECYCLE_RETRY_POLICY);
	const createOnce = await ProviderClient.create(ctx, pagerDutyApi, CREATE_ONCE_POLICY);
	const repair = await repairSubscription(
		client,
		createOnce,
		current && { subscriptionId: current.subscriptionId, secretReadable: !!current.secret },
		wanted,
	);
	const secret = repair.newSecret ?? current?.secret;
	if (!secret) throw new NodeOperationError(ctx.getNode(), 'No signing secret after activation');
	const triggerId = recordKeyOf(ctx);
	const record: SubscriptionRecord = {
		subscriptionId: repair.subscriptionId,
		triggerName: ctx.getNode().name,
		credentialId: credentialIdOf(ctx),
		wanted: { ...wanted, filter: { ...wanted.filter } },
		secret: sealFor(ctx, triggerId, secret, await apiTokenOf(ctx)),
		updatedAt: Date.now(),
	};
	writeRecord(ctx, triggerId, record);
	const legacy = ctx.getWorkflowStaticData('node') as LegacyRecord;
	delete legacy.subscriptionId;
	delete legacy.signingSecret;
	if (current && repair.repairs.length > 0) {
		ctx.logger.info(
			`PagerDuty Incident Trigger "${ctx.getNode().name}": subscription ${repair.subscriptionId} ` +
				repair.repairs.join('; '),
		);
	}
}

export class PagerDutyIncidentTrigger implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'PagerDuty Incident Trigger',
		name: 'pagerDutyIncidentTrigger',
		icon: 'file:pagerDuty.svg',
		group: ['trigger'],
		version: 1,
		subtitle: '={{"on " + $parameter["filterType"] + " incidents"}}',
		description:
			'Starts the workflow when a PagerDuty incident is triggered, reopened or resolved, as a ' +
			'normalized incident event for the Incident Gate',
		defaults: { name: 'PagerDuty Incident Trigger' },
		inputs: [],
		outputs: [NodeConnectionTypes.Main],
		credentials: [{ name: 'pagerDutyMitigationApi', required: true }],
		webhooks: [
			{ name: 'default', httpMethod: 'POST', responseMode: 'onReceived', path: 'webhook' },
		],
		properties: [
			{
				displayName:
					'Activating the workflow creates a PagerDuty webhook subscription pointing at this ' +
					'production URL, and deactivating it deletes the subscription. PagerDuty must be ' +
					'able to reach n8n over HTTPS (set WEBHOOK_URL). Add a PagerDuty Subscription Check ' +
					'node to a Schedule Trigger of this workflow: it re-enables a subscription PagerDuty ' +
					'suspended and replaces one whose secret is lost, without a restart.',
				name: 'lifecycleNotice',
				type: 'notice',
				default: '',
			},
			{
				displayName: 'Incidents From',
				name: 'filterType',
				type: 'options',
				noDataExpression: true,
				default: 'service',
				options: [
					{ name: 'A Service', value: 'service', description: 'Incidents of one service' },
					{
						name: 'A Team',
						value: 'team',
						description: 'Incidents of every service the team owns',
					},
					{
						name: 'The Whole Account',
						value: 'account',
						description: 'Every incident in the account',
					},
				],
			},
			{
				displayName: 'Service',
				name: 'serviceId',
				type: 'resourceLocator',
				default: { mode: 'list', value: '' },
				required: true,
				description: 'The PagerDuty service whose incidents start the workflow',
				displayOptions: { show: { filterType: ['service'] } },
				modes: [
					{
						displayName: 'From List',
						name: 'list',
						type: 'list',
						typeOptions: { searchListMethod: 'searchServices', searchable: true },
					},
					{ displayName: 'By ID', name: 'id', type: 'string', placeholder: 'PIJ90N7' },
				],
			},
			{
				displayName: 'Team',
				name: 'teamId',
				type: 'resourceLocator',
				default: { mode: 'list', value: '' },
				required: true,
				description: 'The PagerDuty team whose incidents start the workflow',
				displayOptions: { show: { filterType: ['team'] } },
				modes: [
					{
						displayName: 'From List',
						name: 'list',
						type: 'list',
						typeOptions: { searchListMethod: 'searchTeams', searchable: true },
					},
					{ displayName: 'By ID', name: 'id', type: 'string', placeholder: 'PQ9K7I8' },
				],
			},
			{
				displayName: 'Events',
				name: 'events',
				type: 'multiOptions',
				default: DEFAULT_EVENTS,
				options: INCIDENT_EVENTS.map((event) => ({ name: event, value: event })),
				description:
					'Incident events PagerDuty sends. Triggered and reopened become action "open", ' +
					'resolved becomes "resolve", others "update".',
			},
			{
				displayName: 'Other Incident Events',
				name: 'otherEvents',
				type: 'options',
				default: 'update',
				options: [
					{ name: 'Emit With Action "Update"', value: 'update' },
					{
						name: 'Ignore',
						value: 'ignore',
						description: 'Acknowledge them to PagerDuty without starting the workflow',
					},
				],
				description:
					'What to do with events other than triggered, reopened and resolved (e.g. acknowledged)',
			},
			{
				displayName: 'Maximum Event Age (Seconds)',
				name: 'maxEventAge',
				type: 'number',
				typeOptions: { minValue: 1 },
				default: 300,
				description:
					"Events whose signed occurred_at is further than this from n8n's clock start nothing " +
					'(acknowledged and logged), so a captured delivery cannot be replayed later. Raise ' +
					"it if n8n may be unreachable longer and PagerDuty's retries should still count.",
			},
			{
				displayName: 'Scope',
				name: 'scopeFrom',
				type: 'options',
				default: 'serviceId',
				options: [
					{
						name: 'Service ID',
						value: 'serviceId',
						description: 'One mitigation per PagerDuty service',
					},
					{
						name: 'Incident Key',
						value: 'incidentKey',
						description: 'The dedup key the alert source set (e.g. the attacked prefix)',
					},
					{
						name: 'Event Field',
						value: 'field',
						description: 'A field of the PagerDuty event, by path',
					},
					{
						name: 'None',
						value: 'none',
						description: "Leave it to the Incident Gate's default scope",
					},
				],
				description:
					'What the emitted `scope` is: the Incident Gate keeps one mitigation per scope. ' +
					"For anything else, set the gate's Scope to an expression on this output.",
			},
			{
				displayName: 'Scope Field',
				name: 'scopeField',
				type: 'string',
				default: 'data.service.summary',
				placeholder: 'data.priority.summary',
				displayOptions: { show: { scopeFrom: ['field'] } },
				description:
					'Dot path inside the PagerDuty event object (`event`), ' +
					'e.g. data.service.summary or data.incident_type.name',
			},
		],
	};

	methods = { listSearch: pagerDutyListSearch };

	webhookMethods = {
		default: {
			/**
			 * Runs at activation (n8n does not run it at start for published workflows; the PagerDuty
			 * Subscription Check node covers that): repairs a subscription deleted, changed, switched
			 * off, suspended or whose secret is lost, and seals a secret an older version kept in clear.
			 */
			async checkExists(this: IHookFunctions): Promise<boolean> {
				const triggerId = recordKeyOf(this);
				try {
					const record = readRecord(this, triggerId);
					const legacy = this.getWorkflowStaticData('node') as LegacyRecord;
					let current: { subscriptionId: string; secret: string | undefined } | undefined;
					if (record) {
						const secret =
							record.credentialId === credentialIdOf(this)
								? signingSecretOf(this, triggerId, record, await apiTokenOf(this))
								: undefined;
						current = { subscriptionId: record.subscriptionId, secret };
					} else if (legacy.subscriptionId) {
						current = { subscriptionId: legacy.subscriptionId, secret: legacy.signingSecret };
					}
					if (!current) return false;
					await applySubscription(this, current);
					return true;
				} catch (error) {
					throw toNodeError(this, error, 0);
				}
			},

			async create(this: IHookFunctions): Promise<boolean> {
				try {
					await applySubscription(this, undefined);
					return true;
				} catch (error) {
					throw toNodeError(this, error, 0);
				}
			},

			async delete(this: IHookFunctions): Promise<boolean> {
				const triggerId = recordKeyOf(this);
				const legacy = this.getWorkflowStaticData('node') as LegacyRecord;
				const subscriptionId = readRecord(this, triggerId)?.subscriptionId ?? legacy.subscriptionId;
				if (!subscriptionId) return true;
				const undo = beginDeactivation(this, triggerId);
				try {
					const client = await ProviderClient.create(this, pagerDutyApi, LIFECYCLE_RETRY_POLICY);
					await deleteSubscription(client, subscriptionId);
				} catch (error) {
					undo();
					// Keep the record so that the next deactivation (or a later activation's check) can try
					// again.
					this.logger.warn(
						`PagerDuty Incident Trigger "${this.getNode().name}" could not delete webhook ` +
							`subscription ${subscriptionId}: ${(error as Error).message}`,
					);
					return false;
				}
				writeRecord(this, triggerId, undefined);
				delete legacy.subscriptionId;
				delete legacy.signingSecret;
				return true;
			},
		},
	};

	async webhook(this: IWebhookFunctions): Promise<IWebhookResponseData> {
		try {
			const rawBody = await readRawBody(this, MAX_BODY_BYTES);
			const signingSecret = await deliverySecret(this);
			if (!signingSecret) {
				// 503, not 401: PagerDuty retries a 5xx (for up to 48 h) but drops a 4xx and suspends the
				// subscription after three drops. The secret is missing for a moment while an activation
				// is still saving it, or until the Subscription Check replaces a subscription.
				throw new WebhookRejection(
					503,
					'This trigger has no usable PagerDuty signing secret yet: run the PagerDuty ' +
						'Subscription Check node of this workflow, or deactivate and activate the workflow',
				);
			}
			try {
				verifyPagerDutySignature(
					headerValue(this, 'x-pagerduty-signature'),
					rawBody,
					signingSecret,
				);
			} catch (error) {
				noteForeignSignature(this, recordKeyOf(this));
				throw error;
			}
			const body = parseJsonBody(rawBody);

			// Both facts are signed, unlike X-Webhook-Id: a captured delivery cannot be made to look new.
			const { eventId, occurredAtMs } = signedEventFacts(body);
			const maxAgeSeconds = positiveSeconds(this.getNodeParameter('maxEventAge', 300), 300);
			const ageSeconds =
				occurredAtMs === undefined ? undefined : (Date.now() - occurredAtMs) / 1000;
			if (ageSeconds === undefined || Math.abs(ageSeconds) > maxAgeSeconds) {
				const reason =
					ageSeconds === undefined
						? 'the event has no valid occurred_at'
						: `occurred_at is ${Math.round(Math.abs(ageSeconds))} s ` +
							`${ageSeconds < 0 ? 'ahead of' : 'behind'} n8n's clock, over the ` +
							`${maxAgeSeconds} s Maximum Event Age`;
				// Answered 2xx: PagerDuty would retry a 5xx and suspend the subscription after repeated
				// 4xx.
				this.logger.warn(
					`PagerDuty Incident Trigger "${this.getNode().name}" started nothing for event ` +
						`${eventId ?? '(no id)'}: ${reason}`,
				);
				return { webhookResponse: { received: true, started: false, reason } };
			}
			const dedupKey = eventId ?? headerValue(this, 'x-webhook-id');
			if (dedupKey) {
				const key = `${this.getWorkflow().id}/${this.getNode().id}/${dedupKey}`;
				const seen = acceptedEvents.remember(key, (2 * maxAgeSeconds + 60) * 1000);
				if (seen === 'seen') return { webhookResponse: { received: true, duplicate: true } };
				if (seen === 'full')
					throw new WebhookRejection(503, 'Too many recent events to deduplicate; retry later');
				// PagerDuty retries a delivery n8n did not take: that retry is not a duplicate.
				forgetUnlessTaken(this.getResponseObject(), () => acceptedEvents.forget(key));
			}
			const outcome = normalizePagerDutyDelivery(body, {
				otherEvents: this.getNodeParameter('otherEvents', 'update') as OtherEvents,
				scopeFrom: this.getNodeParameter('scopeFrom', 'serviceId') as ScopeSource,
				scopeField: this.getNodeParameter('scopeField', '') as string,
			});
			if (outcome.kind === 'acknowledged')
				return { webhookResponse: { received: true, started: false, reason: outcome.reason } };
			return {
				webhookResponse: { received: true, started: true },
				workflowData: [this.helpers.returnJsonArray([outcome.event])],
			};
		} catch (error) {
			if (error instanceof WebhookRejection) return refuse(this, error);
			throw error;
		}
	}
}
