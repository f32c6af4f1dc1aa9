import { CloudflareMitigationApi } from '../../../credentials/CloudflareMitigationApi.credentials';
import { CloudflareSimulator, hex32, type Permission } from '../../simulators/cloudflare';
import { providerRunner } from '../../helpers/fixture';

export const ACCOUNT = hex32('account-1');
export const PREFIX = hex32('prefix-203');
export const LOCKED_PREFIX = hex32('prefix-198');
export const ZONE = hex32('zone-example');
export const TOKEN = 'cf-test-token-0123456789';

export const ALL_PERMISSIONS: Permission[] = [
	'accounts:read',
	'prefixes:read',
	'prefixes:write',
	'zones:read',
	'zone_settings:read',
	'zone_settings:write',
];

/**
 * A Cloudflare account with an on-demand prefix, a locked prefix and a zone at security level
 * "high".
 */
export async function startCloudflare(permissions: Permission[] = ALL_PERMISSIONS) {
	const sim = new CloudflareSimulator();
	sim.addToken(TOKEN, permissions);
	sim.addPrefix(ACCOUNT, { id: PREFIX, cidr: '203.0.113.0/24', description: 'edge' });
	sim.addPrefix(ACCOUNT, { id: LOCKED_PREFIX, cidr: '198.51.100.0/24', on_demand_locked: true });
	sim.addZone({ id: ZONE, name: 'example.com', security_level: 'high' });
	await sim.start();
	return sim;
}

export const cloudflareRun = providerRunner((sim: CloudflareSimulator) => ({
	type: new CloudflareMitigationApi(),
	data: { apiToken: TOKEN, baseUrl: sim.baseUrl, accountId: '' },
	maxAttempts: 3,
}));
