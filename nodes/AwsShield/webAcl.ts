import type { ICredentialDataDecryptedObject, IExecuteFunctions } from 'n8n-workflow';

import { SIGNING_SCOPE_HEADER } from '../../credentials/AwsShieldMitigationApi.credentials';
import { ProviderError } from '../shared/errors';
import type { ApiResponse, FailureDescription, ProviderApiSpec } from '../shared/http';
import { ProviderClient } from '../shared/http';
import { describeShieldFailure, errorType } from './transport';

/**
 * Whether a resource has the AWS WAF (v2) web ACL that Shield's application-layer automatic
 * response needs, read before any write so that activation refuses instead of failing halfway.
 * Automatic response exists only for CloudFront distributions and Application Load Balancers
 * (EnableApplicationLayerAutomaticResponse, AWS Shield API reference); other ARNs are refused
 * earlier, by validateTarget.
 */

export const WAF_HINT =
	'Associate an AWS WAF (v2) web ACL with the resource (AWS WAF console > Web ACLs > your ' +
	'web ACL > Associated AWS resources, or the Shield Advanced console), then run Activate ' +
	'again. Or set "Automatic Response" to "Leave Unchanged".';

/**
 * Errors every AWS API answers alike (signature, key, token, throttling), as the Shield error of
 * the same meaning: its description fits.
 */
const COMMON_AWS_ERRORS: Record<string, string> = {
	ThrottlingException: 'ThrottlingException',
	Throttling: 'ThrottlingException',
	UnrecognizedClientException: 'UnrecognizedClientException',
	InvalidClientTokenId: 'InvalidClientTokenId',
	InvalidSignatureException: 'InvalidSignatureException',
	SignatureDoesNotMatch: 'SignatureDoesNotMatch',
	ExpiredTokenException: 'ExpiredTokenException',
	ExpiredToken: 'ExpiredTokenException',
};

interface ReadApi {
	service: 'wafv2' | 'cloudfront';
	provider: string;
	/** The IAM action the read needs, named in the AccessDenied error. */
	permission: string;
	/** Its endpoint when the credential points at AWS itself. */
	awsEndpoint: string;
	region: string;
	/** `{ type, message }` of an error answer. */
	errorOf(body: unknown): { type?: string; message?: string };
}

/** Whether the credential's Base URL is AWS itself, not a gateway or test server. */
const isAwsHost = (baseUrl: string) => {
	try {
		return /(^|\.)amazonaws\.com(\.cn)?$/.test(new URL(baseUrl).hostname);
	} catch {
		return false;
	}
};

function specOf(read: ReadApi): ProviderApiSpec {
	return {
		provider: read.provider,
		credentialType: 'awsShieldMitigationApi',
		defaultBaseUrl: read.awsEndpoint,
		// A gateway or test server in the credential serves these reads too, at the same Base URL.
		baseUrlOf: (credentials: ICredentialDataDecryptedObject) => {
			const configured = typeof credentials.baseUrl === 'string' ? credentials.baseUrl.trim() : '';
			return configured === '' || isAwsHost(configured) ? read.awsEndpoint : configured;
		},
		describeFailure: (response: ApiResponse): FailureDescription => {
			const { type, message } = read.errorOf(response.body);
			const common = { providerCode: type, providerMessage: message };
			if (type === 'AccessDeniedException' || type === 'AccessDenied')
				return {
					...common,
					retryable: false,
					message:
						`The AWS credential may not read the resource's AWS WAF web ACL (${type}): ` +
						`${read.permission} is missing`,
					hint:
						`Grant the IAM user or role ${read.permission}. Activate needs it only with an ` +
						'automatic response; or set "Automatic Response" to "Leave Unchanged".',
				};
			if (type !== undefined && Object.hasOwn(COMMON_AWS_ERRORS, type)) {
				const shield = describeShieldFailure({
					...response,
					body: { __type: COMMON_AWS_ERRORS[type], message },
				});
				return {
					...shield,
					...common,
					message: shield.message.replace(/^AWS Shield/, read.provider),
				};
			}
			const said = message ? `: ${message}` : '';
			if (type === 'WAFNonexistentItemException' || type === 'NoSuchDistribution')
				return {
					...common,
					message: `${read.provider} could not find the resource (${type})${said}`,
					hint: "Check the Resource ARN: copy it from the resource's console page.",
				};
			return {
				...common,
				message: `${read.provider} answered HTTP ${response.status}${type ? ` (${type})` : ''}${said}`,
			};
		},
	};
}

/**
 * AWS WAF (v2) GetWebACLForResource, JSON 1.1, X-Amz-Target AWSWAF_20190729 (AWS WAF API
 * reference and the SDKs generated from the wafv2 2019-07-29 model): `{ "WebACL": {...} }`, "a
 * null web ACL" when none is associated; errors WAFNonexistentItemException,
 * WAFInvalidParameterException, WAFInternalErrorException and the common AccessDeniedException.
 * It calls GetWebACL too, so wafv2:GetWebACL is needed with it (AWS SDK for Kotlin, wafv2).
 */
const wafOf = (region: string, partition: string): ReadApi => ({
	service: 'wafv2',
	provider: 'AWS WAF',
	permission: 'wafv2:GetWebACLForResource (with wafv2:GetWebACL)',
	awsEndpoint: `https://wafv2.${region}.amazonaws.com${partition === 'aws-cn' ? '.cn' : ''}`,
	region,
	errorOf: (body) => {
		const error = body as { message?: string; Message?: string } | null;
		return { type: errorType(body), message: error?.message ?? error?.Message };
	},
});

/**
 * CloudFront GetDistributionConfig, `GET /2020-05-31/distribution/<Id>/config` answering a
 * `<DistributionConfig>` document (CloudFront API reference): its WebACLId is the web ACL's ARN for
 * AWS WAF (v2), its id for WAF Classic, and empty when none is associated (DistributionConfig in
 * the same reference). Errors NoSuchDistribution and AccessDenied come as
 * `<ErrorResponse><Error><Code>`.
 */
const cloudFront: ReadApi = {
	service: 'cloudfront',
	provider: 'Amazon CloudFront',
	permission: 'cloudfront:GetDistributionConfig',
	awsEndpoint: 'https://cloudfront.amazonaws.com',
	region: 'us-east-1',
	errorOf: (body) => ({
		type: typeof body === 'string' ? xmlText(body, 'Code') : undefined,
		message: typeof body === 'string' ? xmlText(body, 'Message') : undefined,
	}),
};

function xmlText(xml: string, element: string): string | undefined {
	const match = new RegExp(`<${element}>([^<]*)</${element}>`).exec(xml);
	return match?.[1]
		.replace(/&lt;/g, '<')
		.replace(/&gt;/g, '>')
		.replace(/&quot;/g, '"')
		.replace(/&apos;/g, "'")
		.replace(/&amp;/g, '&');
}

/** A client for the read, with the Shield client's retry policy and the same credential. */
const client = async (ctx: IExecuteFunctions, read: ReadApi, api: ProviderClient) =>
	await ProviderClient.create(ctx, specOf(read), api.retry);

const scope = (read: ReadApi) => ({ [SIGNING_SCOPE_HEADER]: `${read.service}/${read.region}` });

/** The web ACL associated with an ALB or CloudFront distribution: its ARN or id, or undefined. */
async function webAclOf(
	ctx: IExecuteFunctions,
	api: ProviderClient,
	resourceArn: string,
): Promise<string | undefined> {
	const [, partition, service, region] = resourceArn.split(':');
	if (service === 'cloudfront') {
		const id = resourceArn.split('/').pop()!;
		const response = await (
			await client(ctx, cloudFront, api)
		).request<string>({
			method: 'GET',
			path: `/2020-05-31/distribution/${encodeURIComponent(id)}/config`,
			headers: { accept: 'application/xml', ...scope(cloudFront) },
			text: true,
		});
		return xmlText(response.body, 'WebACLId')?.trim() || undefined;
	}
	const waf = wafOf(region, partition);
	const response = await (
		await client(ctx, waf, api)
	).request<{ WebACL?: { ARN?: string } | null }>({
		method: 'POST',
		path: '/',
		body: { ResourceArn: resourceArn },
		headers: {
			'content-type': 'application/x-amz-json-1.1',
			'x-amz-target': 'AWSWAF_20190729.GetWebACLForResource',
			...scope(waf),
		},
		idempotent: true,
	});
	return response.body?.WebACL?.ARN;
}

/**
 * Refuses, before any write, a resource without an AWS WAF (v2) web ACL; a failed read (e.g. a
 * missing IAM permission) is thrown as it is.
 */
export async function requireWebAcl(
	ctx: IExecuteFunctions,
	api: ProviderClient,
	resourceArn: string,
): Promise<void> {
	const webAcl = await webAclOf(ctx, api, resourceArn);
	if (webAcl === undefined)
		throw new ProviderError(
			`${resourceArn} has no AWS WAF web ACL, which application-layer automatic response ` +
				'needs. Nothing was changed.',
			{ provider: 'AWS Shield', hint: WAF_HINT },
		);
	// CloudFront names a WAF Classic web ACL by its id, a WAF (v2) one by its ARN.
	if (!webAcl.startsWith('arn:'))
		throw new ProviderError(
			`${resourceArn} has an AWS WAF Classic web ACL (${webAcl}); application-layer automatic ` +
				'response needs an AWS WAF (v2) web ACL. Nothing was changed.',
			{ provider: 'AWS Shield', hint: WAF_HINT },
		);
}
