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
import { managementProperties, restoreConfigurationProperty } from '../shared/lockdown';
import {
	locatorProperty,
	matchesSearch,
	operationProperty,
	requestOptionsProperty,
} from '../shared/properties';
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
			"Lock a Vultr firewall group's instances down to management access during an attack, and put them back in their own, unchanged group afterwards",
		defaults: { name: 'Vultr Firewall' },
		usableAsTool: true,
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		credentials: [{ name: 'vultrMitigationApi', required: true }],
		properties: [
			operationProperty([], 'firewall lockdown'),
			locatorProperty({
				displayName: 'Firewall Group',
				name: 'firewallGroupId',
				description: 'The firewall group whose instances are locked down',
				searchListMethod: 'searchFirewallGroups',
				idPlaceholder: 'cb676a46-66fd-4dfb-b839-443f2e6c0b60',
			}),
			...managementProperties,
			restoreConfigurationProperty,
			requestOptionsProperty,
		],
	};

	methods = {
		listSearch: {
			async searchFirewallGroups(
				this: ILoadOptionsFunctions,
				filter?: string,
			): Promise<INodeListSearchResult> {
				const client = await ProviderClient.create(this, vultrApi);
				const groups = (
					await listAll<FirewallGroup>(client, '/firewalls', 'firewall_groups')
				).filter(
					(g) =>
						!g.description.startsWith(LOCKDOWN_PREFIX) &&
						matchesSearch(filter, g.description, g.id),
				);
				return {
					results: groups.map((g) => ({
						name: `${g.description || g.id} (${g.instance_count} instances, ${g.rule_count} rules)`,
						value: g.id,
						url: `https://my.vultr.com/firewall/?id=${g.id}`,
					})),
				};
			},
		},
	};

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		return await runProvider(this, vultrFirewall);
	}
}
