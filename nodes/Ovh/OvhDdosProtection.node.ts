import type {
	IExecuteFunctions,
	INodeExecutionData,
	INodeType,
	INodeTypeDescription,
} from 'n8n-workflow';
import { NodeConnectionTypes } from 'n8n-workflow';

import { listSearch } from '../shared/listSearch';
import { restoreConfigurationProperty } from '../shared/lockdown';
import { requestOptionsProperty } from '../shared/properties';
import { runProvider } from '../shared/provider';
import { OVH_SETTLE, ovhDdosProtection } from './operations';
import { ovhApi, ovhRequest } from './transport';

const FIREWALL_OPERATIONS = ['getStatus', 'activate', 'withdraw'];

export class OvhDdosProtection implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'OVH DDoS Protection',
		name: 'ovhDdosProtection',
		icon: { light: 'file:ovhDdosProtection.svg', dark: 'file:ovhDdosProtection.dark.svg' },
		group: ['transform'],
		version: 1,
		subtitle: '={{$parameter["operation"]}}',
		description:
			"Switch on the Edge Network Firewall of an OVHcloud IP (OVH's edge filtering, with your " +
			'rules or a lockdown) during an attack, and put it back exactly as it was',
		defaults: { name: 'OVH DDoS Protection' },
		usableAsTool: true,
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		credentials: [{ name: 'ovhMitigationApi', required: true }],
		properties: [
			{
				displayName: 'Operation',
				name: 'operation',
				type: 'options',
				noDataExpression: true,
				default: 'getStatus',
				options: [
					{
						name: 'Activate',
						value: 'activate',
						description: 'Turn the Edge Network Firewall on (no change when it is already on)',
						action: 'Activate the Edge Network Firewall',
					},
					{
						name: 'Get Status',
						value: 'getStatus',
						description: 'Read whether the Edge Network Firewall is on',
						action: 'Get the Edge Network Firewall status',
					},
					{
						name: 'List IP Blocks',
						value: 'listIpBlocks',
						description: 'List the IP blocks of the OVH account',
						action: 'List IP blocks',
					},
					{
						name: 'List IPs Under Mitigation',
						value: 'listMitigations',
						description: "List the IPs of a block that OVH's Anti-DDoS is mitigating now",
						action: 'List IPs under mitigation',
					},
					{
						name: 'Withdraw',
						value: 'withdraw',
						description:
							'Undo what activation changed (no change when the Edge Network Firewall is ' +
							'already off)',
						action: 'Withdraw the Edge Network Firewall',
					},
				],
			},
			{
				displayName: 'IP Block',
				name: 'ipBlock',
				type: 'resourceLocator',
				default: { mode: 'list', value: '' },
				required: true,
				description:
					'The block as OVH lists it, e.g. 203.0.113.0/24, or 198.51.100.7/32 for a single IP',
				displayOptions: { hide: { operation: ['listIpBlocks'] } },
				modes: [
					{
						displayName: 'From List',
						name: 'list',
						type: 'list',
						typeOptions: { searchListMethod: 'searchIpBlocks', searchable: true },
					},
					{
						displayName: 'By ID',
						name: 'id',
						type: 'string',
						placeholder: '203.0.113.0/24',
						validation: [
							{
								type: 'regex',
								properties: {
									regex: '^\\s*\\d{1,3}(\\.\\d{1,3}){3}(/\\d{1,2})?\\s*$',
									errorMessage: 'An IPv4 block such as 203.0.113.0/24',
								},
							},
						],
					},
				],
			},
			{
				displayName: 'IP',
				name: 'ip',
				type: 'string',
				default: '',
				placeholder: '203.0.113.10',
				displayOptions: { show: { operation: FIREWALL_OPERATIONS } },
				description:
					'The IPv4 address to protect, inside the block. Leave empty when the block is a ' +
					"single IP (/32): the block's address is used.",
			},
			{
				displayName: 'Mode',
				name: 'mode',
				type: 'options',
				default: 'enableFirewall',
				displayOptions: { show: { operation: ['activate'] } },
				options: [
					{
						name: 'Enable My Edge Network Firewall',
						value: 'enableFirewall',
						description:
							'Create the firewall if the IP has none and enable it, with the rules you set at OVH',
					},
					{
						name: 'Lockdown Rules',
						value: 'lockdown',
						description:
							'Replace the rules by a lockdown (established TCP, management and service ports, ' +
							'deny the rest) and enable it; withdraw re-creates your rules',
					},
				],
			},
			{
				displayName: 'Management Sources',
				name: 'managementSources',
				type: 'string',
				default: '0.0.0.0/0',
				displayOptions: { show: { operation: ['activate'], mode: ['lockdown'] } },
				description:
					'IPv4 addresses or blocks (comma separated) that keep access to the management ' +
					'ports. Default: anywhere, so that you are never locked out. Narrow it to your ' +
					'office or bastion.',
			},
			{
				displayName: 'Management Ports',
				name: 'managementPorts',
				type: 'string',
				default: '22',
				displayOptions: { show: { operation: ['activate'], mode: ['lockdown'] } },
				description:
					'TCP ports (comma separated, e.g. "22, 8443") that stay open from the management ' +
					'sources. OVH rules take one port each.',
			},
			{
				displayName: 'Service Ports',
				name: 'servicePorts',
				type: 'string',
				default: '',
				placeholder: '443/tcp, 27015/udp',
				displayOptions: { show: { operation: ['activate'], mode: ['lockdown'] } },
				description:
					'Ports your service answers on from anywhere, written port/protocol (tcp or udp; tcp ' +
					'when left out). A lockdown holds at most 20 rules: 1 for established TCP, 1 per ' +
					'management source and port, 1 per service port, and the final deny.',
			},
			{
				displayName: 'Auto-Mitigation Timeout During Incident',
				name: 'autoMitigationTimeOut',
				type: 'options',
				default: 'unchanged',
				displayOptions: { show: { operation: ['activate'] } },
				options: [
					{ name: 'Leave Unchanged', value: 'unchanged' },
					{ name: '15 Minutes', value: '15' },
					{ name: '1 Hour', value: '60' },
					{ name: '6 Hours', value: '360' },
					{ name: '26 Hours', value: '1560' },
				],
				description:
					"How long OVH keeps the IP in auto-mitigation after an attack (the IP's mitigation " +
					'profile), so that scrubbing goes on between waves. Withdraw puts the previous value ' +
					'back (or removes the profile activation created). Needs three more access rules, ' +
					'see the credential.',
			},
			{
				displayName: 'Force Withdraw',
				name: 'forceWithdraw',
				type: 'boolean',
				default: false,
				displayOptions: { show: { operation: ['withdraw'] } },
				description:
					'Whether to disable the firewall even if it was enabled before activation. Off: such ' +
					'a firewall is left enabled (with its original rules).',
			},
			{
				...restoreConfigurationProperty,
				description:
					'Optional. The firewall as it was before activation, e.g. {{ $json.original }} from ' +
					'an Activate output, used instead of the activation record: {"firewall": "none" | ' +
					'"disabled" | "enabled", "rules": [...]}. Leave empty to restore what activation ' +
					'recorded.',
			},
			{
				displayName: 'Wait Until Applied',
				name: 'waitUntilApplied',
				type: 'boolean',
				default: OVH_SETTLE.on,
				displayOptions: { show: { operation: ['activate', 'withdraw'] } },
				description:
					'Whether to wait until OVH has applied the last change before the node finishes. ' +
					'Changes that depend on an earlier one always wait for it (OVH refuses a change ' +
					'while another is pending).',
			},
			{
				displayName: 'Max Wait (Seconds)',
				name: 'maxWait',
				type: 'number',
				typeOptions: { minValue: 1, maxValue: 900 },
				default: OVH_SETTLE.maxWait,
				displayOptions: { show: { operation: ['activate', 'withdraw'] } },
				description:
					'Longest time the operation waits for OVH in all. A change still pending then is ' +
					'reported; running the node again resumes from there.',
			},
			requestOptionsProperty,
		],
	};

	methods = {
		listSearch: {
			searchIpBlocks: listSearch({
				api: ovhApi,
				list: async (client) =>
					(await ovhRequest<string[]>(client, { method: 'GET', path: '/ip' })).body ?? [],
				// The firewall is IPv4 only.
				hide: (block) => block.includes(':'),
				searchFields: (block) => [block],
				toResult: (block) => ({ name: block, value: block }),
			}),
		},
	};

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		return await runProvider(this, ovhDdosProtection);
	}
}
