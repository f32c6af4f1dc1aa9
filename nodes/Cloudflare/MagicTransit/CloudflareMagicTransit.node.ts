import type {
	IExecuteFunctions,
	INodeExecutionData,
	INodeType,
	INodeTypeDescription,
} from 'n8n-workflow';
import { NodeConnectionTypes } from 'n8n-workflow';

import { requestOptionsProperty } from '../../shared/properties';
import { runProvider } from '../../shared/provider';
import { cloudflareListSearch } from '../listSearch';
import { magicTransit, magicTransitApi } from './operations';

const HEX32 = '^[0-9a-fA-F]{32}$';
const ADVERTISEMENT_OPERATIONS = ['getStatus', 'activate', 'withdraw'];

export class CloudflareMagicTransit implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Cloudflare Magic Transit',
		name: 'cloudflareMagicTransit',
		icon: {
			light: 'file:cloudflareMagicTransit.svg',
			dark: 'file:cloudflareMagicTransit.dark.svg',
		},
		group: ['transform'],
		version: 1,
		subtitle: '={{$parameter["operation"]}}',
		description:
			'Advertise or withdraw a Magic Transit on-demand BYOIP prefix over BGP, so attack traffic ' +
			'is scrubbed by Cloudflare',
		defaults: { name: 'Cloudflare Magic Transit' },
		usableAsTool: true,
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		credentials: [{ name: 'cloudflareMitigationApi', required: true }],
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
						description: 'Turn prefix advertisement on (no change when it is already on)',
						action: 'Activate prefix advertisement',
					},
					{
						name: 'Get Status',
						value: 'getStatus',
						description: 'Read whether prefix advertisement is on',
						action: 'Get prefix advertisement status',
					},
					{
						name: 'List Prefixes',
						value: 'listPrefixes',
						description: 'List the IP prefixes of the account with their on-demand flags',
						action: 'List prefixes',
					},
					{
						name: 'Withdraw',
						value: 'withdraw',
						description:
							'Undo what activation changed (no change when prefix advertisement is already off)',
						action: 'Withdraw prefix advertisement',
					},
				],
			},
			{
				displayName: 'Account',
				name: 'accountId',
				type: 'resourceLocator',
				default: { mode: 'list', value: '' },
				required: true,
				description:
					'The Cloudflare account that owns the prefix (the Account ID in the dashboard ' +
					'sidebar, not a Zone ID)',
				modes: [
					{
						displayName: 'From List',
						name: 'list',
						type: 'list',
						typeOptions: { searchListMethod: 'searchAccounts', searchable: true },
					},
					{
						displayName: 'By ID',
						name: 'id',
						type: 'string',
						placeholder: '023e105f4ecef8ad9ca31a8372d0c353',
						validation: [
							{
								type: 'regex',
								properties: {
									regex: HEX32,
									errorMessage: 'An Account ID is 32 hexadecimal characters',
								},
							},
						],
					},
				],
			},
			{
				displayName: 'Prefix',
				name: 'prefixId',
				type: 'resourceLocator',
				default: { mode: 'list', value: '' },
				required: true,
				description:
					'The BYOIP prefix to advertise; it must be enabled for on-demand advertisement',
				displayOptions: { hide: { operation: ['listPrefixes'] } },
				modes: [
					{
						displayName: 'From List',
						name: 'list',
						type: 'list',
						typeOptions: { searchListMethod: 'searchPrefixes', searchable: true },
					},
					{
						displayName: 'By ID',
						name: 'id',
						type: 'string',
						placeholder: '2af39739cc4e3b5910c918468bb89828',
						validation: [
							{
								type: 'regex',
								properties: {
									regex: HEX32,
									errorMessage: 'A Prefix ID is 32 hexadecimal characters',
								},
							},
						],
					},
				],
			},
			{
				displayName: 'Advertise',
				name: 'advertisement',
				type: 'options',
				default: 'prefix',
				displayOptions: { show: { operation: ADVERTISEMENT_OPERATIONS } },
				options: [
					{
						name: 'One BGP Prefix (Subnet)',
						value: 'bgpPrefix',
						description:
							'Only one BGP prefix onboarded under the IP prefix, e.g. the attacked /24 of a ' +
							'/22; the other subnets are left as they are',
					},
					{
						name: 'Whole IP Prefix',
						value: 'prefix',
						description: 'The whole IP prefix, as one announcement',
					},
				],
			},
			{
				displayName: 'BGP Prefix',
				name: 'bgpPrefixId',
				type: 'resourceLocator',
				default: { mode: 'list', value: '' },
				required: true,
				description:
					'The BGP prefix (subnet) to advertise. Only BGP prefixes onboarded under the IP prefix ' +
					'can be announced on their own.',
				displayOptions: {
					show: { operation: ADVERTISEMENT_OPERATIONS, advertisement: ['bgpPrefix'] },
				},
				modes: [
					{
						displayName: 'From List',
						name: 'list',
						type: 'list',
						typeOptions: { searchListMethod: 'searchBgpPrefixes', searchable: true },
					},
					{
						displayName: 'By ID',
						name: 'id',
						type: 'string',
						placeholder: '7009ba364c7a5760798ceb430e603b74',
						validation: [
							{
								type: 'regex',
								properties: {
									regex: HEX32,
									errorMessage: 'A BGP Prefix ID is 32 hexadecimal characters',
								},
							},
						],
					},
					{
						displayName: 'By CIDR',
						name: 'cidr',
						type: 'string',
						placeholder: '203.0.113.0/24',
						validation: [
							{
								type: 'regex',
								properties: {
									regex: '^\\s*[0-9a-fA-F.:]+(/\\d{1,3})?\\s*$',
									errorMessage:
										'Enter the BGP prefix as a CIDR block, e.g. 203.0.113.0/24 or 2001:db8::/48',
								},
							},
						],
					},
				],
			},
			{
				displayName: 'Force Withdraw',
				name: 'forceWithdraw',
				type: 'boolean',
				default: false,
				displayOptions: { show: { operation: ['withdraw'] } },
				description:
					'Whether to withdraw even a prefix (or BGP prefix) that was already advertised before ' +
					'this package activated it. Off: such a prefix is left advertised.',
			},
			requestOptionsProperty,
		],
	};

	methods = { listSearch: cloudflareListSearch(magicTransitApi) };

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		return await runProvider(this, magicTransit);
	}
}
