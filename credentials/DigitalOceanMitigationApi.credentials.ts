import type {
	IAuthenticateGeneric,
	Icon,
	ICredentialTestRequest,
	ICredentialType,
	INodeProperties,
} from 'n8n-workflow';

import { TEST_BASE_URL } from './common';

export class DigitalOceanMitigationApi implements ICredentialType {
	name = 'digitalOceanMitigationApi';

	displayName = 'DigitalOcean Mitigation API';

	icon: Icon = 'file:icons/digitalOcean.svg';

	documentationUrl = 'https://docs.digitalocean.com/reference/api/create-personal-access-token/';

	properties: INodeProperties[] = [
		{
			displayName: 'Access Token',
			name: 'accessToken',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			required: true,
			description:
				'A personal access token (not an OAuth app token). Scopes: firewall (read, create, ' +
				'update, delete), account:read for the credential test, and droplet:read / tag:read ' +
				'for what the firewall is attached to; or Full Access.',
		},
		{
			displayName: 'Base URL',
			name: 'baseUrl',
			type: 'string',
			default: 'https://api.digitalocean.com',
			description:
				'DigitalOcean API root (without /v2). Change only for an API gateway or a test server.',
		},
	];

	authenticate: IAuthenticateGeneric = {
		type: 'generic',
		properties: {
			headers: { Authorization: '=Bearer {{$credentials.accessToken}}' },
		},
	};

	test: ICredentialTestRequest = {
		request: {
			baseURL: TEST_BASE_URL,
			url: '/v2/account',
		},
	};
}
