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
 * Request header `<service>/<region>` naming the SigV4 scope of a request that is not for Shield
 * (the node's AWS WAF and CloudFront reads). aws4 could infer it from a real AWS host, not from a
 * gateway or test server on the credential's Base URL, so it is always given; it is removed before
 * signing and never sent.
 */
export const SIGNING_SCOPE_HEADER = 'x-n8n-aws-signing-scope';

/**
 * AWS access key for Shield Advanced; every request is signed with SigV4 (service shield, region
 * us-east-1, unless the request names another scope in SIGNING_SCOPE_HEADER).
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
			requestOptions.body === undefined
				? ''
				: typeof requestOptions.body === 'string'
					? requestOptions.body
					: JSON.stringify(requestOptions.body);
		const headers: Record<string, string> = {};
		for (const [name, value] of Object.entries(requestOptions.headers ?? {}))
			headers[name.toLowerCase()] = String(value);
		const [service, region] = (headers[SIGNING_SCOPE_HEADER] ?? 'shield/us-east-1').split('/');
		delete headers[SIGNING_SCOPE_HEADER];
		if (body !== '') headers['content-type'] ??= 'application/x-amz-json-1.1';
		const sessionToken = String(credentials.sessionToken ?? '').trim();
		const signed = sign(
			{
				host: url.host,
				path: url.pathname + url.search,
				method: requestOptions.method ?? 'POST',
				headers,
				body,
				service,
				region,
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
			...(body === '' ? {} : { body }),
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
