import { TAGS } from '../../nodes/AwsShield/operations';
import type { N8nInstance } from '../../scripts/n8nHarness';
import type { AwsShieldSimulator } from '../simulators/awsShield';
import {
	ALB,
	DISTRIBUTION,
	SESSION_TOKEN,
	TEMP_KEY,
	TEMP_SECRET,
	shieldCredentials,
	startShield,
} from '../unit/awsShield/fixture';
import { callWebhook, listSearch, startN8nWithWorkflows, stopAll, testCredential } from './harness';
import { locator, packageNode, simulatorCredential, webhook, workflow } from './workflows';

const { credential, credentials } = simulatorCredential(
	'awsShieldMitigationApi',
	'awssim000000001',
	'AWS Shield',
);

const shieldNode = (operation: string, suffix: string) =>
	packageNode(
		`Shield ${suffix}`,
		'awsShieldAdvanced',
		{
			operation,
			resourceArn: locator(DISTRIBUTION),
			automaticResponse: 'COUNT',
			// Withdraw restores exactly: the protection activation created is deleted (the default keeps it).
			createdProtection: 'delete',
		},
		credentials,
	);

let sim: AwsShieldSimulator;
let n8n: N8nInstance;
// Temporary credentials: the session token must be signed too.
const temporary = () =>
	shieldCredentials(sim, {
		accessKeyId: TEMP_KEY,
		secretAccessKey: TEMP_SECRET,
		sessionToken: SESSION_TOKEN,
	});

beforeAll(async () => {
	sim = await startShield();
	n8n = await startN8nWithWorkflows(
		[{ ...credential, data: temporary() }],
		[
			workflow('awsMitigation001', 'AWS Shield mitigation', [
				[webhook('Activate', 'aws-activate'), shieldNode('activate', 'on')],
				[webhook('Status', 'aws-status'), shieldNode('getStatus', 'status')],
			]),
			// Withdraw lives in another workflow: what to undo is read from the tags at AWS.
			workflow('awsMitigation002', 'AWS Shield withdraw', [
				[webhook('Withdraw', 'aws-withdraw'), shieldNode('withdraw', 'off')],
			]),
		],
	);
});

afterAll(async () => await stopAll(n8n, sim));

describe('AWS Shield Advanced inside a real n8n', () => {
	it(
		'tests the credential through n8n with a SigV4-signed ' +
			'GetSubscriptionState; a wrong secret fails',
		async () => {
			const test = (data: Record<string, string>) => testCredential(n8n, credential, data);
			expect(await test(temporary())).toMatchObject({ status: 'OK' });
			expect(sim.operations).toContain('GetSubscriptionState');
			expect((await test({ ...temporary(), secretAccessKey: 'wrong' })).status).toBe('Error');
			sim.subscription = 'INACTIVE';
			expect(await test(temporary())).toMatchObject({
				status: 'Error',
				message: expect.stringMatching(/no active Shield Advanced subscription/),
			});
			sim.subscription = 'ACTIVE';
		},
	);

	it(
		'activates from a webhook through throttling: protection ' +
			'created and tagged, automatic response Count',
		async () => {
			sim.inject({
				times: 1,
				response: {
					status: 400,
					body: { __type: 'ThrottlingException', message: 'Rate exceeded' },
				},
			});
			expect(await callWebhook(n8n, 'aws-activate')).toEqual([
				expect.objectContaining({
					provider: 'awsShieldAdvanced',
					active: true,
					changed: true,
					automaticResponse: 'COUNT',
				}),
			]);
			const protection = sim.protectionOf(DISTRIBUTION)!;
			expect(protection.tags).toContainEqual({ Key: TAGS.created, Value: 'true' });
			expect(protection.ApplicationLayerAutomaticResponseConfiguration).toEqual({
				Status: 'ENABLED',
				Action: { Count: {} },
			});
		},
	);

	it('withdraws from another workflow after a restart, from the tags at AWS', async () => {
		await n8n.restart();
		expect(await callWebhook(n8n, 'aws-withdraw')).toEqual([
			expect.objectContaining({ active: false, changed: true, protectionDeleted: true }),
		]);
		expect(sim.protectionOf(DISTRIBUTION)).toBeUndefined();
	});

	it('reads status without writing', async () => {
		const writes = sim.writeOperations().length;
		expect(await callWebhook(n8n, 'aws-status')).toEqual([
			expect.objectContaining({
				active: false,
				changed: false,
				protected: false,
				subscriptionState: 'ACTIVE',
			}),
		]);
		expect(sim.writeOperations()).toHaveLength(writes);
	});

	it(
		"lists the protected resources for the editor's Resource " +
			'picker, filtered by what the user types',
		async () => {
			sim.protect(ALB);
			const search = (filter?: string) =>
				listSearch(n8n, {
					nodeType: 'awsShieldAdvanced',
					methodName: 'searchProtectedResources',
					parameter: 'resourceArn',
					credentials,
					filter,
				});
			expect((await search()).map((r) => r.value)).toContain(ALB);
			expect(await search('loadbalancer/app')).toEqual([{ name: `by hand (${ALB})`, value: ALB }]);
		},
	);
});
