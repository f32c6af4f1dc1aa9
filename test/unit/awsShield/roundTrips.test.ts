import type { AwsShieldSimulator } from '../../simulators/awsShield';
import { restartableNode } from '../../simulators/restart';
import { operationParams, simulatorPerTest } from '../../helpers/fixture';
import { countRoundTrips } from '../../helpers/roundTrips';
import { runNode } from '../../helpers/runNode';
import { ALB, DISTRIBUTION, shieldRun, startShield } from './fixture';

/**
 * Time to mitigate, counted in provider round trips. The subscription, the protection, the web
 * ACL automatic response needs and (for proactive engagement) the subscription's details are read
 * side by side; the tags on an existing protection (what an earlier activation recorded) need its
 * ARN, so they wait for it. A protection created here gets its automatic response right after, not
 * after a read-back.
 */
const node = restartableNode('AwsShield/AwsShieldAdvanced.node', 'AwsShieldAdvanced');
let sim: AwsShieldSimulator;
simulatorPerTest(async () => (sim = await startShield()));

const params = operationParams(() => ({ resourceArn: DISTRIBUTION }));
const run = async (operation: string, extra: Record<string, unknown> = {}) =>
	await runNode(node, shieldRun(sim, params(operation, extra)));
const webAclRead = (request: { path: string; headers: Record<string, string> }) =>
	request.path.endsWith('/config') ||
	request.headers['x-amz-target'] === 'AWSWAF_20190729.GetWebACLForResource';
const call = (operation: string) => (request: { headers: Record<string, string> }) =>
	request.headers['x-amz-target'] === `AWSShield_20160616.${operation}`;

describe('AWS Shield Advanced: round trips before the first write', () => {
	it('creates the protection after one round trip, and blocks one round trip later', async () => {
		const roundTrips = countRoundTrips(sim);
		await run('activate', { proactiveEngagement: true });
		expect(roundTrips.before(call('CreateProtection'))).toBe(1);
		expect(roundTrips.before(call('EnableApplicationLayerAutomaticResponse'))).toBe(2);
		expect(sim.protectionOf(DISTRIBUTION)?.ApplicationLayerAutomaticResponseConfiguration).toEqual({
			Status: 'ENABLED',
			Action: { Block: {} },
		});
	});

	it('reads the web ACL of a load balancer or distribution alongside, adding no round trip', async () => {
		for (const resourceArn of [ALB, DISTRIBUTION]) {
			const roundTrips = countRoundTrips(sim);
			await run('activate', { resourceArn });
			expect(roundTrips.before(webAclRead)).toBe(0);
			expect(roundTrips.before(call('CreateProtection'))).toBe(1);
		}
	});

	it('on an existing protection, records at AWS after two round trips (its tags), then blocks', async () => {
		await run('activate', { automaticResponse: 'NONE' });
		const roundTrips = countRoundTrips(sim);
		await run('activate');
		expect(roundTrips.before(call('TagResource'))).toBe(2);
		expect(roundTrips.before(call('EnableApplicationLayerAutomaticResponse'))).toBe(3);
	});

	it('withdraw reads the protection, then its tags, before the first write', async () => {
		await run('activate');
		const roundTrips = countRoundTrips(sim);
		await run('withdraw');
		expect(roundTrips.before(call('DisableApplicationLayerAutomaticResponse'))).toBe(2);
	});
});
