import type { N8nInstance } from '../../scripts/n8nHarness';
import type { CloudflareSimulator } from '../simulators/cloudflare';
import { ACCOUNT, PREFIX, TOKEN, ZONE } from '../unit/cloudflare/fixture';
import { PACKAGE, locator, webhook, workflow, type WorkflowNode } from './workflows';

/** The Cloudflare workflow the end-to-end suites run, on the current n8n and on the newest 1.x. */

export const cloudflareCredentials = {
	cloudflareMitigationApi: { id: 'cfsim0000000001', name: 'Cloudflare (simulator)' },
};
export const cloudflareCredentialData = (sim: CloudflareSimulator) => ({
	apiToken: TOKEN,
	baseUrl: sim.baseUrl,
	accountId: '',
});

function cloudflareNodes(operation: string, suffix: string): WorkflowNode[] {
	return [
		{
			name: `Magic Transit ${suffix}`,
			type: `${PACKAGE}.cloudflareMagicTransit`,
			parameters: {
				operation,
				accountId: locator(ACCOUNT),
				prefixId: locator(PREFIX),
				requestOptions: {},
			},
			credentials: cloudflareCredentials,
		},
		{
			name: `Under Attack ${suffix}`,
			type: `${PACKAGE}.cloudflareUnderAttack`,
			parameters: { operation, zoneId: locator(ZONE), requestOptions: {} },
			credentials: cloudflareCredentials,
		},
	];
}

/**
 * Imports the simulator credential and one workflow whose webhooks `cf-activate`, `cf-withdraw` and `cf-status` run
 * Magic Transit then Under Attack, and activates it.
 */
export function importCloudflareMitigation(n8n: N8nInstance, sim: CloudflareSimulator): void {
	n8n.importCredentials([
		{
			...cloudflareCredentials.cloudflareMitigationApi,
			type: 'cloudflareMitigationApi',
			data: cloudflareCredentialData(sim),
		},
	]);
	n8n.importWorkflows([
		workflow('cfMitigation0001', 'Cloudflare mitigation', [
			[webhook('Activate', 'cf-activate'), ...cloudflareNodes('activate', 'on')],
			[webhook('Withdraw', 'cf-withdraw'), ...cloudflareNodes('withdraw', 'off')],
			[webhook('Status', 'cf-status'), ...cloudflareNodes('getStatus', 'status')],
		]),
	]);
}
