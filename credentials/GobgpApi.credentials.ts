import type { Icon, ICredentialType, INodeProperties } from 'n8n-workflow';

/**
 * Where gobgpd's gRPC API listens. gobgpd has no API authentication of its own: bind it to loopback
 * or a management address, or turn on its TLS. gRPC is not HTTP n8n can send, so the BGP Mitigation
 * node tests it (see `testedBy`).
 */
export class GobgpApi implements ICredentialType {
	name = 'gobgpApi';

	displayName = 'GoBGP API';

	icon: Icon = 'file:icons/gobgp.svg';

	documentationUrl = 'https://github.com/osrg/gobgp/blob/master/docs/sources/grpc-client.md';

	properties: INodeProperties[] = [
		{
			displayName: 'Host',
			name: 'host',
			type: 'string',
			default: '127.0.0.1',
			required: true,
			description:
				"Address of gobgpd's gRPC API (gobgpd --api-hosts). Keep it on loopback or a management " +
				'network.',
		},
		{
			displayName: 'Port',
			name: 'port',
			type: 'number',
			typeOptions: { minValue: 1, maxValue: 65535 },
			default: 50051,
			description: "Port of gobgpd's gRPC API (50051 unless --api-hosts says otherwise)",
		},
		{
			displayName: 'Use TLS',
			name: 'tls',
			type: 'boolean',
			default: false,
			description:
				'Whether gobgpd runs with --tls --tls-cert-file --tls-key-file (off by default, as ' +
				'in gobgpd)',
		},
		{
			displayName: 'CA Certificate',
			name: 'caCertificate',
			type: 'string',
			typeOptions: { password: true },
			displayOptions: { show: { tls: [true] } },
			default: '',
			placeholder: '-----BEGIN CERTIFICATE-----',
			description:
				"PEM of the CA that signed gobgpd's certificate (or the self-signed certificate " +
				"itself). Empty: the system's trusted CAs.",
		},
		{
			displayName: 'Server Name',
			name: 'serverName',
			type: 'string',
			displayOptions: { show: { tls: [true] } },
			default: '',
			placeholder: 'gobgp.example.net',
			description:
				"The name in gobgpd's certificate, when it differs from Host (e.g. Host is an IP address)",
		},
	];
}
