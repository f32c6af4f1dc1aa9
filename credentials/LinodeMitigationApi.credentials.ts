import type {
	IAuthenticateGeneric,
	Icon,
	ICredentialTestRequest,
	ICredentialType,
	INodeProperties,
} from 'n8n-workflow';

import { TEST_BASE_URL } from './common';

export class LinodeMitigationApi implements ICredentialType {
	name = 'linodeMitigationApi';

	displayName = 'Linode Mitigation API';

	icon: Icon = 'file:icons/linode.svg';

	documentationUrl =
		'https://techdocs.akamai.com/cloud-computing/docs/manage-personal-access-tokens';

	properties: INodeProperties[] = [
		{
			displayName: 'Access Token',
			name: 'accessToken',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			required: true,
			description:
				'A personal access token from cloud.linode.com/profile/tokens with Firewalls: Read/Write ' +
				'(Read Only is enough for Get Status)',
		},
		{
			displayName: 'Base URL',
			name: 'baseUrl',
			type: 'string',
			default: 'https://api.linode.com/v4',
			description: 'Linode API root. Change only for an API gateway or a test server.',
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
			url: '/profile',
		},
	};
}
