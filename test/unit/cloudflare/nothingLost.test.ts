import type { IDataObject, INodeType } from 'n8n-workflow';

import { jsonOf, runNode } from '../../helpers/runNode';
import { freshNode } from '../../simulators/restart';
import { ACCOUNT, PREFIX, ZONE, cloudflareRun, startCloudflare } from './fixture';
import { rl, simulatorPerTest } from '../../helpers/fixture';
import { replyLostBothWays } from '../../helpers/lockdown';

const magicTransit = (): INodeType =>
	freshNode('Cloudflare/MagicTransit/CloudflareMagicTransit.node', 'CloudflareMagicTransit');
const underAttack = (): INodeType =>
	freshNode('Cloudflare/UnderAttack/CloudflareUnderAttack.node', 'CloudflareUnderAttack');

const sim = simulatorPerTest(startCloudflare);

/** One execution with the default retry policy (no requestOptions), with its own static data. */
async function run(
	node: INodeType,
	parameters: Record<string, unknown>,
	staticData: IDataObject = {},
) {
	const options = cloudflareRun(sim, {}, { staticData });
	options.parameters = parameters;
	return jsonOf(await runNode(node, options))[0];
}
const prefix = () => sim.accounts.get(ACCOUNT)!.prefixes.get(PREFIX)!;
const lostReply = (lost: string) => ({
	method: 'PATCH',
	afterHandler: true,
	drop: lost !== '502',
	response: { status: 502, body: '<html>502 Bad Gateway</html>' },
});

describe('Cloudflare: the reply of each write is lost (applied, client sees 502 or a dropped connection)', () => {
	const nodes = [
		{
			node: 'Magic Transit',
			create: magicTransit,
			target: { accountId: rl(ACCOUNT), prefixId: rl(PREFIX) },
			outcome: 'the prefix ends withdrawn as before',
			isAsBefore: () => expect(prefix().advertised).toBe(false),
		},
		{
			node: 'Under Attack',
			create: underAttack,
			target: { zoneId: rl(ZONE) },
			outcome: 'the previous level comes back',
			isAsBefore: () => expect(sim.zones.get(ZONE)!.security_level).toBe('high'),
		},
	];
	const writes = nodes.flatMap((n) => [
		{ ...n, step: 'activate' },
		{ ...n, step: 'withdraw' },
	]);

	it.each(replyLostBothWays(writes))(
		'$node $step, reply lost as $lost: $outcome',
		async ({ create, target, isAsBefore, step, lost }) => {
			const node = create();
			const staticData = {};
			if (step === 'withdraw') await run(node, { operation: 'activate', ...target }, staticData);
			sim.inject(lostReply(lost));
			await run(node, { operation: step, ...target }, staticData).catch(() => undefined);
			expect(await run(node, { operation: 'activate', ...target }, staticData)).toMatchObject({
				active: true,
			});
			expect(await run(node, { operation: 'withdraw', ...target }, staticData)).toMatchObject({
				active: false,
			});
			isAsBefore();
		},
	);
});

describe('Cloudflare: "already on before activation" is kept exactly', () => {
	it('an always-on prefix stays advertised after a withdraw from another workflow in the same process', async () => {
		prefix().advertised = true;
		const node = magicTransit();
		const target = { accountId: rl(ACCOUNT), prefixId: rl(PREFIX) };
		expect(await run(node, { operation: 'activate', ...target })).toMatchObject({ changed: false });
		// Another workflow, whose static data never saw the record.
		expect(await run(node, { operation: 'withdraw', ...target })).toMatchObject({
			active: true,
			changed: false,
		});
		expect(prefix().advertised).toBe(true);
	});

	it('after a restart, the workflow static data copy still knows the previous level', async () => {
		const staticData = {};
		await run(underAttack(), { operation: 'activate', zoneId: rl(ZONE) }, staticData);
		expect(
			await run(underAttack(), { operation: 'withdraw', zoneId: rl(ZONE) }, staticData),
		).toMatchObject({ active: false, changed: true });
		expect(sim.zones.get(ZONE)!.security_level).toBe('high');
	});

	it('an overlapping execution that saves older static data cannot bring back a withdrawn record', async () => {
		const node = underAttack();
		const stale: IDataObject = {};
		await run(node, { operation: 'activate', zoneId: rl(ZONE) }, stale);
		const older = structuredClone(stale);
		await run(node, { operation: 'withdraw', zoneId: rl(ZONE) }, stale);
		sim.zones.get(ZONE)!.security_level = 'under_attack';
		// The user set Under Attack by hand; a withdraw reading the overlapping execution's older document must not
		// take the old record as "this package turned it on from high".
		expect(await run(node, { operation: 'withdraw', zoneId: rl(ZONE) }, older)).toMatchObject({
			changed: true,
		});
		expect(sim.zones.get(ZONE)!.security_level).not.toBe('high');
	});
});
