import type {
	IExecuteFunctions,
	INodeExecutionData,
	INodeType,
	INodeTypeDescription,
} from 'n8n-workflow';
import { NodeConnectionTypes } from 'n8n-workflow';

import { listSearch } from '../shared/listSearch';
import {
	managementProperties,
	nothingSavedProperty,
	restoreConfigurationProperty,
} from '../shared/lockdown';
import { lockdownOperationProperty, requestOptionsProperty } from '../shared/properties';
import { runProvider } from '../shared/provider';
import { SNAPSHOT_PREFIX, linodeFirewall } from './operations';
import { linodeApi, listFirewalls } from './transport';

export class LinodeFirewall implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Linode Cloud Firewall',
		name: 'linodeFirewall',
		icon: 'file:linode.svg',
		group: ['transform'],
		version: 1,
		subtitle: '={{$parameter["operation"]}}',
		description:
			'Lock a Linode (Akamai) Cloud Firewall down to management access during an attack, ' +
			'keeping a copy of its rules at Linode, and restore them exactly afterwards',
		defaults: { name: 'Linode Cloud Firewall' },
		usableAsTool: true,
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		credentials: [{ name: 'linodeMitigationApi', required: true }],
		properties: [
			lockdownOperationProperty,
			{
				displayName: 'Firewall',
				name: 'firewallId',
				type: 'resourceLocator',
				default: { mode: 'list', value: '' },
				required: true,
				description: 'The Cloud Firewall to lock down',
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
						placeholder: '123456',
						validation: [
							{
								type: 'regex',
								properties: {
									regex: '^\\d+$',
									errorMessage:
										'A Firewall ID is a number ' +
										'(Network > Firewalls > your firewall: the number in the URL)',
								},
							},
						],
					},
				],
			},
			...managementProperties,
			restoreConfigurationProperty,
			nothingSavedProperty,
			requestOptionsProperty,
		],
	};

	methods = {
		listSearch: {
			searchFirewalls: listSearch({
				api: linodeApi,
				list: async (client) => await listFirewalls(client),
				hide: (f) => f.label.startsWith(SNAPSHOT_PREFIX),
				searchFields: (f) => [f.label, f.id],
				toResult: (f) => ({
					name: `${f.label} (${f.status})`,
					value: String(f.id),
					url: `https://cloud.linode.com/firewalls/${f.id}`,
				}),
			}),
		},
	};

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		return await runProvider(this, linodeFirewall);
	}
}
