import { failureOf, shownText } from '../../helpers/runNode';
import { freshNode } from '../../simulators/restart';
import { TOKEN, ZONE, cloudflareRun, startCloudflare } from './fixture';
import { rl, simulatorPerTest } from '../../helpers/fixture';

const node = freshNode(
	'Cloudflare/UnderAttack/CloudflareUnderAttack.node',
	'CloudflareUnderAttack',
);
const sim = simulatorPerTest(startCloudflare);

describe('Cloudflare: no credential in errors', () => {
	it('a gateway that echoes the Authorization header does not put the token in the error', async () => {
		sim.inject({
			response: {
				status: 400,
				body: {
					success: false,
					errors: [
						{ code: 1099, message: `Invalid request headers: Authorization: Bearer ${TOKEN}` },
					],
				},
			},
		});
		const error = await failureOf(
			node,
			cloudflareRun(sim, { operation: 'getStatus', zoneId: rl(ZONE) }),
		);
		expect(error.message).toMatch(/Invalid request headers: Authorization: \[redacted\]/);
		expect(shownText(error)).not.toContain(TOKEN);
	});
});
