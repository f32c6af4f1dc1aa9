import type { N8nInstance } from '../../scripts/n8nHarness';
import type { CloudflareSimulator } from '../simulators/cloudflare';
import { ACCOUNT, PREFIX, TOKEN, ZONE } from '../unit/cloudflare/fixture';
import { callWebhook } from './harness';
import { locator, packageNode, simulatorCredential, webhook, workflow } from './workflows';

/** The Cloudflare workflow the end-to-end suites run, on the current n8n and on the newest 1.x. */

export const { credential: cloudflareCredential, credentials: cloudflareCredentials } =
	simulatorCredential('cloudflareMitigationApi', 'cfsim0000000001', 'Cloudflare');
export const cloudflareCredentialData = (sim: CloudflareSimulator) => ({
	apiToken: TOKEN,
	baseUrl: sim.baseUrl,
	accountId: '',
});

const cloudflareNodes = (operation: string, suffix: string) => [
	packageNode(
		`Magic Transit ${suffix}`,
		'cloudflareMagicTransit',
		{ operation, accountId: locator(ACCOUNT), prefixId: locator(PREFIX) },
		cloudflareCredentials,
	),
	packageNode(
		`Under Attack ${suffix}`,
		'cloudflareUnderAttack',
		{ operation, zoneId: locator(ZONE) },
		cloudflareCredentials,
	),
];

/**
 * Imports the simulator credential and one workflow whose webhooks `cf-activate`, `cf-withdraw` and
 * `cf-status` run Magic Transit then Under Attack, and activates it.
 */
export function importCloudflareMitigation(n8n: N8nInstance, sim: CloudflareSimulator): void {
	n8n.importCredentials([{ ...cloudflareCredential, data: cloudflareCredentialData(sim) }]);
	n8n.importWorkflows([
		workflow('cfMitigation0001', 'Cloudflare mitigation', [
			[webhook('Activate', 'cf-activate'), ...cloudflareNodes('activate', 'on')],
			[webhook('Withdraw', 'cf-withdraw'), ...cloudflareNodes('withdraw', 'off')],
			[webhook('Status', 'cf-status'), ...cloudflareNodes('getStatus', 'status')],
		]),
	]);
}

/**
 * Runs the workflow's `cf-activate`: the prefix is advertised and the zone under attack, level high
 * noted.
 */
export async function expectCloudflareActivation(n8n: N8nInstance, sim: CloudflareSimulator) {
	expect(await callWebhook(n8n, 'cf-activate')).toEqual([
		expect.objectContaining({
			provider: 'cloudflareUnderAttack',
			active: true,
			changed: true,
			previousLevel: 'high',
		}),
	]);
	expect(sim.accounts.get(ACCOUNT)!.prefixes.get(PREFIX)!.advertised).toBe(true);
	expect(sim.zones.get(ZONE)!.security_level).toBe('under_attack');
}

/** Runs the workflow's `cf-withdraw`: the prefix is withdrawn and the zone back at level high. */
export async function expectCloudflareWithdrawal(n8n: N8nInstance, sim: CloudflareSimulator) {
	expect(await callWebhook(n8n, 'cf-withdraw')).toEqual([
		expect.objectContaining({
			provider: 'cloudflareUnderAttack',
			active: false,
			changed: true,
			securityLevel: 'high',
		}),
	]);
	expect(sim.accounts.get(ACCOUNT)!.prefixes.get(PREFIX)!.advertised).toBe(false);
	expect(sim.zones.get(ZONE)!.security_level).toBe('high');
}
