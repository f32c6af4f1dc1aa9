import type {
	ICredentialDataDecryptedObject,
	ICredentialTestRequest,
	ICredentialType,
	IHttpRequestOptions,
	Icon,
	INodeProperties,
} from 'n8n-workflow';

import { OVH_ENDPOINTS, signOvhRequest } from '../nodes/Ovh/signature';

/**
 * OVHcloud API keys. Every request is signed by `authenticate` over the exact URL and body sent,
 * with OVH's server time (GET /auth/time), as OVH's official clients do.
 */
export class OvhMitigationApi implements ICredentialType {
	name = 'ovhMitigationApi';

	displayName = 'OVH Mitigation API';

	icon: Icon = { light: 'file:icons/ovh.svg', dark: 'file:icons/ovh.dark.svg' };

	documentationUrl =
		'https://help.ovhcloud.com/csm/en-gb-api-getting-started-ovhcloud-api?id=kb_article_view&sysparm_article=KB0042784';

	properties: INodeProperties[] = [
		{
			displayName: 'Endpoint',
			name: 'endpoint',
			type: 'options',
			default: 'ovh-eu',
			options: Object.entries(OVH_ENDPOINTS).map(([value, endpoint]) => ({
				name: endpoint.name,
				value,
				description: endpoint.url,
			})),
			description: 'The API where the keys were created: keys only work on their own endpoint',
		},
		{
			displayName: 'Application Key',
			name: 'applicationKey',
			type: 'string',
			default: '',
			required: true,
		},
		{
			displayName: 'Application Secret',
			name: 'applicationSecret',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			required: true,
		},
		{
			displayName: 'Consumer Key',
			name: 'consumerKey',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			required: true,
			description:
				"Create it at the endpoint's /createToken/ page with these access rules, each its own " +
				'row: GET /ip; GET /ip/*; POST /ip/*/firewall; PUT /ip/*/firewall/*; ' +
				'DELETE /ip/*/firewall/*; POST /ip/*/firewall/*/rule; DELETE /ip/*/firewall/*/rule/*. ' +
				'For Auto-Mitigation Timeout During Incident also: POST /ip/*/mitigationProfiles; ' +
				'PUT /ip/*/mitigationProfiles/*; DELETE /ip/*/mitigationProfiles/*',
		},
		{
			displayName: 'Base URL',
			name: 'baseUrl',
			type: 'string',
			default: '',
			placeholder: 'https://eu.api.ovh.com/1.0',
			description:
				"Leave empty to use the Endpoint's API root. Set only for an API gateway or a test server.",
		},
	];

	async authenticate(
		credentials: ICredentialDataDecryptedObject,
		requestOptions: IHttpRequestOptions,
	): Promise<IHttpRequestOptions> {
		return await signOvhRequest(credentials, requestOptions);
	}

	test: ICredentialTestRequest = {
		// Relative: `authenticate` resolves it against the Endpoint (or Base URL) and signs it.
		request: { url: '/auth/currentCredential' },
		rules: [
			{
				type: 'responseSuccessBody',
				properties: {
					key: 'status',
					value: 'pendingValidation',
					message:
						'This consumer key has not been validated yet: open its validation URL and log in, ' +
						'or create keys at the /createToken/ page',
				},
			},
			{
				type: 'responseSuccessBody',
				properties: {
					key: 'status',
					value: 'expired',
					message: 'This consumer key has expired: create new keys with an unlimited validity',
				},
			},
			{
				type: 'responseSuccessBody',
				properties: {
					key: 'status',
					value: 'refused',
					message: 'This consumer key was refused at validation: create new keys',
				},
			},
		],
	};
}
