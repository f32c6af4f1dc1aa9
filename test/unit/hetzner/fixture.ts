import { HetznerRobotMitigationApi } from '../../../credentials/HetznerRobotMitigationApi.credentials';
import { providerRunner } from '../../helpers/fixture';
import { HetznerSimulator, type SimRule } from '../../simulators/hetzner';

export const USER = '#ws+AbCdEfGh';
export const PASSWORD = 'robot-pass-0123456789';
export const SERVER = 321;
export const SERVER_IP = '192.0.2.21';
export const BARE_SERVER = 654;

const rule = (fields: SimRule): SimRule => ({
	ip_version: null,
	name: null,
	dst_ip: null,
	src_ip: null,
	dst_port: null,
	src_port: null,
	protocol: null,
	tcp_flags: null,
	action: null,
	...fields,
});

/**
 * The rules a user configured in Robot: they must survive every activate and withdraw untouched.
 */
export const RULES = {
	input: [
		rule({
			ip_version: 'ipv4',
			name: 'ssh from office',
			src_ip: '198.51.100.0/24',
			dst_port: '22',
			protocol: 'tcp',
			action: 'accept',
		}),
		rule({
			ip_version: 'ipv4',
			name: 'web',
			dst_port: '80,443',
			protocol: 'tcp',
			action: 'accept',
		}),
		rule({
			ip_version: 'ipv4',
			name: 'established',
			dst_port: '32768-65535',
			protocol: 'tcp',
			tcp_flags: 'ack',
			action: 'accept',
		}),
		rule({ name: 'drop rest', action: 'discard' }),
	],
	output: [rule({ name: 'allow all', action: 'accept' })],
};

/**
 * A Robot account with a server whose firewall has rules (disabled) and a server with no rules
 * configured.
 */
export async function startHetzner() {
	const sim = new HetznerSimulator();
	sim.addUser(USER, PASSWORD);
	sim.addServer(SERVER, SERVER_IP, {
		filter_ipv6: true,
		whitelist_hos: false,
		rules: structuredClone(RULES),
	});
	sim.addServer(BARE_SERVER, '192.0.2.54');
	await sim.start();
	return sim;
}

export const hetznerCredentials = (sim: HetznerSimulator, extra: Record<string, string> = {}) => ({
	username: USER,
	password: PASSWORD,
	baseUrl: sim.baseUrl,
	...extra,
});

export const hetznerRun = providerRunner((sim: HetznerSimulator) => ({
	type: new HetznerRobotMitigationApi(),
	data: hetznerCredentials(sim),
	maxAttempts: 3,
}));
