import { VultrMitigationApi } from '../../../credentials/VultrMitigationApi.credentials';
import { providerRunner } from '../../helpers/fixture';
import { VultrSimulator } from '../../simulators/vultr';

export const KEY = 'VULTRKEY0123456789ABCDEFGHIJKLMNOPQR';

export const vultrRun = providerRunner((sim: VultrSimulator) => ({
	type: new VultrMitigationApi(),
	data: { apiKey: KEY, baseUrl: sim.baseUrl },
	maxAttempts: 2,
}));

/**
 * A group with a realistic rule set (IPv4 and IPv6, a port range, UDP, ICMP, a Cloudflare source)
 * and two instances.
 */
export async function startVultr(allowed = true) {
	const sim = new VultrSimulator();
	sim.addKey(KEY, allowed);
	const web = sim.addGroup({ description: 'web-prod' });
	const db = sim.addGroup({ description: 'db-private' });
	sim.addGroupRule(web.id, {
		ip_type: 'v4',
		protocol: 'tcp',
		port: '22',
		subnet: '203.0.113.0',
		subnet_size: 24,
		notes: 'office ssh',
	});
	sim.addGroupRule(web.id, {
		ip_type: 'v6',
		protocol: 'tcp',
		port: '22',
		subnet: '2001:db8:1::',
		subnet_size: 48,
	});
	sim.addGroupRule(web.id, {
		ip_type: 'v4',
		protocol: 'tcp',
		port: '80',
		subnet: '0.0.0.0',
		subnet_size: 0,
	});
	sim.addGroupRule(web.id, {
		ip_type: 'v6',
		protocol: 'tcp',
		port: '80',
		subnet: '::',
		subnet_size: 0,
	});
	sim.addGroupRule(web.id, {
		ip_type: 'v4',
		protocol: 'tcp',
		port: '443',
		subnet: '',
		subnet_size: 0,
		source: 'cloudflare',
	});
	sim.addGroupRule(web.id, {
		ip_type: 'v4',
		protocol: 'tcp',
		port: '8000:8100',
		subnet: '10.0.0.0',
		subnet_size: 8,
	});
	sim.addGroupRule(web.id, {
		ip_type: 'v4',
		protocol: 'udp',
		port: '53',
		subnet: '198.51.100.7',
		subnet_size: 32,
	});
	sim.addGroupRule(web.id, {
		ip_type: 'v4',
		protocol: 'icmp',
		port: '',
		subnet: '0.0.0.0',
		subnet_size: 0,
	});
	sim.addGroupRule(db.id, {
		ip_type: 'v4',
		protocol: 'tcp',
		port: '5432',
		subnet: '10.0.0.0',
		subnet_size: 8,
	});
	sim.addInstance({
		id: 'a1b2c3d4-0000-4000-8000-000000000001',
		label: 'web-1',
		main_ip: '192.0.2.11',
		firewall_group_id: web.id,
	});
	sim.addInstance({
		id: 'a1b2c3d4-0000-4000-8000-000000000002',
		label: 'web-2',
		main_ip: '192.0.2.12',
		firewall_group_id: web.id,
	});
	sim.addInstance({
		id: 'a1b2c3d4-0000-4000-8000-000000000003',
		label: 'db-1',
		main_ip: '192.0.2.21',
		firewall_group_id: db.id,
	});
	await sim.start();
	return { sim, web, db };
}

/** Groups (with rules, ids included) and instance memberships, for field-by-field comparison. */
export const snapshot = (sim: VultrSimulator) => ({
	groups: [...sim.groups.values()].map((g) => {
		const { date_modified, ...rest } = structuredClone(g);
		void date_modified;
		return rest;
	}),
	instances: [...sim.instances.values()].map((i) => structuredClone(i)),
});
