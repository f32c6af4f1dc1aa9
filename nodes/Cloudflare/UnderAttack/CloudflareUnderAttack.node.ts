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
import { underAttack, underAttackApi } from './operations';

export class CloudflareUnderAttack implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Cloudflare Under Attack Mode',
		name: 'cloudflareUnderAttack',
		icon: 'file:cloudflareUnderAttack.svg',
		group: ['transform'],
		version: 1,
		subtitle: '={{$parameter["operation"]}}',
		description:
			"Switch a Cloudflare zone's security level to Under Attack Mode and back to exactly " +
			'the level it had before',
		defaults: { name: 'Cloudflare Under Attack Mode' },
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
						description: 'Turn Under Attack Mode on (no change when it is already on)',
						action: 'Activate Under Attack Mode',
					},
					{
						name: 'Get Status',
						value: 'getStatus',
						description: 'Read whether Under Attack Mode is on',
						action: 'Get Under Attack Mode status',
					},
					{
						name: 'Withdraw',
						value: 'withdraw',
						description:
							'Undo what activation changed (no change when Under Attack Mode is already off)',
						action: 'Withdraw Under Attack Mode',
					},
				],
			},
			{
				displayName: 'Zone',
				name: 'zoneId',
				type: 'resourceLocator',
				default: { mode: 'list', value: '' },
				required: true,
				description: 'The zone (site) to protect',
				modes: [
					{
						displayName: 'From List',
						name: 'list',
						type: 'list',
						typeOptions: { searchListMethod: 'searchZones', searchable: true },
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
									regex: '^[0-9a-fA-F]{32}$',
									errorMessage: 'A Zone ID is 32 hexadecimal characters',
								},
							},
						],
					},
				],
			},
			{
				displayName: 'Fallback Level',
				name: 'fallbackLevel',
				type: 'options',
				default: 'medium',
				displayOptions: { show: { operation: ['withdraw'] } },
				options: [
					{ name: 'Off', value: 'off' },
					{ name: 'Essentially Off', value: 'essentially_off' },
					{ name: 'Low', value: 'low' },
					{ name: 'Medium', value: 'medium' },
					{ name: 'High', value: 'high' },
				],
				description:
					'Security level to set when no record of the level before activation is found (e.g. ' +
					"activation ran in another workflow after an n8n restart). Cloudflare's default is " +
					'Medium.',
			},
			{
				displayName: 'Force Withdraw',
				name: 'forceWithdraw',
				type: 'boolean',
				default: false,
				displayOptions: { show: { operation: ['withdraw'] } },
				description:
					'Whether to switch Under Attack Mode off even when it was already on before this ' +
					'package activated it. Off: it is left on.',
			},
			requestOptionsProperty,
		],
	};

	methods = { listSearch: cloudflareListSearch(underAttackApi) };

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		return await runProvider(this, underAttack);
	}
}
