import type { INodeType } from 'n8n-workflow';

import { TAGS } from '../../../nodes/AwsShield/operations';
import { simulatorPerTest } from '../../helpers/fixture';
import { jsonOf, runNode } from '../../helpers/runNode';
import type { SimRequest } from '../../simulators/framework';
import { freshNode } from '../../simulators/restart';
import { replyLostBothWays } from '../../helpers/lockdown';
import { ALB, DISTRIBUTION, shieldCredentials, shieldRun, startShield } from './fixture';

const restarted = (): INodeType =>
	freshNode('AwsShield/AwsShieldAdvanced.node', 'AwsShieldAdvanced');

const sim = simulatorPerTest(startShield);

/** Another workflow after a restart, with the default retry policy (no requestOptions). */
const run = async (operation: string, extra: Record<string, unknown> = {}) => {
	const options = shieldRun(sim, {}, { staticData: {} });
	options.parameters = { operation, resourceArn: DISTRIBUTION, ...extra };
	options.credentials.awsShieldMitigationApi = shieldCredentials(sim);
	return jsonOf(await runNode(restarted(), options))[0];
};
const operation = (name: string) => (req: SimRequest) =>
	req.headers['x-amz-target'] === `AWSShield_20160616.${name}`;
const account = () => ({
	protections: [...sim.protections.values()].map((p) => structuredClone(p)),
	proactiveEngagement: sim.proactiveEngagement,
});

describe('AWS Shield: the reply of each write is lost (applied, client sees 500 or a dropped connection)', () => {
	const steps = [
		{ step: 'activate', name: 'CreateProtection' },
		{ step: 'activate', name: 'EnableApplicationLayerAutomaticResponse' },
		{ step: 'activate', name: 'EnableProactiveEngagement' },
		{ step: 'withdraw', name: 'DisableApplicationLayerAutomaticResponse' },
		{ step: 'withdraw', name: 'DisableProactiveEngagement' },
		{ step: 'withdraw', name: 'DeleteProtection' },
	];

	it.each(replyLostBothWays(steps, '500'))(
		'$step: $name, reply lost as $lost: one protection, the account back exactly',
		async ({ step, name, lost }) => {
			const before = account();
			const activate = { proactiveEngagement: true };
			const withdraw = { createdProtection: 'delete' };
			if (step === 'withdraw') await run('activate', activate);
			sim.inject({
				method: 'POST',
				when: operation(name),
				afterHandler: true,
				drop: lost !== '500',
				response: {
					status: 500,
					body: { __type: 'InternalErrorException', message: 'We encountered an internal error.' },
				},
			});
			await run(step, step === 'activate' ? activate : withdraw).catch(() => undefined);
			expect(sim.protections.size).toBeLessThanOrEqual(1);
			expect(await run('activate', activate)).toMatchObject({ active: true });
			expect(sim.protections.size).toBe(1);
			expect(await run('withdraw', withdraw)).toMatchObject({ active: false });
			expect(account()).toEqual(before);
		},
	);
});

describe('AWS Shield: what activation found is kept at AWS', () => {
	it('automatic response already on: a tag on the protection makes a withdraw elsewhere leave it on', async () => {
		sim.protect(ALB, 'BLOCK');
		expect(await run('activate', { resourceArn: ALB })).toMatchObject({
			active: true,
			changed: false,
		});
		expect(sim.protectionOf(ALB)!.tags).toContainEqual({ Key: TAGS.alreadyActive, Value: 'true' });
		const writes = sim.writeOperations().length;
		expect(await run('activate', { resourceArn: ALB })).toMatchObject({ changed: false });
		expect(sim.writeOperations()).toHaveLength(writes);
		expect(await run('withdraw', { resourceArn: ALB })).toMatchObject({
			active: true,
			changed: false,
		});
		expect(sim.protectionOf(ALB)!.ApplicationLayerAutomaticResponseConfiguration).toMatchObject({
			Status: 'ENABLED',
		});
	});

	it('withdraw keeps a protection activation created unless asked to delete it, for its baseline', async () => {
		await run('activate');
		const off = await run('withdraw');
		expect(off).toMatchObject({ active: false, changed: true, protectionDeleted: false });
		expect(off.note).toMatch(/24 hours to 30 days/);
		expect(sim.protectionOf(DISTRIBUTION)).toMatchObject({ tags: [] });
		expect(await run('withdraw')).toMatchObject({ changed: false });
	});

	it('web ACL gone between check and write: refused, the protection it created deleted', async () => {
		sim.onRequest = (request) => {
			if (request.headers['x-amz-target'] === 'AWSShield_20160616.CreateProtection')
				sim.resources.get(DISTRIBUTION)!.webAcl = false;
		};
		await expect(run('activate')).rejects.toThrow(/no AWS WAF web ACL is associated/);
		expect(sim.protections.size).toBe(0);
	});
});
