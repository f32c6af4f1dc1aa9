import type {
	IExecuteFunctions,
	INodeExecutionData,
	INodeType,
	INodeTypeDescription,
} from 'n8n-workflow';
import { NodeConnectionTypes } from 'n8n-workflow';

import { listSearch } from '../shared/listSearch';
import {
	locatorProperty,
	operationProperty,
	requestOptionsProperty,
	settleProperties,
} from '../shared/properties';
import { runProvider } from '../shared/provider';
import { ROBOT_SETTLE, hetznerRobotFirewall } from './operations';
import { robotApi } from './transport';

/** An entry of Robot's GET /server. */
interface RobotServer {
	server: { server_number: number; server_ip: string | null; server_name?: string };
}

/** "321 web-1 (203.0.113.7)": the number Robot shows, then the name and main IPv4 where set. */
function serverLabel({ server }: RobotServer): string {
	const name = server.server_name ? ` ${server.server_name}` : '';
	const ip = server.server_ip ? ` (${server.server_ip})` : '';
	return `${server.server_number}${name}${ip}`;
}

export class HetznerRobotFirewall implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Hetzner Robot Firewall',
		name: 'hetznerRobotFirewall',
		icon: 'file:hetznerRobotFirewall.svg',
		group: ['transform'],
		version: 1,
		subtitle: '={{$parameter["operation"]}}',
		description:
			"Switch a Hetzner dedicated server's Robot firewall on and off, keeping every rule configured in Robot",
		defaults: { name: 'Hetzner Robot Firewall' },
		usableAsTool: true,
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		credentials: [{ name: 'hetznerRobotMitigationApi', required: true }],
		properties: [
			operationProperty(
				[
					{
						name: 'List Servers',
						value: 'listServers',
						description: 'List the dedicated servers of the Robot account',
						action: 'List servers',
					},
				],
				'the firewall',
			),
			{
				...locatorProperty({
					displayName: 'Server',
					name: 'server',
					description:
						"The server number shown in Robot, or the server's main IPv4 address (not a failover IP)",
					searchListMethod: 'searchServers',
					idPlaceholder: '321',
					idRegex: '^\\s*(\\d{1,10}|\\d{1,3}(\\.\\d{1,3}){3})\\s*$',
					idError: 'A server number such as 321, or a main IPv4 address',
				}),
				displayOptions: { hide: { operation: ['listServers'] } },
			},
			{
				displayName: 'Force Withdraw',
				name: 'forceWithdraw',
				type: 'boolean',
				default: false,
				displayOptions: { show: { operation: ['withdraw'] } },
				description:
					'Whether to disable even a firewall that was already active before this package activated it. Off: such a firewall is left active.',
			},
			...settleProperties({
				defaultOn: ROBOT_SETTLE.on,
				maxWait: ROBOT_SETTLE.maxWait,
				description:
					'Whether to wait while Robot shows the firewall "in process" (before and after the change), so the result is the applied state',
			}),
			requestOptionsProperty,
		],
	};

	methods = {
		listSearch: {
			searchServers: listSearch({
				api: robotApi,
				list: async (client) =>
					(await client.request<RobotServer[]>({ method: 'GET', path: '/server' })).body ?? [],
				searchFields: (item) => [serverLabel(item)],
				toResult: (item) => ({ name: serverLabel(item), value: String(item.server.server_number) }),
			}),
		},
	};

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		return await runProvider(this, hetznerRobotFirewall);
	}
}
