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
import { OWNER, listSearch, startN8nWith, stopN8n, testCredential } from './harness';
import { PACKAGE, locator, postJson, webhook, workflow } from './workflows';

const credentials = {
	awsShieldMitigationApi: { id: 'awssim000000001', name: 'AWS Shield (simulator)' },
};

const shieldNode = (operation: string, suffix: string) => ({
	name: `Shield ${suffix}`,
	type: `${PACKAGE}.awsShieldAdvanced`,
	parameters: {
		operation,
		resourceArn: locator(DISTRIBUTION),
		automaticResponse: 'COUNT',
		// Withdraw restores exactly: the protection activation created is deleted (the default keeps it).
		createdProtection: 'delete',
		requestOptions: {},
	},
	credentials,
});

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
	n8n = await startN8nWith({ owner: OWNER }, (instance) => {
		instance.importCredentials([
			{ ...credentials.awsShieldMitigationApi, type: 'awsShieldMitigationApi', data: temporary() },
		]);
		instance.importWorkflows([
			workflow('awsMitigation001', 'AWS Shield mitigation', [
				[webhook('Activate', 'aws-activate'), shieldNode('activate', 'on')],
				[webhook('Status', 'aws-status'), shieldNode('getStatus', 'status')],
			]),
			// Withdraw lives in another workflow: what to undo is read from the tags at AWS.
			workflow('awsMitigation002', 'AWS Shield withdraw', [
				[webhook('Withdraw', 'aws-withdraw'), shieldNode('withdraw', 'off')],
			]),
		]);
	});
});

afterAll(async () => {
	await stopN8n(n8n);
	await sim?.stop();
});

describe('AWS Shield Advanced inside a real n8n', () => {
	it('tests the credential through n8n with a SigV4-signed GetSubscriptionState; a wrong secret fails', async () => {
		const test = (data: Record<string, string>) =>
			testCredential(
				n8n,
				{ ...credentials.awsShieldMitigationApi, type: 'awsShieldMitigationApi' },
				data,
			);
		expect(await test(temporary())).toMatchObject({ status: 'OK' });
		expect(sim.operations).toContain('GetSubscriptionState');
		expect((await test({ ...temporary(), secretAccessKey: 'wrong' })).status).toBe('Error');
		sim.subscription = 'INACTIVE';
		expect(await test(temporary())).toMatchObject({
			status: 'Error',
			message: expect.stringMatching(/no active Shield Advanced subscription/),
		});
		sim.subscription = 'ACTIVE';
	});

	it('activates from a webhook through throttling: protection created and tagged, automatic response Count', async () => {
		sim.inject({
			times: 1,
			response: { status: 400, body: { __type: 'ThrottlingException', message: 'Rate exceeded' } },
		});
		const { status, json } = await postJson(`${n8n.url}/webhook/aws-activate`);
		expect(status).toBe(200);
		expect(json).toEqual([
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
	});

	it('withdraws from another workflow after a restart, from the tags at AWS', async () => {
		await n8n.restart();
		const { json } = await postJson(`${n8n.url}/webhook/aws-withdraw`);
		expect(json).toEqual([
			expect.objectContaining({ active: false, changed: true, protectionDeleted: true }),
		]);
		expect(sim.protectionOf(DISTRIBUTION)).toBeUndefined();
	});

	it('reads status without writing', async () => {
		const writes = sim.writeOperations().length;
		const { json } = await postJson(`${n8n.url}/webhook/aws-status`);
		expect(json).toEqual([
			expect.objectContaining({
				active: false,
				changed: false,
				protected: false,
				subscriptionState: 'ACTIVE',
			}),
		]);
		expect(sim.writeOperations()).toHaveLength(writes);
	});

	it("lists the protected resources for the editor's Resource picker, filtered by what the user types", async () => {
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
	});
});
