import type {
	IAuthenticateGeneric,
	Icon,
	ICredentialTestRequest,
	ICredentialType,
	INodeProperties,
} from 'n8n-workflow';

import { TEST_BASE_URL } from './common';

export class VultrMitigationApi implements ICredentialType {
	name = 'vultrMitigationApi';

	displayName = 'Vultr Mitigation API';

	icon: Icon = 'file:icons/vultr.svg';

	documentationUrl = 'https://docs.vultr.com/platform/other/api/enable-api-access';

	properties: INodeProperties[] = [
		{
			displayName: 'API Key',
			name: 'apiKey',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			required: true,
			description:
				'The API key from my.vultr.com/settings/#settingsapi. If the key is restricted to IP ' +
				"addresses, allow this n8n server's public IP.",
		},
		{
			displayName: 'Base URL',
			name: 'baseUrl',
			type: 'string',
			default: 'https://api.vultr.com/v2',
			description: 'Vultr API root. Change only for an API gateway or a test server.',
		},
	];

	authenticate: IAuthenticateGeneric = {
		type: 'generic',
		properties: {
			headers: { Authorization: '=Bearer {{$credentials.apiKey}}' },
		},
	};

	test: ICredentialTestRequest = {
		request: {
			baseURL: TEST_BASE_URL,
			url: '/account',
		},
	};
}
