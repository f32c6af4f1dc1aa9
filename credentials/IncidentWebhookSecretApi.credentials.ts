import type { Icon, ICredentialType, INodeProperties } from 'n8n-workflow';

/**
 * The shared secret senders use to sign (HMAC-SHA256) or authorize (Bearer) requests to the
 * Incident Webhook Trigger. Nothing is sent anywhere with it, so the trigger node tests it locally
 * (see `testedBy`).
 */
export class IncidentWebhookSecretApi implements ICredentialType {
	name = 'incidentWebhookSecretApi';

	displayName = 'Incident Webhook Secret';

	icon: Icon = 'file:icons/incidentWebhook.svg';

	documentationUrl =
		'https://github.com/n8n-nodes-ddos-mitigation/n8n-nodes-ddos-mitigation#incident-webhook-trigger';

	properties: INodeProperties[] = [
		{
			displayName: 'Secret',
			name: 'secret',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			required: true,
			description:
				'At least 32 characters, e.g. the output of `openssl rand -hex 32`. ' +
				'The same value is configured on the sender (signing key or Bearer token).',
		},
		{
			displayName: 'Previous Secret',
			name: 'previousSecret',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			description:
				'Optional. Also accepted while senders move to the new secret; clear it once every ' +
				'sender uses the new one.',
		},
	];
}
