import { TAGS } from '../../../nodes/AwsShield/operations';
import { jsonOf, runNode } from '../../helpers/runNode';
import { operationParams, simulatorPerTest } from '../../helpers/fixture';
import { ALB, DISTRIBUTION, EIP, shieldRun, startShield } from './fixture';
import { restartableNode } from '../../simulators/restart';

/** A fresh node per test; `node.restart()` plays an n8n restart (no process-wide records). */
const node = restartableNode('AwsShield/AwsShieldAdvanced.node', 'AwsShieldAdvanced');
const sim = simulatorPerTest(startShield);

const params = operationParams(() => ({ resourceArn: DISTRIBUTION }));
const run = async (operation: string, extra: Record<string, unknown> = {}, staticData = {}) =>
	jsonOf(await runNode(node, shieldRun(sim, params(operation, extra), { staticData })))[0];

describe('AWS Shield Advanced', () => {
	it('reads the subscription, protection and automatic response of an unprotected resource', async () => {
		expect(await run('getStatus')).toMatchObject({
			provider: 'awsShieldAdvanced',
			target: DISTRIBUTION,
			active: false,
			changed: false,
			subscriptionState: 'ACTIVE',
			protected: false,
			automaticResponse: 'DISABLED',
		});
	});

	it('activates: creates the protection tagged as created here, then enables automatic response (Block)', async () => {
		const result = await run('activate');
		expect(result).toMatchObject({
			active: true,
			changed: true,
			protected: true,
			automaticResponse: 'BLOCK',
			protectionCreatedByThisPackage: true,
		});
		const protection = sim.protectionOf(DISTRIBUTION)!;
		expect(protection.tags).toEqual(
			expect.arrayContaining([
				{ Key: TAGS.created, Value: 'true' },
				{ Key: TAGS.previousAutomaticResponse, Value: 'DISABLED' },
			]),
		);
		expect(protection.ApplicationLayerAutomaticResponseConfiguration).toEqual({
			Status: 'ENABLED',
			Action: { Block: {} },
		});
	});

	it('withdraw undoes exactly that: automatic response off, and the protection it created deleted', async () => {
		await run('activate', { automaticResponse: 'COUNT' });
		// Another workflow, after a restart: the record is at AWS, not in this workflow's static data.
		node.restart();
		const result = await run('withdraw', { createdProtection: 'delete' });
		expect(result).toMatchObject({
			active: false,
			changed: true,
			protected: false,
			protectionDeleted: true,
		});
		expect(sim.protectionOf(DISTRIBUTION)).toBeUndefined();
	});

	it('is idempotent: a second activate and a second withdraw make no write', async () => {
		await run('activate');
		expect(sim.writeOperations()).toEqual([
			'CreateProtection',
			'EnableApplicationLayerAutomaticResponse',
		]);
		expect(await run('activate')).toMatchObject({ active: true, changed: false });
		expect(sim.writeOperations()).toHaveLength(2);
		await run('withdraw', { createdProtection: 'delete' });
		expect(sim.writeOperations().slice(2)).toEqual([
			'DisableApplicationLayerAutomaticResponse',
			'DeleteProtection',
		]);
		expect(await run('withdraw')).toMatchObject({ active: false, changed: false });
		expect(sim.writeOperations()).toHaveLength(4);
	});

	it('on an existing protection of the user: tags what it changes, restores it on withdraw and keeps the protection and its own tags', async () => {
		sim.protect(ALB, 'COUNT');
		const activated = await run('activate', { resourceArn: ALB, automaticResponse: 'BLOCK' });
		expect(activated).toMatchObject({
			changed: true,
			automaticResponse: 'BLOCK',
			protectionCreatedByThisPackage: false,
		});
		expect(sim.protectionOf(ALB)!.tags).toContainEqual({
			Key: TAGS.previousAutomaticResponse,
			Value: 'COUNT',
		});
		node.restart();
		const withdrawn = await run('withdraw', { resourceArn: ALB });
		expect(withdrawn).toMatchObject({
			changed: true,
			protected: true,
			automaticResponse: 'COUNT',
			restoredAutomaticResponse: 'COUNT',
		});
		expect(sim.protectionOf(ALB)!.tags).toEqual([{ Key: 'team', Value: 'edge' }]);
		expect(sim.protectionOf(ALB)!.ApplicationLayerAutomaticResponseConfiguration).toEqual({
			Status: 'ENABLED',
			Action: { Count: {} },
		});
	});

	it('a second activate never overwrites the saved original state', async () => {
		sim.protect(ALB);
		await run('activate', { resourceArn: ALB, automaticResponse: 'COUNT' });
		await run('activate', { resourceArn: ALB, automaticResponse: 'BLOCK' });
		expect(sim.protectionOf(ALB)!.tags).toContainEqual({
			Key: TAGS.previousAutomaticResponse,
			Value: 'DISABLED',
		});
		await run('withdraw', { resourceArn: ALB });
		expect(sim.protectionOf(ALB)!.ApplicationLayerAutomaticResponseConfiguration?.Status).toBe(
			'DISABLED',
		);
	});

	it('leaves what was already on before activation, unless forced; never deletes a protection it did not create', async () => {
		sim.protect(DISTRIBUTION, 'BLOCK');
		const staticData = {};
		expect(await run('activate', {}, staticData)).toMatchObject({ active: true, changed: false });
		const kept = await run('withdraw', {}, staticData);
		expect(kept).toMatchObject({ active: true, changed: false });
		expect(kept.note).toMatch(/already on before activation/);
		const forced = await run('withdraw', { forceWithdraw: true }, staticData);
		expect(forced).toMatchObject({ active: false, changed: true, protected: true });
		expect(sim.protectionOf(DISTRIBUTION)).toBeDefined();
	});

	it('withdraws with no record of any activation by switching automatic response off', async () => {
		sim.protect(DISTRIBUTION, 'BLOCK');
		const result = await run('withdraw');
		expect(result).toMatchObject({
			active: false,
			changed: true,
			protected: true,
			automaticResponse: 'DISABLED',
		});
	});

	it('enables proactive engagement when asked, and withdraw disables it only because activation enabled it', async () => {
		await run('activate', { proactiveEngagement: true });
		expect(sim.proactiveEngagement).toBe('ENABLED');
		await run('withdraw');
		expect(sim.proactiveEngagement).toBe('DISABLED');
		sim.proactiveEngagement = 'ENABLED';
		await run('activate', { proactiveEngagement: true });
		await run('withdraw');
		expect(sim.proactiveEngagement).toBe('ENABLED');
	});

	it('protects a resource without layer 7 (Elastic IP) with Automatic Response "Leave Unchanged"', async () => {
		const result = await run('activate', { resourceArn: EIP, automaticResponse: 'NONE' });
		expect(result).toMatchObject({ active: true, changed: true, protected: true });
		expect(await run('withdraw', { resourceArn: EIP, createdProtection: 'delete' })).toMatchObject({
			active: false,
			changed: true,
			protectionDeleted: true,
		});
	});

	it.each([
		[{ resourceArn: 'my-distribution' }, /Invalid resource ARN/],
		[{ resourceArn: 'arn:aws:s3:::my-bucket' }, /Invalid resource ARN/],
		[
			{ resourceArn: EIP, automaticResponse: 'BLOCK' },
			/only available for CloudFront distributions and Application Load Balancers/,
		],
	])('refuses bad input %p before any call', async (override, message) => {
		await expect(runNode(node, shieldRun(sim, params('activate', override)))).rejects.toThrow(
			message,
		);
		expect(sim.log).toHaveLength(0);
	});
});
