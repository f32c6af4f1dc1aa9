import type {
	ICredentialTestFunctions,
	ICredentialsDecrypted,
	IExecuteFunctions,
	INodeCredentialTestResult,
	INodeExecutionData,
	INodeType,
	INodeTypeDescription,
} from 'n8n-workflow';
import { NodeConnectionTypes } from 'n8n-workflow';

import { redisOptionsFromCredential } from '../shared/redisConnection';
import { runGate } from './gate';
import { DEFAULTS } from './stateMachine';
import { pingRedis } from './store/redisStore';

export class IncidentGate implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Incident Gate',
		name: 'incidentGate',
		icon: { light: 'file:incidentGate.svg', dark: 'file:incidentGate.dark.svg' },
		group: ['transform'],
		version: 1,
		subtitle: '={{$parameter["operation"]}}',
		description:
			'Turn a stream of incident open/resolve events into exactly one Activate when a scope ' +
			'comes under attack and one Withdraw when its last incident is over, with hold-down ' +
			'and no flapping',
		defaults: { name: 'Incident Gate' },
		usableAsTool: true,
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main, NodeConnectionTypes.Main, NodeConnectionTypes.Main],
		outputNames: ['Activate', 'Withdraw', 'Unchanged'],
		credentials: [
			{
				// n8n's built-in Redis credential, by design: users already have it for queue mode.
				/* eslint-disable-next-line
					@n8n/community-nodes/no-credential-reuse,
					@n8n/community-nodes/valid-credential-references */
				name: 'redis',
				required: true,
				testedBy: 'incidentGateRedisTest',
				displayOptions: { show: { store: ['redis'] } },
			},
		],
		properties: [
			{
				displayName: 'Operation',
				name: 'operation',
				type: 'options',
				noDataExpression: true,
				default: 'event',
				options: [
					{
						name: 'Confirm',
						value: 'confirm',
						description:
							"Feed the provider node's result after an Activate or Withdraw, so the gate " +
							'stops re-emitting it',
						action: 'Confirm a mitigation change',
					},
					{
						name: 'Event',
						value: 'event',
						description:
							'Feed incident events (open, update, resolve) and route each item by what it changed',
						action: 'Feed an incident event',
					},
					{
						name: 'Get State',
						value: 'getState',
						description:
							'Read open incidents and mitigation state, for dashboards and reconciliation',
						action: 'Get gate state',
					},
					{
						name: 'Hold',
						value: 'hold',
						description:
							'Keep mitigation on for a scope (activating it if needed); it is never ' +
							'withdrawn automatically',
						action: 'Hold mitigation on',
					},
					{
						name: 'Release',
						value: 'release',
						description:
							'End a hold; mitigation is withdrawn (after any hold-down) if no incident is open',
						action: 'Release a hold',
					},
					{
						name: 'Reset',
						value: 'reset',
						description: 'Forget a scope; emits Withdraw if its mitigation was on',
						action: 'Reset a scope',
					},
					{
						name: 'Tick',
						value: 'tick',
						description:
							'Run from a Schedule Trigger: expire stale incidents, release due withdraws, ' +
							're-emit unconfirmed changes',
						action: 'Expire incidents and release due withdraws',
					},
				],
			},
			{
				displayName: 'Action',
				name: 'action',
				type: 'string',
				default: '={{ $json.action }}',
				required: true,
				displayOptions: { show: { operation: ['event'] } },
				description:
					'What happened to the incident: open, update or resolve (other words can be mapped ' +
					'under Options > Action Words)',
			},
			{
				displayName: 'Incident ID',
				name: 'incidentId',
				type: 'string',
				default: '={{ $json.incidentId }}',
				required: true,
				displayOptions: { show: { operation: ['event'] } },
				description: 'Identifies the incident across its open, update and resolve events',
			},
			{
				displayName: 'Occurred At',
				name: 'occurredAt',
				type: 'string',
				default: '={{ $json.occurredAt }}',
				displayOptions: { show: { operation: ['event'] } },
				description:
					'When the event happened (ISO 8601), to order the events of one incident; empty ' +
					'means when the gate receives it',
			},
			{
				displayName: 'Active',
				name: 'active',
				type: 'string',
				default: '={{ $json.active }}',
				displayOptions: { show: { operation: ['confirm'] } },
				description:
					'Whether mitigation is on now, as the provider node reports it (its `active` field). ' +
					'Anything else, e.g. a failed item, asks for a re-emit.',
			},
			{
				displayName: 'Scope',
				name: 'scope',
				type: 'string',
				default: 'global',
				displayOptions: { hide: { operation: ['tick', 'getState', 'confirm'] } },
				description:
					'One mitigation per scope, e.g. a prefix or a server. Empty means "global". Use an ' +
					'expression such as {{ $json.scope }} to route per event.',
			},
			{
				displayName: 'Scope',
				name: 'scope',
				type: 'string',
				default: "={{ $('Incident Gate').item.json.scope }}",
				displayOptions: { show: { operation: ['confirm'] } },
				description:
					'The scope the provider node acted on: the gate item it ran for, found through ' +
					'paired items. Use the name of your event gate node.',
			},
			{
				displayName: 'All Scopes',
				name: 'allScopes',
				type: 'boolean',
				default: true,
				displayOptions: { show: { operation: ['getState'] } },
				description: 'Whether to return every scope that has state, or only the one named below',
			},
			{
				displayName: 'Scope',
				name: 'scope',
				type: 'string',
				default: 'global',
				displayOptions: { show: { operation: ['getState'], allScopes: [false] } },
				description: 'The scope to read',
			},
			{
				displayName: 'Title',
				name: 'title',
				type: 'string',
				default: '={{ $json.title }}',
				displayOptions: { show: { operation: ['event'] } },
				description: 'Optional human-readable incident title, kept with the open incident',
			},
			{
				displayName: 'State Store',
				name: 'store',
				type: 'options',
				default: 'staticData',
				options: [
					{
						name: 'Workflow Static Data',
						value: 'staticData',
						description:
							'No setup. Exact within one n8n process (regular mode); refused in queue mode.',
					},
					{
						name: 'Redis',
						value: 'redis',
						description:
							'Exact across any number of n8n processes (queue mode, multi-main); uses a ' +
							'Redis credential',
					},
				],
				description: 'Where the gate keeps open incidents and mitigation state',
			},
			{
				displayName: 'Gate Key',
				name: 'gateKey',
				type: 'string',
				default: 'incident-gate',
				required: true,
				description:
					"Names this gate's state. Gate nodes with the same key share state: in one " +
					'workflow (e.g. the Event and the Tick node) with static data, across workflows ' +
					'and n8n instances with Redis.',
			},
			{
				displayName: 'Options',
				name: 'options',
				type: 'collection',
				placeholder: 'Add Option',
				default: {},
				description: 'Give every gate node that shares a gate key the same values',
				options: [
					{
						displayName: 'Action Words: Open',
						name: 'openActions',
						type: 'string',
						default: 'open',
						description:
							'Comma-separated action values that open an incident (case-insensitive), e.g. ' +
							'open, triggered, firing',
					},
					{
						displayName: 'Action Words: Resolve',
						name: 'resolveActions',
						type: 'string',
						default: 'resolve',
						description:
							'Comma-separated action values that resolve an incident, e.g. resolve, resolved, ok',
					},
					{
						displayName: 'Action Words: Update',
						name: 'updateActions',
						type: 'string',
						default: 'update',
						description:
							"Comma-separated action values that only refresh an open incident's last-seen time",
					},
					{
						displayName: 'Max Incident Age (Minutes)',
						name: 'maxIncidentAgeMinutes',
						type: 'number',
						typeOptions: { minValue: 0 },
						default: DEFAULTS.maxIncidentAgeMinutes,
						description:
							'Tick expires an incident not opened again or updated for this long (its ' +
							'resolve was lost). 0 = never.',
					},
					{
						displayName: 'Max Open Incidents per Scope',
						name: 'maxOpenIncidents',
						type: 'number',
						typeOptions: { minValue: 0 },
						default: DEFAULTS.maxOpenIncidents,
						description:
							'Further incidents are counted, not tracked by ID; they keep mitigation on ' +
							'until they expire',
					},
					{
						displayName: 'Max Re-Emits',
						name: 'maxReemits',
						type: 'number',
						typeOptions: { minValue: 0 },
						default: DEFAULTS.maxReemits,
						description:
							'How often an unconfirmed Activate or Withdraw is emitted again before the ' +
							'gate assumes it was done. 0 = until confirmed (use with a Confirm step).',
					},
					{
						displayName: 'Minimum Active Time (Seconds)',
						name: 'minActiveSeconds',
						type: 'number',
						typeOptions: { minValue: 0 },
						default: DEFAULTS.minActiveSeconds,
						description:
							'Mitigation stays on at least this long after activation; the withdraw is ' +
							'released by Tick',
					},
					{
						displayName: 'Re-Emit Interval (Seconds)',
						name: 'reemitIntervalSeconds',
						type: 'number',
						typeOptions: { minValue: 1 },
						default: DEFAULTS.reemitIntervalSeconds,
						description:
							'An unconfirmed Activate or Withdraw is emitted again (by Tick or the next ' +
							'event of its scope) this long after the last time',
					},
					{
						displayName: 'Resolve Memory (Minutes)',
						name: 'resolveMemoryMinutes',
						type: 'number',
						typeOptions: { minValue: 0 },
						default: DEFAULTS.resolveMemoryMinutes,
						description:
							'How long a resolve is remembered, so a late open that happened before it is ' +
							'ignored. An open that happened after it is a new wave whatever its ID. 0 = ' +
							'off.',
					},
					{
						displayName: 'Withdraw Delay (Seconds)',
						name: 'withdrawDelaySeconds',
						type: 'number',
						typeOptions: { minValue: 0 },
						default: DEFAULTS.withdrawDelaySeconds,
						description:
							'Wait this long after the last incident resolves before withdrawing (released ' +
							'by Tick); a new incident meanwhile cancels the withdraw',
					},
				],
			},
		],
	};

	methods = {
		credentialTest: {
			async incidentGateRedisTest(
				this: ICredentialTestFunctions,
				credential: ICredentialsDecrypted,
			): Promise<INodeCredentialTestResult> {
				try {
					await pingRedis(redisOptionsFromCredential(credential.data ?? {}));
					return { status: 'OK', message: 'Connection successful' };
				} catch (error) {
					return { status: 'Error', message: (error as Error).message };
				}
			},
		},
	};

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		return await runGate(this);
	}
}
