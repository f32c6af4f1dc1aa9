import { LinodeFirewall } from '../../nodes/Linode/LinodeFirewall.node';
import { rl } from '../../test/helpers/fixture';
import { linodeRun, startLinode } from '../../test/unit/linode/fixture';
import { simulatorHarness, type ProviderScenario } from '../providerEfficiency';

/** A firewall with six inbound and one outbound rule on two Linodes. */
export const scenarios: ProviderScenario[] = [
	{
		node: new LinodeFirewall(),
		async start() {
			const { sim, web } = await startLinode();
			return simulatorHarness(sim, (operation) =>
				linodeRun(sim, { operation, firewallId: rl(String(web.id)) }),
			);
		},
	},
];
