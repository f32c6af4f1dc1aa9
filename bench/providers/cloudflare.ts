import { CloudflareMagicTransit } from '../../nodes/Cloudflare/MagicTransit/CloudflareMagicTransit.node';
import { CloudflareUnderAttack } from '../../nodes/Cloudflare/UnderAttack/CloudflareUnderAttack.node';
import { rl } from '../../test/helpers/fixture';
import {
	ACCOUNT,
	PREFIX,
	ZONE,
	cloudflareRun,
	startCloudflare,
} from '../../test/unit/cloudflare/fixture';
import { simulatorHarness, type ProviderScenario } from '../providerEfficiency';

/** An on-demand prefix that is not advertised; a zone at security level "high". */
export const scenarios: ProviderScenario[] = [
	{
		node: new CloudflareMagicTransit(),
		async start() {
			const sim = await startCloudflare();
			return simulatorHarness(sim, (operation) =>
				cloudflareRun(sim, { operation, accountId: rl(ACCOUNT), prefixId: rl(PREFIX) }),
			);
		},
	},
	{
		node: new CloudflareUnderAttack(),
		async start() {
			const sim = await startCloudflare();
			return simulatorHarness(sim, (operation) =>
				cloudflareRun(sim, { operation, zoneId: rl(ZONE) }),
			);
		},
	},
];
