import type { IExecuteFunctions, INodeExecutionData, INodeType, INodeTypeDescription } from 'n8n-workflow';
import { NodeConnectionTypes } from 'n8n-workflow';

import { operationProperty, requestOptionsProperty } from '../shared/properties';
import { runProvider } from '../shared/provider';
import { awsShieldAdvanced } from './operations';

export class AwsShieldAdvanced implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'AWS Shield Advanced',
		name: 'awsShieldAdvanced',
		icon: 'file:awsShieldAdvanced.svg',
		group: ['transform'],
		version: 1,
		subtitle: '={{$parameter["operation"]}}',
		description:
			'Ensure Shield Advanced protection and application-layer automatic response for an AWS resource, and undo exactly that',
		defaults: { name: 'AWS Shield Advanced' },
		usableAsTool: true,
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		credentials: [{ name: 'awsShieldMitigationApi', required: true }],
		properties: [
			operationProperty([], 'Shield Advanced mitigation'),
			{
				displayName: 'Resource ARN',
				name: 'resourceArn',
				type: 'string',
				default: '',
				required: true,
				placeholder: 'arn:aws:cloudfront::123456789012:distribution/E1A2B3C4D5E6F7',
				description:
					'ARN of the CloudFront distribution, Application or Classic Load Balancer, Elastic IP allocation, Global Accelerator or Route 53 hosted zone',
			},
			{
				displayName: 'Automatic Response',
				name: 'automaticResponse',
				type: 'options',
				default: 'BLOCK',
				displayOptions: { show: { operation: ['activate'] } },
				options: [
					{ name: 'Block', value: 'BLOCK', description: 'Shield adds WAF rules that block the attack requests' },
					{ name: 'Count', value: 'COUNT', description: 'Shield adds WAF rules that only count the attack requests' },
					{ name: 'Leave Unchanged', value: 'NONE', description: 'Only ensure the resource is protected (for resources without layer 7)' },
				],
				description:
					'Application-layer (L7) automatic response to switch on; CloudFront distributions and Application Load Balancers only, with an AWS WAF web ACL associated',
			},
			{
				displayName: 'Enable Proactive Engagement',
				name: 'proactiveEngagement',
				type: 'boolean',
				default: false,
				displayOptions: { show: { operation: ['activate'] } },
				description:
					'Whether to also enable proactive engagement of the Shield Response Team (account-wide; needs emergency contacts). Withdraw disables it again only if this activation enabled it.',
			},
			{
				displayName: 'Force Withdraw',
				name: 'forceWithdraw',
				type: 'boolean',
				default: false,
				displayOptions: { show: { operation: ['withdraw'] } },
				description:
					'Whether to switch automatic response off even where it was on before activation. A protection this package did not create is never deleted.',
			},
			requestOptionsProperty,
		],
	};

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		return await runProvider(this, awsShieldAdvanced);
	}
}
