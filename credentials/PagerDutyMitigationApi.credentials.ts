import type {
	IAuthenticateGeneric,
	Icon,
	ICredentialTestRequest,
	ICredentialType,
	INodeProperties,
} from 'n8n-workflow';

import { TEST_BASE_URL } from './common';

/** Used by the PagerDuty Incident Trigger to manage its webhook subscription. */
export class PagerDutyMitigationApi implements ICredentialType {
	name = 'pagerDutyMitigationApi';

	displayName = 'PagerDuty Mitigation API';

	icon: Icon = 'file:icons/pagerDuty.svg';

	documentationUrl = 'https://support.pagerduty.com/main/docs/api-access-keys';

	properties: INodeProperties[] = [
		{
			displayName: 'API Token',
			name: 'apiToken',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			required: true,
			description:
				'A REST API key (account-level general access key, or a user token) that may manage ' +
				'webhook subscriptions. A read-only key cannot create the subscription.',
		},
		{
			displayName: 'Base URL',
			name: 'baseUrl',
			type: 'string',
			default: 'https://api.pagerduty.com',
			description:
				'PagerDuty REST API root. Use https://api.eu.pagerduty.com for EU service regions; ' +
				'change otherwise only for a gateway or a test server.',
		},
	];

	authenticate: IAuthenticateGeneric = {
		type: 'generic',
		properties: {
			headers: { Authorization: '=Token token={{$credentials.apiToken}}' },
		},
	};

	test: ICredentialTestRequest = {
		request: {
			baseURL: TEST_BASE_URL,
			url: '/abilities',
			headers: { Accept: 'application/vnd.pagerduty+json;version=2' },
		},
	};
}
