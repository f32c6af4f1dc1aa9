import type {
	IExecuteFunctions,
	INodeExecutionData,
	INodeType,
	INodeTypeDescription,
} from 'n8n-workflow';
import { NodeConnectionTypes } from 'n8n-workflow';

import { listSearch } from '../shared/listSearch';
import { requestOptionsProperty } from '../shared/properties';
import { runProvider } from '../shared/provider';
import { ARN, awsShieldAdvanced, type Protection } from './operations';
import { shieldApi, shieldListAll } from './transport';

const EXAMPLE_ARN = 'arn:aws:cloudfront::123456789012:distribution/E1A2B3C4D5E6F7';

export class AwsShieldAdvanced implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'AWS Shield Advanced',
		name: 'awsShieldAdvanced',
		icon: 'file:awsShieldAdvanced.svg',
		group: ['transform'],
		version: 1,
		subtitle: '={{$parameter["operation"]}}',
		description:
			'Ensure Shield Advanced protection and application-layer automatic response for an AWS ' +
			'resource, and undo exactly that',
		defaults: { name: 'AWS Shield Advanced' },
		usableAsTool: true,
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		credentials: [{ name: 'awsShieldMitigationApi', required: true }],
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
						description: 'Turn Shield Advanced mitigation on (no change when it is already on)',
						action: 'Activate Shield Advanced mitigation',
					},
					{
						name: 'Get Status',
						value: 'getStatus',
						description: 'Read whether Shield Advanced mitigation is on',
						action: 'Get Shield Advanced mitigation status',
					},
					{
						name: 'Withdraw',
						value: 'withdraw',
						description:
							'Undo what activation changed (no change when Shield Advanced mitigation is ' +
							'already off)',
						action: 'Withdraw Shield Advanced mitigation',
					},
				],
			},
			{
				displayName: 'Resource',
				name: 'resourceArn',
				type: 'resourceLocator',
				default: { mode: 'list', value: '' },
				required: true,
				description:
					'The CloudFront distribution, Application or Classic Load Balancer, Elastic IP ' +
					'allocation, Global Accelerator or Route 53 hosted zone. The list shows resources ' +
					'Shield Advanced already protects; enter the ARN of any other.',
				modes: [
					{
						displayName: 'From List',
						name: 'list',
						type: 'list',
						typeOptions: { searchListMethod: 'searchProtectedResources', searchable: true },
					},
					{
						displayName: 'By ARN',
						name: 'id',
						type: 'string',
						placeholder: EXAMPLE_ARN,
						validation: [
							{
								type: 'regex',
								properties: {
									regex: ARN.source,
									errorMessage: `Enter the resource ARN, e.g. ${EXAMPLE_ARN}`,
								},
							},
						],
					},
				],
			},
			{
				displayName: 'Automatic Response',
				name: 'automaticResponse',
				type: 'options',
				default: 'BLOCK',
				displayOptions: { show: { operation: ['activate'] } },
				options: [
					{
						name: 'Block',
						value: 'BLOCK',
						description: 'Shield adds WAF rules that block the attack requests',
					},
					{
						name: 'Count',
						value: 'COUNT',
						description: 'Shield adds WAF rules that only count the attack requests',
					},
					{
						name: 'Leave Unchanged',
						value: 'NONE',
						description: 'Only ensure the resource is protected (for resources without layer 7)',
					},
				],
				description:
					'Application-layer (L7) automatic response to switch on; CloudFront distributions and ' +
					'Application Load Balancers only, with an AWS WAF web ACL associated',
			},
			{
				displayName: 'Enable Proactive Engagement',
				name: 'proactiveEngagement',
				type: 'boolean',
				default: false,
				displayOptions: { show: { operation: ['activate'] } },
				description:
					'Whether to also enable proactive engagement of the Shield Response Team ' +
					'(account-wide; needs emergency contacts). Withdraw disables it again only if this ' +
					'activation enabled it.',
			},
			{
				displayName: 'Force Withdraw',
				name: 'forceWithdraw',
				type: 'boolean',
				default: false,
				displayOptions: { show: { operation: ['withdraw'] } },
				description:
					'Whether to switch automatic response off even where it was on before activation. ' +
					'A protection this package did not create is never deleted.',
			},
			{
				displayName: 'Protection Created by Activate',
				name: 'createdProtection',
				type: 'options',
				default: 'keep',
				displayOptions: { show: { operation: ['withdraw'] } },
				options: [
					{
						name: 'Keep (Recommended)',
						value: 'keep',
						description:
							'Shield learns the traffic baseline it detects attacks against over 24 hours ' +
							'to 30 days; deleting the protection throws that away before the next wave',
					},
					{
						name: 'Delete',
						value: 'delete',
						description: 'Restore the account exactly as it was before activation',
					},
				],
				description:
					'What withdraw does with a protection that activation created (one that existed ' +
					'before is never deleted)',
			},
			requestOptionsProperty,
		],
	};

	methods = {
		listSearch: {
			searchProtectedResources: listSearch({
				api: shieldApi,
				list: async (client) =>
					await shieldListAll<Protection>(client, 'ListProtections', 'Protections'),
				searchFields: (p) => [p.Name, p.ResourceArn],
				toResult: (p) => ({ name: `${p.Name ?? p.Id} (${p.ResourceArn})`, value: p.ResourceArn }),
			}),
		},
	};

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		return await runProvider(this, awsShieldAdvanced);
	}
}
