import { OvhDdosProtection } from '../../nodes/Ovh/OvhDdosProtection.node';
import { addUsersFirewall, ovhRun, params, startOvh } from '../../test/unit/ovh/fixture';
import { simulatorHarness, type ProviderScenario } from '../providerEfficiency';

/**
 * Both activation modes, on an IP whose Edge Network Firewall has the user's six rules and is
 * disabled.
 */
export const scenarios: ProviderScenario[] = [
	{ label: 'enable firewall', mode: 'enableFirewall' },
	{ label: 'lockdown', mode: 'lockdown' },
].map(({ label, mode }) => ({
	node: new OvhDdosProtection(),
	label,
	async start() {
		const sim = await startOvh();
		addUsersFirewall(sim, false);
		return simulatorHarness(sim, (operation) =>
			ovhRun(sim, params(operation, { mode, servicePorts: '443/tcp' })),
		);
	},
}));
