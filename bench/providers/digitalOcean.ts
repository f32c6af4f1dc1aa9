import { DigitalOceanFirewall } from '../../nodes/DigitalOcean/DigitalOceanFirewall.node';
import { rl } from '../../test/helpers/fixture';
import { digitalOceanRun, startDigitalOcean } from '../../test/unit/digitalOcean/fixture';
import { simulatorHarness, type ProviderScenario } from '../providerEfficiency';

/** A production firewall with six inbound rules on two Droplets and a tag. */
export const scenarios: ProviderScenario[] = [
	{
		node: new DigitalOceanFirewall(),
		async start() {
			const { sim, web } = await startDigitalOcean();
			return simulatorHarness(sim, (operation) =>
				digitalOceanRun(sim, { operation, firewallId: rl(web.id) }),
			);
		},
	},
];
