import { AwsShieldAdvanced } from '../../nodes/AwsShield/AwsShieldAdvanced.node';
import { DISTRIBUTION, shieldRun, startShield } from '../../test/unit/awsShield/fixture';
import { simulatorHarness, type ProviderScenario } from '../providerEfficiency';

/** An unprotected CloudFront distribution on a Shield Advanced subscription. */
export const scenarios: ProviderScenario[] = [
	{
		node: new AwsShieldAdvanced(),
		async start() {
			const sim = await startShield();
			// Every AWS call is a POST, so the log's methods cannot tell writes apart; the simulator
			// names the operations.
			return simulatorHarness(
				sim,
				(operation) => shieldRun(sim, { operation, resourceArn: DISTRIBUTION }),
				() => sim.writeOperations().length,
			);
		},
	},
];
