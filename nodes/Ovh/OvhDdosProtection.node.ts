import type {
	IExecuteFunctions,
	ILoadOptionsFunctions,
	INodeExecutionData,
	INodeListSearchResult,
	INodeType,
	INodeTypeDescription,
} from 'n8n-workflow';
import { NodeConnectionTypes } from 'n8n-workflow';

import { ProviderClient } from '../shared/http';
import {
	locatorProperty,
	operationProperty,
	requestOptionsProperty,
	settleProperties,
} from '../shared/properties';
import { runProvider } from '../shared/provider';
import { OVH_SETTLE, ovhDdosProtection } from './operations';
import { ovhApi, ovhRequest } from './transport';

const MITIGATION_OPERATIONS = ['getStatus', 'activate', 'withdraw'];

export class OvhDdosProtection implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'OVH DDoS Protection',
		name: 'ovhDdosProtection',
		icon: { light: 'file:ovhDdosProtection.svg', dark: 'file:ovhDdosProtection.dark.svg' },
		group: ['transform'],
		version: 1,
		subtitle: '={{$parameter["operation"]}}',
		description:
			"Put an OVHcloud IP on permanent DDoS mitigation (traffic always goes through OVH's scrubbing) and back to automatic mode",
		defaults: { name: 'OVH DDoS Protection' },
		usableAsTool: true,
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		credentials: [{ name: 'ovhMitigationApi', required: true }],
		properties: [
			operationProperty(
				[
					{
						name: 'List IP Blocks',
						value: 'listIpBlocks',
						description: 'List the IP blocks of the OVH account',
						action: 'List IP blocks',
					},
					{
						name: 'List IPs Under Mitigation',
						value: 'listMitigations',
						description: 'List the IPs of a block that are on permanent or automatic mitigation',
						action: 'List IPs under mitigation',
					},
				],
				'permanent mitigation',
			),
			{
				...locatorProperty({
					displayName: 'IP Block',
					name: 'ipBlock',
					description:
						'The block as OVH lists it, e.g. 203.0.113.0/24, or 198.51.100.7/32 for a single IP',
					searchListMethod: 'searchIpBlocks',
					idPlaceholder: '203.0.113.0/24',
					idRegex: '^\\s*\\d{1,3}(\\.\\d{1,3}){3}(/\\d{1,2})?\\s*$',
					idError: 'An IPv4 block such as 203.0.113.0/24',
				}),
				displayOptions: { hide: { operation: ['listIpBlocks'] } },
			},
			{
				displayName: 'IP',
				name: 'ip',
				type: 'string',
				default: '',
				placeholder: '203.0.113.10',
				displayOptions: { show: { operation: MITIGATION_OPERATIONS } },
				description:
					"The IPv4 address to put on mitigation, inside the block. Leave empty when the block is a single IP (/32): the block's address is used.",
			},
			{
				displayName: 'Force Withdraw',
				name: 'forceWithdraw',
				type: 'boolean',
				default: false,
				displayOptions: { show: { operation: ['withdraw'] } },
				description:
					'Whether to remove even an IP that was already on permanent mitigation before this package activated it. Off: such an IP is left on.',
			},
			...settleProperties({
				defaultOn: false,
				maxWait: OVH_SETTLE.maxWait,
				description:
					'Whether to wait until OVH has applied the change (creationPending -> ok on activate, removalPending -> removed on withdraw) before the node finishes',
			}),
			requestOptionsProperty,
		],
	};

	methods = {
		listSearch: {
			async searchIpBlocks(
				this: ILoadOptionsFunctions,
				filter?: string,
			): Promise<INodeListSearchResult> {
				const client = await ProviderClient.create(this, ovhApi);
				const response = await ovhRequest<string[]>(client, { method: 'GET', path: '/ip' });
				const needle = filter?.trim() ?? '';
				return {
					results: (response.body ?? [])
						.filter((block) => block.includes(needle) && !block.includes(':'))
						.map((block) => ({ name: block, value: block })),
				};
			},
		},
	};

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		return await runProvider(this, ovhDdosProtection);
	}
}
