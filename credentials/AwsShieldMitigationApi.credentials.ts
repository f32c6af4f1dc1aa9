import { sign } from 'aws4';
import type {
	ICredentialDataDecryptedObject,
	ICredentialTestRequest,
	ICredentialType,
	IHttpRequestOptions,
	Icon,
	INodeProperties,
} from 'n8n-workflow';

import { TEST_BASE_URL } from './common';

/**
 * AWS access key for Shield Advanced; every request is signed with SigV4 (service shield, region
 * us-east-1).
 */
export class AwsShieldMitigationApi implements ICredentialType {
	name = 'awsShieldMitigationApi';

	displayName = 'AWS Shield Mitigation API';

	icon: Icon = 'file:icons/awsShield.svg';

	documentationUrl = 'https://docs.aws.amazon.com/waf/latest/developerguide/shd-security-iam.html';

	properties: INodeProperties[] = [
		{
			displayName: 'Access Key ID',
			name: 'accessKeyId',
			type: 'string',
			default: '',
			required: true,
			placeholder: 'AKIAIOSFODNN7EXAMPLE',
		},
		{
			displayName: 'Secret Access Key',
			name: 'secretAccessKey',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			required: true,
		},
		{
			displayName: 'Session Token',
			name: 'sessionToken',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			description: 'Only for temporary credentials (access key ids starting with ASIA)',
		},
		{
			displayName: 'Base URL',
			name: 'baseUrl',
			type: 'string',
			default: 'https://shield.us-east-1.amazonaws.com',
			description:
				'Shield API endpoint (a global API served from us-east-1). Change only for a VPC ' +
				'endpoint, gateway or test server.',
		},
	];

	async authenticate(
		credentials: ICredentialDataDecryptedObject,
		requestOptions: IHttpRequestOptions,
	): Promise<IHttpRequestOptions> {
		const base = String(requestOptions.baseURL ?? credentials.baseUrl ?? '').replace(/\/+$/, '');
		const url = new URL(
			/^https?:\/\//i.test(requestOptions.url) ? requestOptions.url : base + requestOptions.url,
		);
		const body =
			typeof requestOptions.body === 'string'
				? requestOptions.body
				: JSON.stringify(requestOptions.body ?? {});
		const headers: Record<string, string> = {};
		for (const [name, value] of Object.entries(requestOptions.headers ?? {}))
			headers[name.toLowerCase()] = String(value);
		headers['content-type'] ??= 'application/x-amz-json-1.1';
		const sessionToken = String(credentials.sessionToken ?? '').trim();
		const signed = sign(
			{
				host: url.host,
				path: url.pathname + url.search,
				method: requestOptions.method ?? 'POST',
				headers,
				body,
				service: 'shield',
				region: 'us-east-1',
			},
			{
				accessKeyId: String(credentials.accessKeyId ?? '').trim(),
				secretAccessKey: String(credentials.secretAccessKey ?? '').trim(),
				...(sessionToken ? { sessionToken } : {}),
			},
		);
		const { baseURL: _base, ...rest } = requestOptions;
		return {
			...rest,
			url: url.toString(),
			method: signed.method as IHttpRequestOptions['method'],
			body,
			headers: signed.headers as IHttpRequestOptions['headers'],
		};
	}

	test: ICredentialTestRequest = {
		request: {
			baseURL: TEST_BASE_URL,
			url: '/',
			method: 'POST',
			headers: { 'X-Amz-Target': 'AWSShield_20160616.GetSubscriptionState' },
			body: {},
		},
		rules: [
			{
				type: 'responseSuccessBody',
				properties: {
					key: 'SubscriptionState',
					value: 'INACTIVE',
					message:
						'The credential works, but this AWS account has no active Shield Advanced ' +
						'subscription: subscribe in the AWS Shield console, or use the account that ' +
						'holds it',
				},
			},
		],
	};
}
