import type {
	IAuthenticateGeneric,
	Icon,
	ICredentialTestRequest,
	ICredentialType,
	INodeProperties,
} from 'n8n-workflow';

import { TEST_BASE_URL } from './common';

/**
 * Hetzner Robot webservice login (HTTP Basic), for dedicated servers; not a Hetzner Cloud token.
 */
export class HetznerRobotMitigationApi implements ICredentialType {
	name = 'hetznerRobotMitigationApi';

	displayName = 'Hetzner Robot Mitigation API';

	icon: Icon = 'file:icons/hetzner.svg';

	documentationUrl = 'https://robot.hetzner.com/doc/webservice/en.html#general';

	properties: INodeProperties[] = [
		{
			displayName: 'Username',
			name: 'username',
			type: 'string',
			default: '',
			required: true,
			placeholder: '#ws+AbCdEfGh',
			description:
				'The Robot webservice user from Robot > Settings > Webservice and app settings; it ' +
				'starts with #ws+. Hetzner Cloud API tokens and your account login do not work here.',
		},
		{
			displayName: 'Password',
			name: 'password',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			required: true,
		},
		{
			displayName: 'Base URL',
			name: 'baseUrl',
			type: 'string',
			default: 'https://robot-ws.your-server.de',
			description: 'Robot webservice root. Change only for an API gateway or a test server.',
		},
	];

	authenticate: IAuthenticateGeneric = {
		type: 'generic',
		properties: {
			auth: { username: '={{$credentials.username}}', password: '={{$credentials.password}}' },
		},
	};

	test: ICredentialTestRequest = {
		// A cheap read every webservice user may make. A 401 here counts as a failed login at Robot
		// (three block the IP).
		request: { baseURL: TEST_BASE_URL, url: '/server' },
	};
}
