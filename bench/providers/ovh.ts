import { OvhDdosProtection } from '../../nodes/Ovh/OvhDdosProtection.node';
import { BLOCK, IP, ovhRun, rl, startOvh } from '../../test/unit/ovh/fixture';
import { simulatorHarness, type ProviderScenario } from '../providerEfficiency';

/** An IP of a /24 block that is not on permanent mitigation. */
export const scenarios: ProviderScenario[] = [
	{
		node: new OvhDdosProtection(),
		async start() {
			const sim = await startOvh();
			return simulatorHarness(sim, (operation) =>
				ovhRun(sim, { operation, ipBlock: rl(BLOCK), ip: IP }),
			);
		},
	},
];
