import { OvhMitigationApi } from '../../../credentials/OvhMitigationApi.credentials';
import { operationParams, providerRunner, rl } from '../../helpers/fixture';
import { OvhSimulator } from '../../simulators/ovh';

export const APP_KEY = 'ovhAppKey0123456';
export const APP_SECRET = 'ovhAppSecret0123456789abcdefABCD';
export const CONSUMER_KEY = 'ovhConsumerKey0123456789abcdefAB';
export const BLOCK = '203.0.113.0/24';
export const IP = '203.0.113.10';
export const SINGLE = '198.51.100.7/32';

/**
 * An OVH account with a /24 and a single-IP block, whose clock runs an hour ahead of this
 * machine's.
 */
export async function startOvh() {
	const sim = new OvhSimulator();
	sim.clockOffsetS = 3600;
	sim.addApplication(APP_KEY, APP_SECRET);
	sim.addConsumerKey(CONSUMER_KEY, { applicationKey: APP_KEY });
	sim.addBlock(BLOCK);
	sim.addBlock(SINGLE, 'ns7654321.ip-198-51-100.eu');
	await sim.start();
	return sim;
}

export const ovhCredentials = (sim: OvhSimulator, extra: Record<string, string> = {}) => ({
	endpoint: 'ovh-eu',
	applicationKey: APP_KEY,
	applicationSecret: APP_SECRET,
	consumerKey: CONSUMER_KEY,
	baseUrl: sim.baseUrl,
	...extra,
});

export const ovhRun = providerRunner((sim: OvhSimulator) => ({
	type: new OvhMitigationApi(),
	data: ovhCredentials(sim),
	maxAttempts: 3,
}));

/** The parameters of an operation on the /24's IP. */
export const params = operationParams(() => ({ ipBlock: rl(BLOCK), ip: IP }));

/**
 * A firewall set up by hand: SSH from an office, established TCP, DNS, HTTPS, ping, then deny the
 * rest.
 */
export function addUsersFirewall(sim: OvhSimulator, enabled: boolean, block = BLOCK, ip = IP) {
	return sim.addFirewall(block, ip, enabled, [
		{
			sequence: 0,
			action: 'permit',
			protocol: 'tcp',
			source: '198.51.100.0/24',
			destinationPort: 'eq 22',
		},
		{ sequence: 1, action: 'permit', protocol: 'tcp', tcpOption: 'established' },
		{
			sequence: 2,
			action: 'permit',
			protocol: 'udp',
			destinationPort: 'eq 53',
			sourcePort: 'eq 53',
		},
		{ sequence: 3, action: 'permit', protocol: 'tcp', destinationPort: 'eq 443', fragments: true },
		{ sequence: 4, action: 'permit', protocol: 'icmp', source: '192.0.2.7/32' },
		{ sequence: 19, action: 'deny', protocol: 'ipv4' },
	]);
}

/** The rules of a lockdown with the default management access and 443/tcp, 27015/udp served. */
export const LOCKDOWN_RULES = [
	{ sequence: 0, action: 'permit', protocol: 'tcp', source: 'any', tcpOption: 'established' },
	{ sequence: 1, action: 'permit', protocol: 'tcp', source: 'any', destinationPort: 'eq 22' },
	{ sequence: 2, action: 'permit', protocol: 'tcp', source: 'any', destinationPort: 'eq 443' },
	{ sequence: 3, action: 'permit', protocol: 'udp', source: 'any', destinationPort: 'eq 27015' },
	{ sequence: 19, action: 'deny', protocol: 'ipv4', source: 'any', destinationPort: null },
];
