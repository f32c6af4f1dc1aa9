import { HetznerRobotFirewall } from '../../nodes/Hetzner/HetznerRobotFirewall.node';
import { rl } from '../../test/helpers/fixture';
import { SERVER, hetznerRun, startHetzner } from '../../test/unit/hetzner/fixture';
import { simulatorHarness, type ProviderScenario } from '../providerEfficiency';

/** A server whose Robot firewall has the user's rules and is disabled. */
export const scenarios: ProviderScenario[] = [
	{
		node: new HetznerRobotFirewall(),
		async start() {
			const sim = await startHetzner();
			return simulatorHarness(sim, (operation) =>
				hetznerRun(sim, { operation, server: rl(SERVER) }),
			);
		},
	},
];
