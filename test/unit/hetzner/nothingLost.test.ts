import { jsonOf, runNode } from '../../helpers/runNode';
import type { HetznerSimulator } from '../../simulators/hetzner';
import { BARE_SERVER, RULES, SERVER, hetznerRun, startHetzner } from './fixture';
import { rl, simulatorPerTest } from '../../helpers/fixture';
import { restartableNode } from '../../simulators/restart';

/** A fresh node per test; `node.restart()` plays an n8n restart (no process-wide records). */
const node = restartableNode('Hetzner/HetznerRobotFirewall.node', 'HetznerRobotFirewall');
let sim: HetznerSimulator;

simulatorPerTest(async () => {
	sim = await startHetzner();
	sim.settleAfterReads = 0;
	return sim;
});

/** The default retry policy: no requestOptions at all. */
const run = async (operation: string, server: number = SERVER) =>
	jsonOf(
		await runNode(node, {
			...hetznerRun(sim, { operation, server: rl(server) }),
			parameters: { operation, server: rl(server) },
		}),
	)[0];
const configuration = () => {
	const { status, ...rest } = structuredClone(sim.firewall(SERVER));
	void status;
	return rest;
};

describe('Hetzner Robot: nothing lost, nothing duplicated', () => {
	it.each(['activate', 'withdraw'])(
		'%s: the POST is applied but its reply lost (default retries): the whole configuration survives',
		async (operation) => {
			sim.firewall(SERVER).port = 'kvm';
			const before = configuration();
			if (operation === 'withdraw') await run('activate');
			sim.inject({
				method: 'POST',
				afterHandler: true,
				response: { status: 502, body: '<html>bad gateway</html>' },
			});
			expect(await run(operation)).toMatchObject({ active: operation === 'activate' });
			expect(await run('activate')).toMatchObject({ active: true });
			expect(await run('withdraw')).toMatchObject({ active: false });
			expect(configuration()).toEqual(before);
			expect(sim.firewall(SERVER).status).toBe('disabled');
		},
	);

	it('sends back the interface Robot reported (port kvm), which a POST without it resets to main', async () => {
		sim.firewall(SERVER).port = 'kvm';
		await run('activate');
		expect(sim.firewall(SERVER).port).toBe('kvm');
	});

	it('reads a firewall whose rules Robot reports as null', async () => {
		(sim.firewall(BARE_SERVER) as { rules: unknown }).rules = null;
		expect(await run('getStatus', BARE_SERVER)).toMatchObject({ active: false, inputRules: 0 });
		expect(await run('activate', BARE_SERVER)).toMatchObject({ active: true, changed: true });
	});

	it("waits Robot's rate-limit interval before retrying", async () => {
		const sentAt: number[] = [];
		sim.onRequest = () => sentAt.push(Date.now());
		sim.inject({
			method: 'GET',
			response: {
				status: 403,
				body: {
					error: {
						status: 403,
						code: 'RATE_LIMIT_EXCEEDED',
						message: 'Rate limit exceeded',
						max_request: 200,
						interval: 2,
					},
				},
			},
		});
		await run('getStatus');
		expect(sentAt[1] - sentAt[0]).toBeGreaterThanOrEqual(1900);
	});

	it('puts the configuration before the change in the error when Robot did not keep it', async () => {
		sim.afterPost = (firewall) => firewall.rules.input.pop();
		const error = (await runNode(
			node,
			hetznerRun(sim, { operation: 'activate', server: rl(SERVER) }),
		).catch((e: unknown) => e)) as { description?: string };
		expect(error.description).toContain(JSON.stringify(RULES.input[3]));
	});
});
