import type {
	ICredentialsDecrypted,
	ICredentialTestFunctions,
	IExecuteFunctions,
	INodeCredentialTestResult,
	INodeExecutionData,
	INodeType,
	INodeTypeDescription,
} from 'n8n-workflow';
import { NodeConnectionTypes } from 'n8n-workflow';

import { DEFAULT_RETRY_POLICY } from '../shared/http';
import { requestOptionsProperty } from '../shared/properties';
import { runProvider } from '../shared/provider';
import { DISCARD_NEXT_HOP } from './input';
import { DEFAULT_MARKER, bgpMitigation } from './operations';
import { GobgpClient, readCredentials } from './transport';

export class BgpMitigation implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'BGP Mitigation (GoBGP)',
		name: 'bgpMitigation',
		icon: 'file:bgpMitigation.svg',
		group: ['transform'],
		version: 1,
		subtitle: '={{$parameter["operation"] + ": " + $parameter["method"]}}',
		description:
			'Announce or withdraw an RTBH blackhole route or a FlowSpec rule for an attacked prefix ' +
			'through gobgpd, towards your border routers',
		defaults: { name: 'BGP Mitigation (GoBGP)' },
		usableAsTool: true,
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		credentials: [{ name: 'gobgpApi', required: true, testedBy: 'gobgpApiTest' }],
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
						description: 'Turn BGP mitigation on (no change when it is already on)',
						action: 'Activate BGP mitigation',
					},
					{
						name: 'Get Status',
						value: 'getStatus',
						description: 'Read whether BGP mitigation is on',
						action: 'Get BGP mitigation status',
					},
					{
						name: 'Withdraw',
						value: 'withdraw',
						description:
							'Undo what activation changed (no change when BGP mitigation is already off)',
						action: 'Withdraw BGP mitigation',
					},
				],
			},
			{
				displayName: 'Prefix',
				name: 'prefix',
				type: 'string',
				default: '',
				required: true,
				placeholder: '203.0.113.10/32',
				description:
					'The attacked address or prefix (CIDR; a bare address means /32 or /128). RTBH makes ' +
					'all of it unreachable.',
			},
			{
				displayName: 'Method',
				name: 'method',
				type: 'options',
				noDataExpression: true,
				default: 'blackhole',
				options: [
					{
						name: 'Blackhole (RTBH)',
						value: 'blackhole',
						description:
							'A route with the BLACKHOLE community (RFC 7999): all traffic to the prefix ' +
							'is dropped',
					},
					{
						name: 'FlowSpec',
						value: 'flowspec',
						description:
							'A FlowSpec rule (RFC 8955): only matching traffic is dropped or rate-limited',
					},
				],
			},
			{
				displayName: 'Marker Community',
				name: 'markerCommunity',
				type: 'string',
				default: DEFAULT_MARKER,
				description:
					'A standard community (ASN:VALUE) added to every path this node announces, so that ' +
					"Get Status and Withdraw act only on this node's paths, never on another path for the " +
					'same prefix. Use your ASN; keep it the same in every workflow.',
			},
			{
				displayName: 'Blackhole Options',
				name: 'blackhole',
				type: 'collection',
				placeholder: 'Add Option',
				default: {},
				displayOptions: { show: { operation: ['activate'], method: ['blackhole'] } },
				options: [
					{
						displayName: 'Allow Wide Prefix',
						name: 'allowWidePrefix',
						type: 'boolean',
						default: false,
						description:
							'Whether to accept a prefix shorter than /24 (IPv4) or /48 (IPv6): every address ' +
							'in it becomes unreachable',
					},
					{
						displayName: 'Extra Communities',
						name: 'communities',
						type: 'string',
						default: '',
						placeholder: '65001:666, 64496:666:0',
						description:
							'Communities your upstream documents for blackholing, added to BLACKHOLE ' +
							'(65535:666): ASN:VALUE or large ASN:VALUE:VALUE, comma-separated',
					},
					{
						displayName: 'Next Hop',
						name: 'nextHop',
						type: 'string',
						default: '',
						placeholder: DISCARD_NEXT_HOP[4],
						description:
							`Next hop of the route; your border routers null-route it. Empty: ` +
							`${DISCARD_NEXT_HOP[4]} for IPv4, ${DISCARD_NEXT_HOP[6]} for IPv6.`,
					},
					{
						displayName: 'NO_EXPORT',
						name: 'noExport',
						type: 'boolean',
						default: true,
						description:
							'Whether to add NO_EXPORT (65535:65281) so the route never leaves your AS except ' +
							'where a router sets otherwise',
					},
				],
			},
			{
				displayName: 'FlowSpec Options',
				name: 'flowspec',
				type: 'collection',
				placeholder: 'Add Option',
				default: {},
				displayOptions: { show: { operation: ['activate'], method: ['flowspec'] } },
				options: [
					{
						displayName: 'Action',
						name: 'action',
						type: 'options',
						default: 'discard',
						options: [
							{ name: 'Discard', value: 'discard' },
							{ name: 'Rate Limit', value: 'rateLimit' },
						],
						description: 'What routers do with matching traffic (traffic-rate 0 or the limit)',
					},
					{
						displayName: 'Destination Ports',
						name: 'destinationPorts',
						type: 'string',
						default: '',
						placeholder: '53, 123, 1900-1910',
						description: 'Ports or ranges (0-65535), comma-separated. Empty: any port.',
					},
					{
						displayName: 'Protocol',
						name: 'protocol',
						type: 'options',
						default: 'any',
						options: [
							{ name: 'Any', value: 'any' },
							{ name: 'GRE', value: 'gre' },
							{ name: 'ICMP', value: 'icmp' },
							{ name: 'ICMPv6', value: 'icmpv6' },
							{ name: 'TCP', value: 'tcp' },
							{ name: 'UDP', value: 'udp' },
						],
					},
					{
						displayName: 'Rate Limit (Bytes per Second)',
						name: 'rateLimit',
						type: 'number',
						typeOptions: { minValue: 1 },
						default: 125000,
						description: 'Traffic allowed through when Action is Rate Limit (125000 = 1 Mbit/s)',
					},
					{
						displayName: 'Source Ports',
						name: 'sourcePorts',
						type: 'string',
						default: '',
						placeholder: '53',
						description:
							'Ports or ranges, comma-separated (e.g. 53 for DNS reflection). Empty: any port.',
					},
					{
						displayName: 'Source Prefix',
						name: 'sourcePrefix',
						type: 'string',
						default: '',
						placeholder: '198.51.100.0/24',
						description: 'Match only traffic from this prefix. Empty: any source.',
					},
				],
			},
			requestOptionsProperty,
		],
	};

	methods = {
		credentialTest: {
			async gobgpApiTest(
				this: ICredentialTestFunctions,
				credential: ICredentialsDecrypted,
			): Promise<INodeCredentialTestResult> {
				const client = GobgpClient.open(readCredentials(credential.data ?? {}), {
					...DEFAULT_RETRY_POLICY,
					maxAttempts: 1,
					timeoutMs: 5_000,
				});
				try {
					const { generation, asn, routerId } = await client.identify();
					return {
						status: 'OK',
						message: `Connected to gobgpd (API ${generation}, AS ${asn}, router ID ${routerId})`,
					};
				} catch (error) {
					const hint = (error as { details?: { hint?: string } }).details?.hint;
					const message = (error as Error).message;
					return { status: 'Error', message: hint ? `${message}. ${hint}` : message };
				} finally {
					client.close();
				}
			},
		},
	};

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		return await runProvider(this, bgpMitigation);
	}
}
