import {
	AwsShieldMitigationApi,
	SIGNING_SCOPE_HEADER,
} from '../../../credentials/AwsShieldMitigationApi.credentials';
import { failureOf, jsonOf, runNode, sendWithCredential } from '../../helpers/runNode';
import { operationParams, simulatorPerTest } from '../../helpers/fixture';
import { restartableNode } from '../../simulators/restart';
import {
	ACCESS_KEY,
	ALB,
	DISTRIBUTION,
	EIP,
	SECRET,
	shieldCredentials,
	shieldRun,
	startShield,
} from './fixture';

/**
 * Application-layer automatic response needs an AWS WAF (v2) web ACL on the resource. Activation
 * reads it (AWS WAF GetWebACLForResource for a load balancer, CloudFront GetDistributionConfig for
 * a distribution) together with its other first reads, and refuses before any write without one.
 */
const node = restartableNode('AwsShield/AwsShieldAdvanced.node', 'AwsShieldAdvanced');
const sim = simulatorPerTest(startShield);

const params = operationParams(() => ({ resourceArn: ALB }));
const activate = (extra: Record<string, unknown> = {}) => shieldRun(sim, params('activate', extra));
const refusal = async (extra: Record<string, unknown> = {}) =>
	await failureOf(node, activate(extra));
const withoutWebAcl = (arn: string) => (sim.resources.get(arn)!.webAcl = false);
const allowOnly = (...allow: string[]) =>
	sim.addKey(ACCESS_KEY, { secretAccessKey: SECRET, allow: ['shield:*', ...allow] });

describe('AWS Shield Advanced: the WAF web ACL is checked before any write', () => {
	it('refuses an Application Load Balancer without a web ACL, writing nothing', async () => {
		withoutWebAcl(ALB);
		const error = await refusal();
		expect(error.message).toMatch(`${ALB} has no AWS WAF web ACL`);
		expect(error.message).toMatch(/Nothing was changed/);
		expect(error.description).toMatch(/Associate an AWS WAF \(v2\) web ACL with the resource/);
		expect(sim.operations).toContain('GetWebACLForResource');
		expect(sim.writeOperations()).toEqual([]);
		expect(error).toMatchObject({ context: { itemIndex: 0 } });
	});

	it('activates an Application Load Balancer with a web ACL', async () => {
		const [result] = jsonOf(await runNode(node, activate()));
		expect(result).toMatchObject({ active: true, changed: true, automaticResponse: 'BLOCK' });
		expect(sim.operations.indexOf('GetWebACLForResource')).toBeLessThan(
			sim.operations.indexOf('CreateProtection'),
		);
	});

	it('refuses a CloudFront distribution without a web ACL, writing nothing', async () => {
		withoutWebAcl(DISTRIBUTION);
		const error = await refusal({ resourceArn: DISTRIBUTION });
		expect(error.message).toMatch(`${DISTRIBUTION} has no AWS WAF web ACL`);
		expect(error.description).toMatch(/Associate an AWS WAF \(v2\) web ACL/);
		expect(sim.operations).toContain('GetDistributionConfig');
		expect(sim.writeOperations()).toEqual([]);
	});

	it('refuses a CloudFront distribution whose web ACL is AWS WAF Classic', async () => {
		sim.resources.get(DISTRIBUTION)!.webAcl = 'classic';
		const error = await refusal({ resourceArn: DISTRIBUTION });
		expect(error.message).toMatch(/has an AWS WAF Classic web ACL .* needs an AWS WAF \(v2\)/);
		expect(sim.writeOperations()).toEqual([]);
	});

	it('activates a CloudFront distribution with a web ACL', async () => {
		const [result] = jsonOf(await runNode(node, activate({ resourceArn: DISTRIBUTION })));
		expect(result).toMatchObject({ active: true, changed: true, automaticResponse: 'BLOCK' });
		expect(sim.operations).toContain('GetDistributionConfig');
	});

	it('refuses a resource type without automatic response before any request', async () => {
		const error = await refusal({ resourceArn: EIP });
		expect(error.message).toMatch(
			/only available for CloudFront distributions and Application Load Balancers/,
		);
		expect(sim.log).toEqual([]);
	});

	it('names wafv2:GetWebACLForResource when the credential may not read the web ACL', async () => {
		allowOnly('cloudfront:*');
		const error = await refusal();
		expect(error.message).toMatch(
			/AWS WAF web ACL \(AccessDeniedException\): wafv2:GetWebACLForResource .*is missing/,
		);
		expect(error.description).toMatch(/Grant the IAM user or role wafv2:GetWebACLForResource/);
		expect(sim.writeOperations()).toEqual([]);
	});

	it('names cloudfront:GetDistributionConfig when the credential may not read it', async () => {
		allowOnly('wafv2:*');
		const error = await refusal({ resourceArn: DISTRIBUTION });
		expect(error.message).toMatch(/\(AccessDenied\): cloudfront:GetDistributionConfig is missing/);
		expect(error.description).toMatch(/cloudfront:GetDistributionConfig/);
		expect(sim.writeOperations()).toEqual([]);
	});

	it('without automatic response, makes no AWS WAF or CloudFront request at all', async () => {
		allowOnly();
		withoutWebAcl(ALB);
		const [result] = jsonOf(await runNode(node, activate({ automaticResponse: 'NONE' })));
		expect(result).toMatchObject({ active: true, changed: true });
		expect(sim.operations).not.toContain('GetWebACLForResource');
		expect(sim.log.filter((r) => r.path !== '/')).toEqual([]);
	});

	it('with automatic response on already, no web ACL or permission stops it', async () => {
		sim.protect(ALB, 'BLOCK');
		withoutWebAcl(ALB);
		allowOnly();
		const [result] = jsonOf(await runNode(node, activate()));
		expect(result).toMatchObject({ active: true, changed: false, automaticResponse: 'BLOCK' });
	});
});

describe('AWS Shield Advanced: web ACL reads signed for their own service and region', () => {
	const credentialType = new AwsShieldMitigationApi();
	const readWebAcl = async (scope: string) =>
		await sendWithCredential<{ __type?: string; message?: string; WebACL?: object }>(
			credentialType,
			shieldCredentials(sim),
			{
				url: `${sim.baseUrl}/`,
				method: 'POST',
				body: JSON.stringify({ ResourceArn: ALB }),
				headers: {
					'content-type': 'application/x-amz-json-1.1',
					'x-amz-target': 'AWSWAF_20190729.GetWebACLForResource',
					[SIGNING_SCOPE_HEADER]: scope,
				},
			},
		);

	it('AWS WAF accepts wafv2 in the load balancer region', async () => {
		const response = await readWebAcl('wafv2/eu-west-1');
		expect(response.statusCode).toBe(200);
		expect(response.body.WebACL).toBeDefined();
	});

	it('AWS WAF rejects another region or service', async () => {
		const region = await readWebAcl('wafv2/us-east-1');
		expect(region.body.__type).toMatch(/InvalidSignatureException/);
		expect(region.body.message).toMatch(/valid region/);
		const service = await readWebAcl('shield/eu-west-1');
		expect(service.body.message).toMatch(/correct service: 'wafv2'/);
	});

	it('CloudFront accepts cloudfront in us-east-1 and rejects shield, in XML', async () => {
		const read = async (scope: string) =>
			await sendWithCredential<string>(credentialType, shieldCredentials(sim), {
				url: `${sim.baseUrl}/2020-05-31/distribution/E1A2B3C4D5E6F7/config`,
				method: 'GET',
				headers: { [SIGNING_SCOPE_HEADER]: scope },
				encoding: 'text',
				json: false,
			});
		const ok = await read('cloudfront/us-east-1');
		expect(ok.statusCode).toBe(200);
		expect(String(ok.body)).toMatch(/<WebACLId>arn:aws:wafv2:/);
		const wrong = await read('shield/us-east-1');
		expect(wrong.statusCode).toBe(403);
		expect(String(wrong.body)).toMatch(/<Code>SignatureDoesNotMatch<\/Code>/);
	});

	it('the scope header is signed away, never sent', async () => {
		const seen: string[] = [];
		sim.onRequest = (request) => seen.push(...Object.keys(request.headers));
		await readWebAcl('wafv2/eu-west-1');
		expect(seen).not.toContain(SIGNING_SCOPE_HEADER);
	});
});
