import { DigitalOceanMitigationApi } from '../../../credentials/DigitalOceanMitigationApi.credentials';
import { providerRunner } from '../../helpers/fixture';
import { DigitalOceanSimulator, type Scope, type SimFirewall } from '../../simulators/digitalOcean';

export const TOKEN = 'dop_v1_0123456789abcdef0123456789abcdef';

export const digitalOceanRun = providerRunner((sim: DigitalOceanSimulator) => ({
	type: new DigitalOceanMitigationApi(),
	data: { accessToken: TOKEN, baseUrl: sim.baseUrl },
	maxAttempts: 2,
}));

/**
 * A production web firewall with a realistic rule set: IPv4 and IPv6, port ranges, sources by tag,
 * Droplet and load balancer.
 */
export function webFirewall(): Omit<
	SimFirewall,
	'id' | 'status' | 'created_at' | 'pending_changes'
> {
	return {
		name: 'web-prod',
		droplet_ids: [101, 102],
		tags: ['web'],
		inbound_rules: [
			{
				protocol: 'tcp',
				ports: '22',
				sources: { addresses: ['203.0.113.0/24', '2001:db8:1::/48'] },
			},
			{ protocol: 'tcp', ports: '80', sources: { addresses: ['0.0.0.0/0', '::/0'] } },
			{
				protocol: 'tcp',
				ports: '443',
				sources: { load_balancer_uids: ['4de7ac8b-495b-4884-9a69-1050c6793cd6'] },
			},
			{ protocol: 'tcp', ports: '8000-8100', sources: { tags: ['web'], droplet_ids: [104] } },
			{ protocol: 'udp', ports: '53', sources: { addresses: ['198.51.100.7'] } },
			{ protocol: 'icmp', ports: '0', sources: { addresses: ['0.0.0.0/0', '::/0'] } },
		],
		outbound_rules: [
			{ protocol: 'tcp', ports: '0', destinations: { addresses: ['0.0.0.0/0', '::/0'] } },
			{ protocol: 'udp', ports: '0', destinations: { addresses: ['0.0.0.0/0', '::/0'] } },
			{ protocol: 'icmp', ports: '0', destinations: { addresses: ['0.0.0.0/0', '::/0'] } },
		],
	};
}

/**
 * What the lockdown firewall holds when Management Sources is left empty: the web firewall's
 * Droplets and tags, and of its inbound rules only the one that already allowed port 22 (the
 * office ranges), not anywhere.
 */
export function lockdownOfWeb() {
	const { droplet_ids, tags, inbound_rules } = webFirewall();
	return { droplet_ids, tags, inbound_rules: inbound_rules.filter((rule) => rule.ports === '22') };
}

export async function startDigitalOcean(scopes: Scope[] = ['read', 'write']) {
	const sim = new DigitalOceanSimulator();
	sim.addToken(TOKEN, scopes);
	sim.addDroplet(101, ['web']);
	sim.addDroplet(102);
	sim.addDroplet(103, ['web']);
	sim.addDroplet(104, ['db']);
	sim.loadBalancers.add('4de7ac8b-495b-4884-9a69-1050c6793cd6');
	const web = sim.addFirewall(webFirewall());
	const db = sim.addFirewall({
		name: 'db-private',
		tags: ['db'],
		inbound_rules: [{ protocol: 'tcp', ports: '5432', sources: { tags: ['web'] } }],
	});
	await sim.start();
	return { sim, web, db };
}

/** The provider's state as a plain copy, for field-by-field comparison. */
export const snapshot = (sim: DigitalOceanSimulator) =>
	[...sim.firewalls.values()]
		.map((fw) => structuredClone(fw))
		.sort((a, b) => a.name.localeCompare(b.name));
