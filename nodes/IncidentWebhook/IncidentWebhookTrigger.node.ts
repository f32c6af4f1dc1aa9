import type {
	ICredentialDataDecryptedObject,
	ICredentialTestFunctions,
	ICredentialsDecrypted,
	INodeCredentialTestResult,
	INodeType,
	INodeTypeDescription,
	IWebhookFunctions,
	IWebhookResponseData,
} from 'n8n-workflow';
import { NodeConnectionTypes } from 'n8n-workflow';

import { splitList } from '../shared/validation';
import { type PayloadFormat, normalizePayload } from './normalizers';
import {
	type AuthenticationMethod,
	DEFAULT_TIMESTAMP_HEADER,
	MIN_SECRET_LENGTH,
	authenticateRequest,
} from './authentication';
import {
	WebhookRejection,
	forgetUnlessTaken,
	parseJsonBody,
	readRawBody,
	refuse,
} from './webhookRequest';
import { batchEvents, watchHandOff } from './batching';

/**
 * Absorbs a storm (1,000 events in 10 s run in about 50 executions) and delays no lone incident:
 * the first event after a quiet window starts at once.
 */
const DEFAULT_BATCH_WINDOW_MS = 250;
const DEFAULT_MAX_BATCH_EVENTS = 1000;

/** A count or duration; anything that is not a number >= 0 (e.g. a bad expression) is the default. */
function nonNegative(value: unknown, fallback: number): number {
	const number = Number(value ?? fallback);
	return Number.isFinite(number) && number >= 0 ? number : fallback;
}

// Senders are configured by the user (Alertmanager, FastNetMon, a script): like n8n's own Webhook
// node, there is no third-party registration to create, check or delete, so webhookMethods would be
// empty ceremony.
// eslint-disable-next-line @n8n/community-nodes/webhook-lifecycle-complete
export class IncidentWebhookTrigger implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Incident Webhook Trigger',
		name: 'incidentWebhookTrigger',
		icon: 'file:incidentWebhook.svg',
		group: ['trigger'],
		version: 1,
		subtitle: '={{$parameter["format"]}}',
		description:
			'Starts the workflow from a signed detection webhook (Alertmanager, FastNetMon, or any ' +
			'JSON sender) with normalized incident events for the Incident Gate',
		defaults: { name: 'Incident Webhook Trigger' },
		inputs: [],
		outputs: [NodeConnectionTypes.Main],
		credentials: [
			{
				name: 'incidentWebhookSecretApi',
				required: true,
				testedBy: 'incidentWebhookSecretTest',
				displayOptions: { show: { authentication: ['hmacSignature', 'bearerSecret'] } },
			},
			{
				// n8n's built-in Redis credential, as the Incident Gate's Redis store uses it.
				/* eslint-disable-next-line
					@n8n/community-nodes/no-credential-reuse,
					@n8n/community-nodes/valid-credential-references */
				name: 'redis',
				required: false,
				displayOptions: {
					show: {
						authentication: ['hmacSignature'],
						freshness: ['required'],
						'options.replayCache': ['redis'],
					},
				},
			},
		],
		webhooks: [
			{ name: 'default', httpMethod: 'POST', responseMode: 'onReceived', path: 'incident' },
		],
		properties: [
			{
				displayName: 'Authentication',
				name: 'authentication',
				type: 'options',
				noDataExpression: true,
				default: 'hmacSignature',
				options: [
					{
						name: 'HMAC Signature',
						value: 'hmacSignature',
						description: 'The sender signs the raw body with the shared secret (HMAC-SHA256)',
					},
					{
						name: 'Bearer Secret',
						value: 'bearerSecret',
						description:
							'The sender sends "Authorization: Bearer <secret>" (Alertmanager ' +
							'http_config.authorization)',
					},
					{
						name: 'None',
						value: 'none',
						description: 'Anyone who can reach the URL can open incidents',
					},
				],
			},
			{
				displayName:
					'Without authentication, anyone who can reach this URL can trigger (and withdraw) ' +
					'DDoS mitigation. Use it only behind a proxy that authenticates senders.',
				name: 'noAuthenticationNotice',
				type: 'notice',
				default: '',
				displayOptions: { show: { authentication: ['none'] } },
			},
			{
				displayName: 'Signature Header',
				name: 'signatureHeader',
				type: 'string',
				default: 'X-Signature-256',
				required: true,
				displayOptions: { show: { authentication: ['hmacSignature'] } },
				description:
					'Header carrying the hex HMAC-SHA256, optionally prefixed "sha256=". Several ' +
					'comma-separated values are accepted (any match), for secret rotation.',
			},
			{
				displayName: 'Replay Protection',
				name: 'freshness',
				type: 'options',
				noDataExpression: true,
				default: 'required',
				displayOptions: { show: { authentication: ['hmacSignature'] } },
				options: [
					{
						name: 'Timestamp, Accepted Once (Recommended)',
						value: 'required',
						description:
							'The sender signs "<timestamp>.<raw body>"; old or repeated requests are refused',
					},
					{
						name: 'Off',
						value: 'off',
						description:
							'The sender signs the raw body only; a captured request is accepted again forever',
					},
				],
			},
			{
				displayName:
					'Replay protection is off: anyone who captured one signed request (a "ban" or an ' +
					'"unban") can ' +
					'send it again at any time, e.g. to withdraw mitigation during a new attack. Use it ' +
					'only for a ' +
					'sender that cannot send a timestamp.',
				name: 'freshnessOffNotice',
				type: 'notice',
				default: '',
				displayOptions: { show: { authentication: ['hmacSignature'], freshness: ['off'] } },
			},
			{
				displayName: 'Timestamp Header',
				name: 'timestampHeader',
				type: 'string',
				default: DEFAULT_TIMESTAMP_HEADER,
				displayOptions: { show: { authentication: ['hmacSignature'], freshness: ['required'] } },
				description:
					'Header holding Unix seconds; the signed string is "<timestamp>.<raw body>" and each ' +
					'signed request is accepted once',
			},
			{
				displayName: 'Replay Window (Seconds)',
				name: 'replayWindow',
				type: 'number',
				typeOptions: { minValue: 1 },
				default: 300,
				displayOptions: { show: { authentication: ['hmacSignature'], freshness: ['required'] } },
				description: "How far the timestamp may be from n8n's clock, either way",
			},
			{
				displayName: 'Payload Format',
				name: 'format',
				type: 'options',
				noDataExpression: true,
				default: 'normalized',
				options: [
					{
						name: 'Incident Event',
						value: 'normalized',
						description:
							'The normalized event itself: { action, incidentId, scope?, title? }, or a list ' +
							'of them',
					},
					{
						name: 'Prometheus Alertmanager',
						value: 'alertmanager',
						description:
							'A webhook_config notification: each alert becomes one event, ID = fingerprint',
					},
					{
						name: 'FastNetMon',
						value: 'fastnetmon',
						description:
							'FastNetMon JSON notify / web callback: ban opens, unban resolves, scope = ' +
							'attacked IP',
					},
					{
						name: 'Custom Mapping',
						value: 'mapping',
						description: 'Any JSON, with paths to the ID, action and scope',
					},
				],
			},
			{
				displayName: 'Scope Label',
				name: 'scopeLabel',
				type: 'string',
				default: 'instance',
				displayOptions: { show: { format: ['alertmanager'] } },
				description:
					'Alert label whose value becomes the scope (e.g. prefix, instance, target). Alerts ' +
					'without it get no scope.',
			},
			{
				displayName: 'Events Path',
				name: 'eventsPath',
				type: 'string',
				default: '',
				placeholder: 'alerts',
				displayOptions: { show: { format: ['mapping'] } },
				description:
					'Dot path to a list of events in the body. Empty: the body is one event (or a list ' +
					'of events).',
			},
			{
				displayName: 'Incident ID Path',
				name: 'idPath',
				type: 'string',
				default: 'id',
				required: true,
				displayOptions: { show: { format: ['mapping'] } },
				description:
					'Dot path, within one event, to the value identifying the incident (same value on ' +
					'open and resolve)',
			},
			{
				displayName: 'Action Path',
				name: 'actionPath',
				type: 'string',
				default: 'status',
				required: true,
				displayOptions: { show: { format: ['mapping'] } },
				description: 'Dot path to the value that says whether the incident opens or resolves',
			},
			{
				displayName: 'Open Values',
				name: 'openValues',
				type: 'string',
				default: 'open, firing, triggered, alert, ban',
				displayOptions: { show: { format: ['mapping'] } },
				description: 'Comma-separated action values meaning "open" (case-insensitive)',
			},
			{
				displayName: 'Resolve Values',
				name: 'resolveValues',
				type: 'string',
				default: 'resolve, resolved, ok, recovered, unban',
				displayOptions: { show: { format: ['mapping'] } },
				description:
					'Comma-separated action values meaning "resolve" (case-insensitive). Any other value ' +
					'means "update".',
			},
			{
				displayName: 'Scope Path',
				name: 'scopePath',
				type: 'string',
				default: '',
				placeholder: 'target.prefix',
				displayOptions: { show: { format: ['mapping'] } },
				description:
					'Dot path to the scope (one mitigation per scope). Empty: no scope. When set, events ' +
					'without it are refused.',
			},
			{
				displayName: 'Title Path',
				name: 'titlePath',
				type: 'string',
				default: '',
				placeholder: 'message',
				displayOptions: { show: { format: ['mapping'] } },
				description: 'Optional dot path to a human-readable title',
			},
			{
				displayName: 'Options',
				name: 'options',
				type: 'collection',
				placeholder: 'Add Option',
				default: {},
				options: [
					{
						displayName: 'Batch Window (Ms)',
						name: 'batchWindowMs',
						type: 'number',
						typeOptions: { minValue: 0 },
						default: DEFAULT_BATCH_WINDOW_MS,
						description:
							'At most one execution per window: the first event after a quiet window starts ' +
							'at once; events arriving within the window after it run together in one ' +
							'execution when it ends, and their requests are answered once n8n has taken ' +
							'that execution. 0 = one execution per request.',
					},
					{
						displayName: 'Max Batch Size (Events)',
						name: 'maxBatchEvents',
						type: 'number',
						typeOptions: { minValue: 1 },
						default: DEFAULT_MAX_BATCH_EVENTS,
						description: 'A batch this large starts its execution before its window ends',
					},
					{
						displayName: 'Max Body Size (KB)',
						name: 'maxBodyKb',
						type: 'number',
						typeOptions: { minValue: 1 },
						default: 16384,
						description:
							"Larger requests are refused with 413 before anything else is done. n8n's own " +
							'limit (N8N_PAYLOAD_SIZE_MAX, 16 MB by default) applies first.',
					},
					{
						displayName: 'Other Events',
						name: 'otherEvents',
						type: 'options',
						default: 'update',
						options: [
							{ name: 'Emit With Action "Update"', value: 'update' },
							{
								name: 'Ignore',
								value: 'ignore',
								description: 'Accept them without starting the workflow',
							},
						],
						description:
							'What to do with events that neither open nor resolve (e.g. FastNetMon ' +
							'partial_block)',
					},
					{
						displayName: 'Replay Cache',
						name: 'replayCache',
						type: 'options',
						default: 'process',
						displayOptions: {
							show: { '/authentication': ['hmacSignature'], '/freshness': ['required'] },
						},
						options: [
							{
								name: 'This n8n Process',
								value: 'process',
								description:
									'No setup. A replay sent to another n8n process (queue mode with webhook ' +
									'processes) is not seen.',
							},
							{
								name: 'Redis (Shared by All n8n Processes)',
								value: 'redis',
								description:
									'Every n8n process refuses a request any of them accepted; uses a Redis ' +
									'credential',
							},
						],
						description:
							'Where the trigger remembers the signed requests it accepted, to refuse their ' +
							'replays',
					},
					{
						displayName: 'Source',
						name: 'source',
						type: 'string',
						default: '',
						placeholder: 'edge-detector-1',
						description:
							'Value of `source` on every event. ' +
							"Empty: the format's name (alertmanager, fastnetmon, webhook).",
					},
				],
			},
		],
	};

	methods = {
		credentialTest: {
			/** The secret is never sent anywhere, so the test checks it is strong enough to sign with. */
			async incidentWebhookSecretTest(
				this: ICredentialTestFunctions,
				credential: ICredentialsDecrypted,
			): Promise<INodeCredentialTestResult> {
				const data: ICredentialDataDecryptedObject = credential.data ?? {};
				for (const [field, label] of [
					['secret', 'Secret'],
					['previousSecret', 'Previous Secret'],
				] as const) {
					const value = typeof data[field] === 'string' ? (data[field] as string) : '';
					if (field === 'previousSecret' && value === '') continue;
					if (value.length < MIN_SECRET_LENGTH) {
						return {
							status: 'Error',
							message:
								`${label} must be at least ${MIN_SECRET_LENGTH} characters ` +
								'(e.g. openssl rand -hex 32)',
						};
					}
					if (value !== value.trim()) {
						return {
							status: 'Error',
							message: `${label} starts or ends with whitespace, which senders usually drop`,
						};
					}
				}
				return { status: 'OK', message: 'The secret is usable' };
			},
		},
	};

	async webhook(this: IWebhookFunctions): Promise<IWebhookResponseData> {
		try {
			const options = this.getNodeParameter('options', {}) as {
				batchWindowMs?: number;
				maxBatchEvents?: number;
				maxBodyKb?: number;
				otherEvents?: string;
				source?: string;
			};
			const receivedAt = Date.now();
			const rawBody = await readRawBody(this, Math.round((options.maxBodyKb ?? 16384) * 1024));
			const { signedAtMs, forget } = await authenticateRequest(
				this,
				this.getNodeParameter('authentication', 'hmacSignature') as AuthenticationMethod,
				rawBody,
			);
			if (forget) forgetUnlessTaken(this.getResponseObject(), forget);

			const format = this.getNodeParameter('format', 'normalized') as PayloadFormat;
			const parameter = (name: string) => String(this.getNodeParameter(name, '')).trim();
			const events = normalizePayload(format, parseJsonBody(rawBody), {
				source: (options.source ?? '').trim(),
				defaultOccurredAt: new Date(signedAtMs ?? receivedAt).toISOString(),
				scopeLabel: format === 'alertmanager' ? parameter('scopeLabel') : '',
				mapping: {
					eventsPath: format === 'mapping' ? parameter('eventsPath') : '',
					idPath: format === 'mapping' ? parameter('idPath') : '',
					actionPath: format === 'mapping' ? parameter('actionPath') : '',
					scopePath: format === 'mapping' ? parameter('scopePath') : '',
					titlePath: format === 'mapping' ? parameter('titlePath') : '',
					openValues: format === 'mapping' ? splitList(parameter('openValues')) : [],
					resolveValues: format === 'mapping' ? splitList(parameter('resolveValues')) : [],
				},
			}).filter((event) => event.action !== 'update' || options.otherEvents !== 'ignore');

			if (events.length === 0) return { webhookResponse: { received: true, events: 0 } };
			const webhookResponse = { received: true, events: events.length };
			// The editor's test URL listens for one request: it is never held back.
			const outcome = await batchEvents(
				`${this.getWorkflow().id}/${this.getNode().id}`,
				events,
				this.getMode() === 'manual'
					? { windowMs: 0, maxEvents: 0 }
					: {
							windowMs: nonNegative(options.batchWindowMs, DEFAULT_BATCH_WINDOW_MS),
							maxEvents: nonNegative(options.maxBatchEvents, DEFAULT_MAX_BATCH_EVENTS),
						},
			);
			if ('joined' in outcome) {
				const leaderStatus = await outcome.joined;
				if (leaderStatus < 200 || leaderStatus >= 300) {
					await forget?.(); // before the answer, so that the retry finds it forgotten
					throw new WebhookRejection(
						503,
						'n8n did not take the execution that was to carry this event (it answered the ' +
							`batch with ${leaderStatus || 'no answer'}); send the event again`,
					);
				}
				return { webhookResponse: { ...webhookResponse, batched: true } };
			}
			if (outcome.batch) watchHandOff(this.getResponseObject(), outcome.batch);
			return { webhookResponse, workflowData: [this.helpers.returnJsonArray(outcome.start)] };
		} catch (error) {
			if (error instanceof WebhookRejection) return refuse(this, error);
			throw error;
		}
	}
}
