import type {
	IExecuteFunctions,
	INodeExecutionData,
	INodeType,
	INodeTypeDescription,
} from 'n8n-workflow';
import { NodeConnectionTypes } from 'n8n-workflow';

import { listSearch } from '../shared/listSearch';
import { managementProperties, restoreConfigurationProperty } from '../shared/lockdown';
import { lockdownOperationProperty, requestOptionsProperty } from '../shared/properties';
import { runProvider } from '../shared/provider';
import { LOCKDOWN_PREFIX, vultrFirewall } from './operations';
import { listAll, vultrApi, type FirewallGroup } from './transport';

export class VultrFirewall implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Vultr Firewall',
		name: 'vultrFirewall',
		icon: 'file:vultr.svg',
		group: ['transform'],
		version: 1,
		subtitle: '={{$parameter["operation"]}}',
		description:
			"Lock a Vultr firewall group's instances down to management access during an attack, " +
			'and put them back in their own, unchanged group afterwards',
		defaults: { name: 'Vultr Firewall' },
		usableAsTool: true,
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		credentials: [{ name: 'vultrMitigationApi', required: true }],
		properties: [
			lockdownOperationProperty,
			{
				displayName: 'Firewall Group',
				name: 'firewallGroupId',
				type: 'resourceLocator',
				default: { mode: 'list', value: '' },
				required: true,
				description: 'The firewall group whose instances are locked down',
				modes: [
					{
						displayName: 'From List',
						name: 'list',
						type: 'list',
						typeOptions: { searchListMethod: 'searchFirewallGroups', searchable: true },
					},
					{
						displayName: 'By ID',
						name: 'id',
						type: 'string',
						placeholder: 'cb676a46-66fd-4dfb-b839-443f2e6c0b60',
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
			searchFirewallGroups: listSearch({
				api: vultrApi,
				list: async (client) =>
					await listAll<FirewallGroup>(client, '/firewalls', 'firewall_groups'),
				hide: (g) => g.description.startsWith(LOCKDOWN_PREFIX),
				searchFields: (g) => [g.description, g.id],
				toResult: (g) => ({
					name: `${g.description || g.id} (${g.instance_count} instances, ${g.rule_count} rules)`,
					value: g.id,
					url: `https://my.vultr.com/firewall/?id=${g.id}`,
				}),
			}),
		},
	};

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		return await runProvider(this, vultrFirewall);
	}
}
