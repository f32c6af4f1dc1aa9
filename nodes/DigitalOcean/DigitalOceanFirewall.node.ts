import type {
	IExecuteFunctions,
	INodeExecutionData,
	INodeType,
	INodeTypeDescription,
} from 'n8n-workflow';
import { NodeConnectionTypes } from 'n8n-workflow';

import { managementProperties, restoreConfigurationProperty } from '../shared/lockdown';
import { listSearch } from '../shared/listSearch';
import { lockdownOperationProperty, requestOptionsProperty } from '../shared/properties';
import { runProvider } from '../shared/provider';
import { LOCKDOWN_PREFIX, digitalOceanFirewall } from './operations';
import { digitalOceanApi, listFirewalls } from './transport';

export class DigitalOceanFirewall implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'DigitalOcean Cloud Firewall',
		name: 'digitalOceanFirewall',
		icon: 'file:digitalOcean.svg',
		group: ['transform'],
		version: 1,
		subtitle: '={{$parameter["operation"]}}',
		description:
			'Lock a DigitalOcean Cloud Firewall down to management access during an attack, and give ' +
			'the Droplets back their own firewall, unchanged, afterwards',
		defaults: { name: 'DigitalOcean Cloud Firewall' },
		usableAsTool: true,
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		credentials: [{ name: 'digitalOceanMitigationApi', required: true }],
		properties: [
			lockdownOperationProperty,
			{
				displayName: 'Firewall',
				name: 'firewallId',
				type: 'resourceLocator',
				default: { mode: 'list', value: '' },
				required: true,
				description: 'The Cloud Firewall whose Droplets and tags are locked down',
				modes: [
					{
						displayName: 'From List',
						name: 'list',
						type: 'list',
						typeOptions: { searchListMethod: 'searchFirewalls', searchable: true },
					},
					{
						displayName: 'By ID',
						name: 'id',
						type: 'string',
						placeholder: 'bb4b2611-3d72-467b-8602-280330ecd65c',
						validation: [
							{
								type: 'regex',
								properties: {
									regex:
										'^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$',
									errorMessage:
										'A Firewall ID is a UUID ' +
										'(Networking > Firewalls > your firewall: the last part of the URL)',
								},
							},
						],
					},
				],
			},
			...managementProperties,
			restoreConfigurationProperty,
			requestOptionsProperty,
		],
	};

	methods = {
		listSearch: {
			searchFirewalls: listSearch({
				api: digitalOceanApi,
				list: async (client) => await listFirewalls(client),
				hide: (f) => f.name.startsWith(LOCKDOWN_PREFIX),
				searchFields: (f) => [f.name, f.id],
				toResult: (f) => ({
					name: `${f.name} (${f.droplet_ids?.length ?? 0} Droplets, ${f.tags?.length ?? 0} tags)`,
					value: f.id,
					url: `https://cloud.digitalocean.com/networking/firewalls/${f.id}/rules`,
				}),
			}),
		},
	};

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		return await runProvider(this, digitalOceanFirewall);
	}
}
