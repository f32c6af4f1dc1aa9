import type {
	IExecuteFunctions,
	INodeExecutionData,
	INodeType,
	INodeTypeDescription,
} from 'n8n-workflow';
import { NodeConnectionTypes } from 'n8n-workflow';

import {
	locatorProperty,
	operationProperty,
	requestOptionsProperty,
} from '../../shared/properties';
import { runProvider } from '../../shared/provider';
import { cloudflareListSearch } from '../listSearch';
import { SECURITY_LEVELS, underAttack, underAttackApi } from './operations';

const LEVEL_NAMES: Record<string, string> = {
	off: 'Off',
	essentially_off: 'Essentially Off',
	low: 'Low',
	medium: 'Medium',
	high: 'High',
};

export class CloudflareUnderAttack implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Cloudflare Under Attack Mode',
		name: 'cloudflareUnderAttack',
		icon: 'file:cloudflareUnderAttack.svg',
		group: ['transform'],
		version: 1,
		subtitle: '={{$parameter["operation"]}}',
		description:
			"Switch a Cloudflare zone's security level to Under Attack Mode and back to exactly the level it had before",
		defaults: { name: 'Cloudflare Under Attack Mode' },
		usableAsTool: true,
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		credentials: [{ name: 'cloudflareMitigationApi', required: true }],
		properties: [
			operationProperty([], 'Under Attack Mode'),
			locatorProperty({
				displayName: 'Zone',
				name: 'zoneId',
				description: 'The zone (site) to protect',
				searchListMethod: 'searchZones',
				idPlaceholder: '023e105f4ecef8ad9ca31a8372d0c353',
				idRegex: '^[0-9a-fA-F]{32}$',
				idError: 'A Zone ID is 32 hexadecimal characters',
			}),
			{
				displayName: 'Fallback Level',
				name: 'fallbackLevel',
				type: 'options',
				default: 'medium',
				displayOptions: { show: { operation: ['withdraw'] } },
				options: SECURITY_LEVELS.filter((level) => level !== 'under_attack').map((value) => ({
					name: LEVEL_NAMES[value],
					value,
				})),
				description:
					"Security level to set when no record of the level before activation is found (e.g. activation ran in another workflow after an n8n restart). Cloudflare's default is Medium.",
			},
			{
				displayName: 'Force Withdraw',
				name: 'forceWithdraw',
				type: 'boolean',
				default: false,
				displayOptions: { show: { operation: ['withdraw'] } },
				description:
					'Whether to switch Under Attack Mode off even when it was already on before this package activated it. Off: it is left on.',
			},
			requestOptionsProperty,
		],
	};

	methods = { listSearch: cloudflareListSearch(underAttackApi) };

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		return await runProvider(this, underAttack);
	}
}
