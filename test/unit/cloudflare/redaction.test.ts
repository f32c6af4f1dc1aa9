import { runNode } from '../../helpers/runNode';
import type { CloudflareSimulator } from '../../simulators/cloudflare';
import { freshNode } from '../../simulators/restart';
import { TOKEN, ZONE, cloudflareRun, startCloudflare } from './fixture';
import { rl } from '../../helpers/fixture';

const node = freshNode(
	'Cloudflare/UnderAttack/CloudflareUnderAttack.node',
	'CloudflareUnderAttack',
);
let sim: CloudflareSimulator;
beforeEach(async () => {
	sim = await startCloudflare();
});
afterEach(async () => {
	await sim.stop();
});

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
		const error = (await runNode(
			node,
			cloudflareRun(sim, { operation: 'getStatus', zoneId: rl(ZONE) }),
		).catch((e: unknown) => e)) as { message: string; description?: string };
		expect(error.message).toMatch(/Invalid request headers: Authorization: \[redacted\]/);
		expect(JSON.stringify({ ...error, m: error.message, d: error.description })).not.toContain(
			TOKEN,
		);
	});
});
