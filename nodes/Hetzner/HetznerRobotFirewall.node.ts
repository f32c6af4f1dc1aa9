import type {
	IExecuteFunctions,
	INodeExecutionData,
	INodeType,
	INodeTypeDescription,
} from 'n8n-workflow';
import { NodeConnectionTypes } from 'n8n-workflow';

import { listSearch } from '../shared/listSearch';
import { MAX_WAIT_DESCRIPTION, requestOptionsProperty } from '../shared/properties';
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
			"Switch a Hetzner dedicated server's Robot firewall on and off, keeping every rule " +
			'configured in Robot',
		defaults: { name: 'Hetzner Robot Firewall' },
		usableAsTool: true,
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		credentials: [{ name: 'hetznerRobotMitigationApi', required: true }],
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
						description: 'Turn the firewall on (no change when it is already on)',
						action: 'Activate the firewall',
					},
					{
						name: 'Get Status',
						value: 'getStatus',
						description: 'Read whether the firewall is on',
						action: 'Get the firewall status',
					},
					{
						name: 'List Servers',
						value: 'listServers',
						description: 'List the dedicated servers of the Robot account',
						action: 'List servers',
					},
					{
						name: 'Withdraw',
						value: 'withdraw',
						description:
							'Undo what activation changed (no change when the firewall is already off)',
						action: 'Withdraw the firewall',
					},
				],
			},
			{
				displayName: 'Server',
				name: 'server',
				type: 'resourceLocator',
				default: { mode: 'list', value: '' },
				required: true,
				description:
					"The server number shown in Robot, or the server's main IPv4 address (not a failover IP)",
				displayOptions: { hide: { operation: ['listServers'] } },
				modes: [
					{
						displayName: 'From List',
						name: 'list',
						type: 'list',
						typeOptions: { searchListMethod: 'searchServers', searchable: true },
					},
					{
						displayName: 'By ID',
						name: 'id',
						type: 'string',
						placeholder: '321',
						validation: [
							{
								type: 'regex',
								properties: {
									regex: '^\\s*(\\d{1,10}|\\d{1,3}(\\.\\d{1,3}){3})\\s*$',
									errorMessage: 'A server number such as 321, or a main IPv4 address',
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
					'Whether to disable even a firewall that was already active before this package ' +
					'activated it. Off: such a firewall is left active.',
			},
			{
				displayName: 'Wait Until Applied',
				name: 'waitUntilApplied',
				type: 'boolean',
				default: ROBOT_SETTLE.on,
				displayOptions: { show: { operation: ['activate', 'withdraw'] } },
				description:
					'Whether to wait while Robot shows the firewall "in process" (before and after the ' +
					'change), so the result is the applied state',
			},
			{
				displayName: 'Max Wait (Seconds)',
				name: 'maxWait',
				type: 'number',
				typeOptions: { minValue: 1, maxValue: 900 },
				default: ROBOT_SETTLE.maxWait,
				displayOptions: { show: { operation: ['activate', 'withdraw'], waitUntilApplied: [true] } },
				description: MAX_WAIT_DESCRIPTION,
			},
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
