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
	headerValue,
	parseJsonBody,
	readRawBody,
	refuse,
} from '../IncidentWebhook/webhookRequest';
import { toNodeError } from '../shared/errors';
import { ProviderClient } from '../shared/http';
import { locatorProperty } from '../shared/properties';
import {
	type OtherEvents,
	type ScopeSource,
	normalizePagerDutyDelivery,
	verifyPagerDutySignature,
} from './delivery';
import { pagerDutyListSearch } from './listSearch';
import {
	LIFECYCLE_RETRY_POLICY,
	type SubscriptionFilter,
	type WebhookSubscription,
	createSubscription,
	deleteSubscription,
	enableSubscription,
	getSubscription,
	pagerDutyApi,
	updateSubscription,
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

/** X-Webhook-Id values of deliveries already accepted: PagerDuty retries until it sees a 2xx (at-least-once). */
const recentDeliveries = new RecentKeys(5000, 48 * 60 * 60 * 1000);

/** Kept in the node's workflow static data between activation and deactivation. */
interface SubscriptionRecord extends IDataObject {
	subscriptionId?: string;
	/** PagerDuty returns it only when the subscription is created; without it no delivery can be verified. */
	signingSecret?: string;
}

/**
 * A process-wide copy of each trigger's record. n8n writes static data back as a whole document at the end of every
 * execution, so an execution of another trigger of the same workflow (a Schedule Trigger running the gate's Tick)
 * that loaded it before activation stored the secret can overwrite the secret with nothing. The copy heals that.
 */
const recordsInProcess = new Map<string, SubscriptionRecord>();

const recordKey = (ctx: IHookFunctions | IWebhookFunctions) =>
	`${ctx.getWorkflow().id}/${ctx.getNode().id}`;

/** The node's record, restored from the process copy when a concurrent execution's save dropped it. */
function subscriptionRecord(ctx: IHookFunctions | IWebhookFunctions): SubscriptionRecord {
	const record = ctx.getWorkflowStaticData('node') as SubscriptionRecord;
	const kept = recordsInProcess.get(recordKey(ctx));
	if (!record.signingSecret && kept) Object.assign(record, kept);
	return record;
}

/** Forgets the process copies, as an n8n restart does. */
export function forgetProcessSubscriptions(): void {
	recordsInProcess.clear();
}

function rememberSubscription(
	ctx: IHookFunctions,
	record: SubscriptionRecord,
	subscriptionId: string,
	signingSecret: string,
): void {
	record.subscriptionId = subscriptionId;
	record.signingSecret = signingSecret;
	recordsInProcess.set(recordKey(ctx), { subscriptionId, signingSecret });
}

function forgetSubscription(ctx: IHookFunctions, record: SubscriptionRecord): void {
	delete record.subscriptionId;
	delete record.signingSecret;
	recordsInProcess.delete(recordKey(ctx));
}

function wantedSubscription(ctx: IHookFunctions) {
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
	return { url, filter, events };
}

function sameFilter(actual: WebhookSubscription['filter'], wanted: SubscriptionFilter): boolean {
	return (
		actual.type === wanted.type &&
		(actual.id ?? undefined) === ('id' in wanted ? wanted.id : undefined)
	);
}

function sameEvents(actual: string[], wanted: string[]): boolean {
	return actual.length === wanted.length && wanted.every((event) => actual.includes(event));
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
			'Starts the workflow when a PagerDuty incident is triggered, reopened or resolved, as a normalized incident event for the Incident Gate',
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
					'Activating the workflow creates a PagerDuty webhook subscription pointing at this production URL, and deactivating it deletes the subscription. PagerDuty must be able to reach n8n over HTTPS (set WEBHOOK_URL).',
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
			locatorProperty({
				displayName: 'Service',
				name: 'serviceId',
				description: 'The PagerDuty service whose incidents start the workflow',
				searchListMethod: 'searchServices',
				idPlaceholder: 'PIJ90N7',
				displayOptions: { show: { filterType: ['service'] } },
			}),
			locatorProperty({
				displayName: 'Team',
				name: 'teamId',
				description: 'The PagerDuty team whose incidents start the workflow',
				searchListMethod: 'searchTeams',
				idPlaceholder: 'PQ9K7I8',
				displayOptions: { show: { filterType: ['team'] } },
			}),
			{
				displayName: 'Events',
				name: 'events',
				type: 'multiOptions',
				default: DEFAULT_EVENTS,
				options: INCIDENT_EVENTS.map((event) => ({ name: event, value: event })),
				description:
					'Incident events PagerDuty sends. Triggered and reopened become action "open", resolved becomes "resolve", others "update".',
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
					"What the emitted `scope` is: the Incident Gate keeps one mitigation per scope. For anything else, set the gate's Scope to an expression on this output.",
			},
			{
				displayName: 'Scope Field',
				name: 'scopeField',
				type: 'string',
				default: 'data.service.summary',
				placeholder: 'data.priority.summary',
				displayOptions: { show: { scopeFrom: ['field'] } },
				description:
					'Dot path inside the PagerDuty event object (`event`), e.g. data.service.summary or data.incident_type.name',
			},
		],
	};

	methods = { listSearch: pagerDutyListSearch };

	webhookMethods = {
		default: {
			/** Also runs at every n8n start: a subscription deleted, changed or suspended meanwhile is repaired here. */
			async checkExists(this: IHookFunctions): Promise<boolean> {
				const record = subscriptionRecord(this);
				if (!record.subscriptionId) return false;
				try {
					const client = await ProviderClient.create(this, pagerDutyApi, LIFECYCLE_RETRY_POLICY);
					if (!record.signingSecret) {
						// Its deliveries could never be verified again; replace it rather than leave it behind.
						await deleteSubscription(client, record.subscriptionId);
						forgetSubscription(this, record);
						return false;
					}
					const subscription = await getSubscription(client, record.subscriptionId);
					if (!subscription) {
						forgetSubscription(this, record);
						return false;
					}
					const wanted = wantedSubscription(this);
					// The delivery URL cannot be updated in place; a new subscription also brings a new secret.
					if (subscription.delivery_method.url !== wanted.url) {
						await deleteSubscription(client, subscription.id);
						forgetSubscription(this, record);
						return false;
					}
					if (
						!subscription.active ||
						!sameEvents(subscription.events, wanted.events) ||
						!sameFilter(subscription.filter, wanted.filter)
					) {
						await updateSubscription(client, subscription.id, {
							events: wanted.events,
							filter: wanted.filter,
							active: true,
						});
					}
					if (subscription.delivery_method.temporarily_disabled)
						await enableSubscription(client, subscription.id);
					return true;
				} catch (error) {
					throw toNodeError(this, error, 0);
				}
			},

			async create(this: IHookFunctions): Promise<boolean> {
				const record = subscriptionRecord(this);
				try {
					const wanted = wantedSubscription(this);
					const client = await ProviderClient.create(this, pagerDutyApi, LIFECYCLE_RETRY_POLICY);
					const workflow = this.getWorkflow();
					const subscription = await createSubscription(client, {
						...wanted,
						description: `n8n workflow "${workflow.name ?? workflow.id}" (${this.getNode().name})`,
					});
					const secret = subscription.delivery_method.secret;
					if (!secret) {
						// Deliveries could never be verified; do not leave a subscription that only produces 401s.
						await deleteSubscription(client, subscription.id);
						throw new NodeOperationError(
							this.getNode(),
							'PagerDuty created the webhook subscription without a signing secret',
							{
								description:
									'The subscription was deleted again. Check that the Base URL points at the PagerDuty REST API.',
							},
						);
					}
					rememberSubscription(this, record, subscription.id, secret);
					return true;
				} catch (error) {
					throw toNodeError(this, error, 0);
				}
			},

			async delete(this: IHookFunctions): Promise<boolean> {
				const record = subscriptionRecord(this);
				if (!record.subscriptionId) return true;
				try {
					const client = await ProviderClient.create(this, pagerDutyApi, LIFECYCLE_RETRY_POLICY);
					await deleteSubscription(client, record.subscriptionId);
				} catch (error) {
					// Keep the record so that the next deactivation (or a later activation's check) can try again.
					this.logger.warn(
						`PagerDuty Incident Trigger "${this.getNode().name}" could not delete webhook subscription ${record.subscriptionId}: ${(error as Error).message}`,
					);
					return false;
				}
				forgetSubscription(this, record);
				return true;
			},
		},
	};

	async webhook(this: IWebhookFunctions): Promise<IWebhookResponseData> {
		try {
			const rawBody = await readRawBody(this, MAX_BODY_BYTES);
			const { signingSecret } = subscriptionRecord(this);
			if (!signingSecret) {
				this.logger.warn(
					`PagerDuty Incident Trigger "${this.getNode().name}" refused a delivery: no signing secret is stored. Deactivate and activate the workflow to create the subscription again.`,
				);
				throw new WebhookRejection(
					401,
					'This trigger has no PagerDuty signing secret; reactivate the workflow',
				);
			}
			verifyPagerDutySignature(headerValue(this, 'x-pagerduty-signature'), rawBody, signingSecret);
			const body = parseJsonBody(rawBody);

			const deliveryId = headerValue(this, 'x-webhook-id');
			if (
				deliveryId &&
				recentDeliveries.checkAndRemember(
					`${this.getWorkflow().id}/${this.getNode().id}/${deliveryId}`,
				)
			) {
				return { webhookResponse: { received: true, duplicate: true } };
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
