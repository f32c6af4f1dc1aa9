import { AwsShieldMitigationApi } from '../../../credentials/AwsShieldMitigationApi.credentials';
import {
	authenticate,
	continueOnFailOutput,
	failureOf,
	jsonOf,
	performRequest,
	runNode,
	sendWithCredential,
} from '../../helpers/runNode';
import { operationParams, simulatorPerTest } from '../../helpers/fixture';
import { sigV4Signature } from '../../simulators/awsShield';
import {
	ACCESS_KEY,
	DISTRIBUTION,
	SECRET,
	SESSION_TOKEN,
	TEMP_KEY,
	TEMP_SECRET,
	shieldCredentials,
	shieldRun,
	startShield,
} from './fixture';
import { restartableNode } from '../../simulators/restart';

/** A fresh node per test; `node.restart()` plays an n8n restart (no process-wide records). */
const node = restartableNode('AwsShield/AwsShieldAdvanced.node', 'AwsShieldAdvanced');
const credentialType = new AwsShieldMitigationApi();
const sim = simulatorPerTest(startShield);

const params = operationParams(() => ({ resourceArn: DISTRIBUTION }));
const failure = (run: ReturnType<typeof shieldRun>) => failureOf(node, run);
const withCredentials = (extra: Record<string, string>, operation = 'getStatus') => {
	const run = shieldRun(sim, params(operation));
	run.credentials.awsShieldMitigationApi = shieldCredentials(sim, extra);
	return run;
};
const throttled = {
	status: 400,
	body: { __type: 'com.amazon.coral.availability#ThrottlingException', message: 'Rate exceeded' },
};

/** A GetSubscriptionState request as n8n signs it with the credential, not sent yet. */
const signedRequest = (credentials = shieldCredentials(sim)) =>
	authenticate(credentialType, credentials, {
		url: `${sim.baseUrl}/`,
		method: 'POST',
		body: '{}',
		headers: {
			'content-type': 'application/x-amz-json-1.1',
			'x-amz-target': 'AWSShield_20160616.GetSubscriptionState',
		},
		returnFullResponse: true,
		ignoreHttpStatusErrors: true,
	});

/** Sends a signed GetSubscriptionState, optionally tampering with the request after signing. */
async function signedCall(
	credentials = shieldCredentials(sim),
	tamper: (options: Record<string, unknown>) => void = () => {},
) {
	const options = await signedRequest(credentials);
	tamper(options as never);
	return (await performRequest(options)) as {
		statusCode: number;
		body: { __type?: string; message?: string; SubscriptionState?: string };
	};
}

describe('SigV4, verified by the simulator with its own implementation', () => {
	it("matches AWS's published SigV4 example (IAM ListUsers, get-vanilla style)", () => {
		// From the AWS General Reference "Signature Version 4 signing process" example.
		const signature = sigV4Signature({
			secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
			method: 'GET',
			path: '/',
			query: 'Action=ListUsers&Version=2010-05-08',
			headers: {
				'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
				host: 'iam.amazonaws.com',
				'x-amz-date': '20150830T123600Z',
			},
			signedHeaders: ['content-type', 'host', 'x-amz-date'],
			body: '',
			amzDate: '20150830T123600Z',
			scope: '20150830/us-east-1/iam/aws4_request',
		});
		expect(signature).toBe('5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7');
	});

	it("accepts the credential's signature (service shield, region us-east-1)", async () => {
		const response = await signedCall();
		expect(response.statusCode).toBe(200);
		expect(response.body.SubscriptionState).toBe('ACTIVE');
		expect(sim.verifiedSignatures).toBe(1);
	});

	it('signs temporary credentials with X-Amz-Security-Token', async () => {
		const response = await signedCall(
			shieldCredentials(sim, {
				accessKeyId: TEMP_KEY,
				secretAccessKey: TEMP_SECRET,
				sessionToken: SESSION_TOKEN,
			}),
		);
		expect(response.statusCode).toBe(200);
		const missing = await signedCall(
			shieldCredentials(sim, { accessKeyId: TEMP_KEY, secretAccessKey: TEMP_SECRET }),
		);
		expect(missing.body.__type).toMatch(/UnrecognizedClientException/);
	});

	it.each([
		[
			'a wrong secret',
			(o: Record<string, unknown>) => void o,
			{ secretAccessKey: 'wrong' },
			/does not match/,
		],
		[
			'a body changed after signing (wrong body hash)',
			(o: Record<string, unknown>) => (o.body = '[]'),
			{},
			/does not match/,
		],
		[
			'a stale X-Amz-Date (over 5 minutes)',
			(o: Record<string, unknown>) => {
				const headers = o.headers as Record<string, string>;
				headers['X-Amz-Date'] = '20200101T000000Z';
			},
			{},
			/does not match the credential scope date|Signature expired/,
		],
		[
			'a wrong region in the scope',
			(o: Record<string, unknown>) => {
				const headers = o.headers as Record<string, string>;
				headers.Authorization = headers.Authorization.replace('/us-east-1/', '/eu-west-1/');
			},
			{},
			/valid region/,
		],
		[
			'a wrong service in the scope',
			(o: Record<string, unknown>) => {
				const headers = o.headers as Record<string, string>;
				headers.Authorization = headers.Authorization.replace('/shield/', '/waf/');
			},
			{},
			/correct service: 'shield'/,
		],
	])('rejects %s', async (_what, tamper, extra, message) => {
		const response = await signedCall(shieldCredentials(sim, extra), tamper);
		expect(response.statusCode).toBe(400);
		expect(response.body.message).toMatch(message);
		expect(sim.verifiedSignatures).toBe(0);
	});

	it('rejects a signature made more than 5 minutes ago, even when consistent', async () => {
		jest.useFakeTimers({
			now: Date.now() - 10 * 60 * 1000,
			doNotFake: ['nextTick', 'setImmediate', 'setTimeout', 'setInterval', 'queueMicrotask'],
		});
		let options: Record<string, unknown>;
		try {
			options = (await signedRequest()) as never;
		} finally {
			jest.useRealTimers();
		}
		const response = (await performRequest(options as never)) as { body: { message: string } };
		expect(response.body.message).toMatch(/Signature expired/);
	});

	it('the credential test calls GetSubscriptionState; INACTIVE is a clear failure rule', async () => {
		expect(credentialType.test.request.headers).toEqual({
			'X-Amz-Target': 'AWSShield_20160616.GetSubscriptionState',
		});
		sim.subscription = 'INACTIVE';
		const response = await sendWithCredential<{ SubscriptionState: string }>(
			credentialType,
			shieldCredentials(sim),
			{ ...(credentialType.test.request as object), baseURL: sim.baseUrl } as never,
		);
		expect(response.body.SubscriptionState).toBe('INACTIVE');
		expect(credentialType.test.rules).toContainEqual(
			expect.objectContaining({
				properties: expect.objectContaining({
					key: 'SubscriptionState',
					value: 'INACTIVE',
					message: expect.stringMatching(/no active Shield Advanced subscription/),
				}),
			}),
		);
	});
});

describe('AWS Shield errors, each with its own message', () => {
	it('unknown access key id', async () => {
		const error = await failure(withCredentials({ accessKeyId: 'AKIAUNKNOWNKEY000000' }));
		expect(error.message).toBe(
			'AWS does not recognise the access key id (UnrecognizedClientException)',
		);
		expect(sim.log).toHaveLength(1);
	});

	it('wrong secret access key', async () => {
		const error = await failure(withCredentials({ secretAccessKey: 'not-the-secret' }));
		expect(error.message).toMatch(
			/AWS rejected the request signature \(InvalidSignatureException\)/,
		);
		expect(error.description).toMatch(/Secret Access Key .* clock/);
	});

	it('expired session token', async () => {
		sim.inject({
			response: {
				status: 400,
				body: {
					__type: 'ExpiredTokenException',
					message: 'The security token included in the request is expired',
				},
			},
		});
		const error = await failure(shieldRun(sim, params('getStatus')));
		expect(error.message).toBe('The AWS session token has expired (ExpiredTokenException)');
	});

	it('missing IAM permission names the actions to grant', async () => {
		sim.addKey(ACCESS_KEY, {
			secretAccessKey: SECRET,
			allow: [
				'shield:GetSubscriptionState',
				'shield:DescribeProtection',
				'shield:ListTagsForResource',
				'cloudfront:GetDistributionConfig',
			],
		});
		const error = await failure(shieldRun(sim, params('activate')));
		expect(error.message).toMatch(
			/not allowed to make this call \(AccessDeniedException\).*shield:CreateProtection/,
		);
		expect(error.description).toMatch(/shield:CreateProtection.*shield:TagResource/);
	});

	it('inactive Shield Advanced subscription', async () => {
		sim.subscription = 'INACTIVE';
		const error = await failure(shieldRun(sim, params('activate')));
		expect(error.message).toMatch(/no active Shield Advanced subscription/);
		expect(sim.writeOperations()).toHaveLength(0);
	});

	it('automatic response refused by Shield, no WAF web ACL (InvalidOperationException)', async () => {
		// The web ACL is there when the node checks, and gone when Shield is asked.
		sim.onRequest = (request) => {
			if (request.headers['x-amz-target'] === 'AWSShield_20160616.CreateProtection')
				sim.resources.get(DISTRIBUTION)!.webAcl = false;
		};
		const error = await failure(shieldRun(sim, params('activate')));
		expect(error.message).toMatch(
			/cannot switch on automatic response .* no AWS WAF web ACL is associated with it\. Nothing was changed/,
		);
		expect(error.description).toMatch(/Associate an AWS WAF \(v2\) web ACL with the resource/);
		expect(sim.protectionOf(DISTRIBUTION)).toBeUndefined();
	});

	it('proactive engagement without emergency contacts', async () => {
		sim.emergencyContacts = false;
		const error = await failure(shieldRun(sim, params('activate', { proactiveEngagement: true })));
		expect(error.description).toMatch(/emergency contacts/);
	});

	it('a resource Shield cannot find (InvalidResourceException)', async () => {
		const error = await failure(
			shieldRun(
				sim,
				params('activate', {
					resourceArn: 'arn:aws:cloudfront::123456789012:distribution/EGONE0000000',
					automaticResponse: 'NONE',
				}),
			),
		);
		expect(error.message).toMatch(/cannot protect this resource \(InvalidResourceException\)/);
	});

	it('with automatic response, a distribution CloudFront cannot find, before any write', async () => {
		const error = await failure(
			shieldRun(
				sim,
				params('activate', {
					resourceArn: 'arn:aws:cloudfront::123456789012:distribution/EGONE0000000',
				}),
			),
		);
		expect(error.message).toMatch(
			/Amazon CloudFront could not find the resource \(NoSuchDistribution\)/,
		);
		expect(error.description).toMatch(/Check the Resource ARN/);
		expect(sim.writeOperations()).toEqual([]);
	});

	it('never puts the secret or session token in output items or errors', async () => {
		const run = withCredentials({
			accessKeyId: TEMP_KEY,
			secretAccessKey: 'wrong',
			sessionToken: SESSION_TOKEN,
		});
		const output = await continueOnFailOutput(node, run);
		expect(output).toMatch(/InvalidSignatureException/);
		for (const secret of ['wrong', SESSION_TOKEN, SECRET]) expect(output).not.toContain(secret);
	});
});

describe('AWS Shield fault injection', () => {
	it('retries ThrottlingException (HTTP 400) with backoff and completes', async () => {
		sim.inject({ times: 2, response: throttled });
		const run = shieldRun(
			sim,
			params('activate', { requestOptions: { maxAttempts: 4, maxRetryTime: 20 } }),
		);
		const [result] = jsonOf(await runNode(node, run));
		expect(result).toMatchObject({ active: true, changed: true });
		expect(sim.log.slice(0, 3).map((r) => r.status)).toEqual([400, 400, 200]);
	});

	it('gives up on persistent throttling and says so', async () => {
		sim.inject({ times: 10, response: throttled });
		const error = await failure(
			shieldRun(sim, params('getStatus', { requestOptions: { maxAttempts: 2 } })),
		);
		expect(error.message).toMatch(
			/AWS Shield throttled the request \(ThrottlingException\).*gave up after 2 attempts/,
		);
	});

	it('retries 429, 5xx and OptimisticLockException, re-signing each attempt', async () => {
		sim.inject({ response: { status: 429, headers: { 'retry-after': '0' }, body: {} } });
		sim.inject({
			response: {
				status: 500,
				body: { __type: 'InternalErrorException', message: 'internal error' },
			},
		});
		sim.inject({
			response: {
				status: 400,
				body: { __type: 'OptimisticLockException', message: 'concurrent modification' },
			},
		});
		const [status] = jsonOf(
			await runNode(
				node,
				shieldRun(
					sim,
					params('getStatus', { requestOptions: { maxAttempts: 4, maxRetryTime: 20 } }),
				),
			),
		);
		expect(status).toMatchObject({ subscriptionState: 'ACTIVE' });
		expect(sim.verifiedSignatures).toBeGreaterThan(0);
	});

	it('retries a request that timed out', async () => {
		sim.inject({ delayMs: 1500 });
		const [status] = jsonOf(
			await runNode(
				node,
				shieldRun(sim, params('getStatus', { requestOptions: { maxAttempts: 2, timeout: 1 } })),
			),
		);
		expect(status).toMatchObject({ subscriptionState: 'ACTIVE' });
	});

	it('a 409 from a proxy in front of AWS is not retried and is reported with its status', async () => {
		sim.inject({ response: { status: 409, body: { message: 'Conflict' } } });
		const error = await failure(shieldRun(sim, params('getStatus')));
		expect(error.message).toBe('AWS Shield answered HTTP 409: Conflict');
		expect(sim.log).toHaveLength(1);
	});
});
