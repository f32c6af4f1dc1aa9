import { LinodeMitigationApi } from '../../../credentials/LinodeMitigationApi.credentials';
import { providerRunner } from '../../helpers/fixture';
import { LinodeSimulator, type Grant, type SimRules } from '../../simulators/linode';

export const TOKEN = 'linode-pat-0123456789abcdef0123456789abcdef';

export const linodeRun = providerRunner((sim: LinodeSimulator) => ({
	type: new LinodeMitigationApi(),
	data: { accessToken: TOKEN, baseUrl: sim.baseUrl },
	maxAttempts: 2,
}));

/**
 * A realistic rule set: IPv4 and IPv6, port lists and ranges, UDP, ICMP, a DROP rule, outbound
 * rules.
 */
export function webRules(): Omit<SimRules, 'version' | 'fingerprint'> {
	return {
		inbound: [
			{
				action: 'ACCEPT',
				protocol: 'TCP',
				ports: '22',
				addresses: { ipv4: ['203.0.113.0/24'], ipv6: ['2001:db8:1::/48'] },
				label: 'ssh-office',
			},
			{
				action: 'ACCEPT',
				protocol: 'TCP',
				ports: '80, 443',
				addresses: { ipv4: ['0.0.0.0/0'], ipv6: ['::/0'] },
				label: 'web',
				description: 'public web',
			},
			{
				action: 'ACCEPT',
				protocol: 'TCP',
				ports: '8000-8100',
				addresses: { ipv4: ['10.0.0.0/8'] },
				label: 'app-range',
			},
			{ action: 'ACCEPT', protocol: 'UDP', ports: '53', addresses: { ipv4: ['198.51.100.7/32'] } },
			{
				action: 'ACCEPT',
				protocol: 'ICMP',
				addresses: { ipv4: ['0.0.0.0/0'], ipv6: ['::/0'] },
				label: 'ping',
			},
			{
				action: 'DROP',
				protocol: 'TCP',
				ports: '3306',
				addresses: { ipv4: ['0.0.0.0/0'] },
				label: 'no-mysql',
			},
		],
		inbound_policy: 'DROP',
		outbound: [
			{
				action: 'DROP',
				protocol: 'TCP',
				ports: '25',
				addresses: { ipv4: ['0.0.0.0/0'], ipv6: ['::/0'] },
				label: 'no-smtp',
			},
		],
		outbound_policy: 'ACCEPT',
	};
}

export async function startLinode(grant: Grant = 'read_write') {
	const sim = new LinodeSimulator();
	sim.addToken(TOKEN, grant);
	sim.linodes.set(201, 'web-1');
	sim.linodes.set(202, 'web-2');
	const web = sim.addFirewall({ label: 'web-prod', linodes: [201, 202], rules: webRules() });
	sim.addFirewall({
		label: 'spare',
		rules: { inbound: [], inbound_policy: 'ACCEPT', outbound: [], outbound_policy: 'ACCEPT' },
	});
	await sim.start();
	return { sim, web };
}

/** Every firewall with its rules (without the version counters Linode bumps on every change). */
export const snapshot = (sim: LinodeSimulator) =>
	[...sim.firewalls.values()]
		.map((fw) => {
			const { version, fingerprint, ...rules } = structuredClone(fw.rules);
			void version;
			void fingerprint;
			const { updated, ...rest } = structuredClone(fw);
			void updated;
			return { ...rest, rules };
		})
		.sort((a, b) => a.id - b.id);
