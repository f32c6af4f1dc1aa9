import type { INodeProperties } from 'n8n-workflow';

import { DEFAULT_RETRY_POLICY } from './http';

/** The `operation` parameter of the three lockdown firewalls (DigitalOcean, Vultr, Linode). */
export const lockdownOperationProperty: INodeProperties = {
	displayName: 'Operation',
	name: 'operation',
	type: 'options',
	noDataExpression: true,
	default: 'getStatus',
	options: [
		{
			name: 'Activate',
			value: 'activate',
			description: 'Turn firewall lockdown on (no change when it is already on)',
			action: 'Activate firewall lockdown',
		},
		{
			name: 'Get Status',
			value: 'getStatus',
			description: 'Read whether firewall lockdown is on',
			action: 'Get firewall lockdown status',
		},
		{
			name: 'Withdraw',
			value: 'withdraw',
			description: 'Undo what activation changed (no change when firewall lockdown is already off)',
			action: 'Withdraw firewall lockdown',
		},
	],
};

/** Retry and timeout settings under the node's Options, shared by every provider node. */
export const requestOptionsProperty: INodeProperties = {
	displayName: 'Options',
	name: 'requestOptions',
	type: 'collection',
	placeholder: 'Add Option',
	default: {},
	options: [
		{
			displayName: 'Max Attempts',
			name: 'maxAttempts',
			type: 'number',
			typeOptions: { minValue: 1, maxValue: 20 },
			default: DEFAULT_RETRY_POLICY.maxAttempts,
			description:
				'How many times to try a request that hit a rate limit, a server error or a connection ' +
				'error. Authentication failures are never retried.',
		},
		{
			displayName: 'Max Retry Time (Seconds)',
			name: 'maxRetryTime',
			type: 'number',
			typeOptions: { minValue: 0 },
			default: DEFAULT_RETRY_POLICY.maxRetryTimeMs / 1000,
			description: 'Stop retrying rather than wait past this many seconds since the first attempt',
		},
		{
			displayName: 'Request Timeout (Seconds)',
			name: 'timeout',
			type: 'number',
			typeOptions: { minValue: 1 },
			default: DEFAULT_RETRY_POLICY.timeoutMs / 1000,
			description: 'How long to wait for one response',
		},
	],
};

/** "Max Wait (Seconds)" of the nodes that wait for an asynchronous change to apply. */
export const MAX_WAIT_DESCRIPTION =
	'Stop waiting after this long and report the state the provider shows then ' +
	'(the change goes on by itself)';
