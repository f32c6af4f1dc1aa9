import { jsonOf, listSearch, runNode } from '../../helpers/runNode';
import { simulatorPerTest } from '../../helpers/fixture';
import { ALB, DISTRIBUTION, EIP, shieldRun, startShield } from './fixture';
import { restartableNode } from '../../simulators/restart';

/** A fresh node per test; `node.restart()` plays an n8n restart (no process-wide records). */
const node = restartableNode('AwsShield/AwsShieldAdvanced.node', 'AwsShieldAdvanced');
const sim = simulatorPerTest(startShield);

const search = (filter?: string) =>
	listSearch(node, 'searchProtectedResources', shieldRun(sim, {}), filter);

describe('AWS Shield Advanced: the Resource picker lists protected resources', () => {
	it(
		'lists every protection across ListProtections pages ' +
			'(NextToken), by name and resource ARN',
		async () => {
			sim.pageSize = 2;
			sim.protect(DISTRIBUTION);
			sim.protect(ALB);
			sim.protect(EIP);
			const { results } = await search();
			expect(results.map((r) => r.value)).toEqual([DISTRIBUTION, ALB, EIP]);
			expect(results[0].name).toBe(`by hand (${DISTRIBUTION})`);
			const listCalls = sim.operations.filter((op) => op === 'ListProtections');
			expect(listCalls).toHaveLength(2);
		},
	);

	it('filters by what the user types, in the name or the ARN', async () => {
		sim.protect(DISTRIBUTION);
		sim.protect(ALB);
		expect((await search('loadbalancer/app')).results.map((r) => r.value)).toEqual([ALB]);
		expect((await search('nothing-like-this')).results).toEqual([]);
	});

	it('lists nothing when nothing is protected yet (the ARN is then entered by hand)', async () => {
		expect((await search()).results).toEqual([]);
	});

	it('accepts the resource as the editor saves it (By ARN or From List)', async () => {
		for (const mode of ['id', 'list']) {
			const [status] = jsonOf(
				await runNode(
					node,
					shieldRun(sim, {
						operation: 'getStatus',
						resourceArn: { __rl: true, mode, value: DISTRIBUTION },
					}),
				),
			);
			expect(status).toMatchObject({ target: DISTRIBUTION, active: false });
		}
	});
});
