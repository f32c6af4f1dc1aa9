import type {
	IAuthenticateGeneric,
	Icon,
	ICredentialTestRequest,
	ICredentialType,
	INodeProperties,
} from 'n8n-workflow';

import { TEST_BASE_URL } from './common';

/** Shared by Cloudflare Magic Transit and Cloudflare Under Attack Mode. */
export class CloudflareMitigationApi implements ICredentialType {
	name = 'cloudflareMitigationApi';

	displayName = 'Cloudflare Mitigation API';

	icon: Icon = 'file:icons/cloudflare.svg';

	documentationUrl = 'https://developers.cloudflare.com/fundamentals/api/get-started/create-token/';

	properties: INodeProperties[] = [
		{
			displayName: 'API Token',
			name: 'apiToken',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			required: true,
			description:
				'An API token (not the Global API Key). Magic Transit needs Account: IP Prefixes: Edit ' +
				'and Account: Magic Transit: Edit; Under Attack Mode needs Zone: Zone Settings: Edit ' +
				'and Zone: Zone: Read.',
		},
		{
			displayName: 'Account ID (for Account-Owned Tokens)',
			name: 'accountId',
			type: 'string',
			default: '',
			description:
				'Only for account-owned API tokens: the credential test then verifies the token against ' +
				'this account. Leave empty for user tokens.',
		},
		{
			displayName: 'Base URL',
			name: 'baseUrl',
			type: 'string',
			default: 'https://api.cloudflare.com/client/v4',
			description: 'Cloudflare API root. Change only for an API gateway or a test server.',
		},
	];

	authenticate: IAuthenticateGeneric = {
		type: 'generic',
		properties: {
			headers: { Authorization: '=Bearer {{$credentials.apiToken}}' },
		},
	};

	test: ICredentialTestRequest = {
		request: {
			baseURL: TEST_BASE_URL,
			url:
				'={{$credentials.accountId ? "/accounts/" + $credentials.accountId.trim() + ' +
				'"/tokens/verify" : "/user/tokens/verify"}}',
		},
		rules: [
			{
				type: 'responseSuccessBody',
				properties: {
					key: 'result.status',
					value: 'disabled',
					message: 'This API token is disabled in Cloudflare',
				},
			},
			{
				type: 'responseSuccessBody',
				properties: {
					key: 'result.status',
					value: 'expired',
					message: 'This API token has expired',
				},
			},
		],
	};
}
