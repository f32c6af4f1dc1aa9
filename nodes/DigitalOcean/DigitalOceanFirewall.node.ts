import type {
	IExecuteFunctions,
	INodeExecutionData,
	INodeType,
	INodeTypeDescription,
} from 'n8n-workflow';
import { NodeConnectionTypes } from 'n8n-workflow';

import { managementProperties, restoreConfigurationProperty } from '../shared/lockdown';
import { listSearch } from '../shared/listSearch';
import { locatorProperty, operationProperty, requestOptionsProperty } from '../shared/properties';
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
			'Lock a DigitalOcean Cloud Firewall down to management access during an attack, and give the Droplets back their own firewall, unchanged, afterwards',
		defaults: { name: 'DigitalOcean Cloud Firewall' },
		usableAsTool: true,
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		credentials: [{ name: 'digitalOceanMitigationApi', required: true }],
		properties: [
			operationProperty([], 'firewall lockdown'),
			locatorProperty({
				displayName: 'Firewall',
				name: 'firewallId',
				description: 'The Cloud Firewall whose Droplets and tags are locked down',
				searchListMethod: 'searchFirewalls',
				idPlaceholder: 'bb4b2611-3d72-467b-8602-280330ecd65c',
				idRegex: '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$',
				idError:
					'A Firewall ID is a UUID (Networking > Firewalls > your firewall: the last part of the URL)',
			}),
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
