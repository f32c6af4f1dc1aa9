import { VultrFirewall } from '../../nodes/Vultr/VultrFirewall.node';
import { rl } from '../../test/helpers/fixture';
import { startVultr, vultrRun } from '../../test/unit/vultr/fixture';
import { simulatorHarness, type ProviderScenario } from '../providerEfficiency';

/** A firewall group with eight rules and two instances. */
export const scenarios: ProviderScenario[] = [
	{
		node: new VultrFirewall(),
		async start() {
			const { sim, web } = await startVultr();
			return simulatorHarness(sim, (operation) =>
				vultrRun(sim, { operation, firewallGroupId: rl(web.id) }),
			);
		},
	},
];
