import type { IDataObject } from 'n8n-workflow';

import { ProviderError } from '../shared/errors';
import type {
	ApiResponse,
	FailureDescription,
	ProviderApiSpec,
	ProviderClient,
} from '../shared/http';

/** AWS JSON 1.1 error body; `__type` may be namespaced (`aws.protocoljson#ThrottlingException`). */
interface AwsErrorBody {
	__type?: string;
	message?: string;
	Message?: string;
}

export const errorType = (body: unknown): string | undefined => {
	const type = (body as AwsErrorBody | null)?.__type;
	return typeof type === 'string' ? type.split('#').pop()!.split(':')[0] : undefined;
};

const IAM_ACTIONS =
	'shield:GetSubscriptionState, shield:DescribeSubscription, shield:DescribeProtection, ' +
	'shield:CreateProtection, shield:DeleteProtection, ' +
	'shield:EnableApplicationLayerAutomaticResponse, ' +
	'shield:UpdateApplicationLayerAutomaticResponse, ' +
	'shield:DisableApplicationLayerAutomaticResponse, shield:TagResource, shield:UntagResource, ' +
	'shield:ListTagsForResource (plus shield:EnableProactiveEngagement / ' +
	'DisableProactiveEngagement if used; with automatic response, wafv2:GetWebACLForResource ' +
	'and wafv2:GetWebACL for a load balancer, cloudfront:GetDistributionConfig for a distribution)';

const RETRYABLE = new Set([
	'ThrottlingException',
	'ThrottledException',
	'TooManyRequestsException',
	'RequestLimitExceeded',
	'OptimisticLockException',
	'InternalErrorException',
	'ServiceUnavailableException',
]);

export function describeShieldFailure(response: ApiResponse): FailureDescription {
	const body = (response.body ?? {}) as AwsErrorBody;
	const type = errorType(body);
	const providerMessage = body.message ?? body.Message;
	const common = { providerCode: type, providerMessage };
	const said = providerMessage ? `: ${providerMessage}` : '';
	switch (type) {
		case 'ThrottlingException':
		case 'ThrottledException':
		case 'TooManyRequestsException':
		case 'RequestLimitExceeded':
			return {
				...common,
				retryable: true,
				message: `AWS Shield throttled the request (${type})`,
				hint:
					'The request is retried with backoff; raise Max Attempts or Max Retry Time under ' +
					'Options if this persists.',
			};
		case 'OptimisticLockException':
			return {
				...common,
				retryable: true,
				message:
					'AWS Shield reports a concurrent change to the same protection (OptimisticLockException)',
				hint:
					'Retried with backoff; another workflow or the console changed the protection at ' +
					'the same moment.',
			};
		case 'UnrecognizedClientException':
		case 'InvalidClientTokenId':
			return {
				...common,
				retryable: false,
				message: 'AWS does not recognise the access key id (UnrecognizedClientException)',
				hint:
					'Check the Access Key ID, and that a temporary key (starting with ASIA) comes with ' +
					'its Session Token.',
			};
		case 'InvalidSignatureException':
		case 'SignatureDoesNotMatch':
			return {
				...common,
				retryable: false,
				message: `AWS rejected the request signature (InvalidSignatureException)${said}`,
				hint:
					"Paste the Secret Access Key again (no spaces), and check this host's clock: AWS " +
					'refuses signatures more than 5 minutes off.',
			};
		case 'ExpiredTokenException':
			return {
				...common,
				retryable: false,
				message: 'The AWS session token has expired (ExpiredTokenException)',
				hint:
					'Temporary credentials expire: put fresh Access Key ID, Secret Access Key and ' +
					'Session Token into the credential, or use an IAM user key without a session token.',
			};
		case 'AccessDeniedException':
			return {
				...common,
				retryable: false,
				message:
					'The AWS credential is not allowed to make this call (AccessDeniedException)' + said,
				hint: `Grant the IAM user or role these actions: ${IAM_ACTIONS}.`,
			};
		case 'ResourceNotFoundException':
			return {
				...common,
				message: `AWS Shield could not find it (ResourceNotFoundException)${said}`,
				hint:
					"Check the Resource ARN (copy it from the resource's console page) and that the " +
					'account has an active Shield Advanced subscription.',
			};
		case 'InvalidResourceException':
			return {
				...common,
				message: `AWS Shield cannot protect this resource (InvalidResourceException)${said}`,
				hint:
					'Shield Advanced protects CloudFront distributions, Route 53 hosted zones, Global ' +
					'Accelerator accelerators, Application and Classic Load Balancers and Elastic IPs.',
			};
		case 'InvalidOperationException':
			return {
				...common,
				message: `AWS Shield refused the operation (InvalidOperationException)${said}`,
				hint:
					'Application-layer automatic response needs an AWS WAF web ACL associated with the ' +
					'resource; proactive engagement needs emergency contacts (Shield console > ' +
					'Overview > Edit emergency contacts).',
			};
		case 'LimitsExceededException':
			return {
				...common,
				message: `AWS Shield limit reached (LimitsExceededException)${said}`,
				hint: 'Remove protections you no longer need, or ask AWS to raise the limit.',
			};
		case 'InvalidParameterException':
			return {
				...common,
				message: `AWS Shield refused a parameter (InvalidParameterException)${said}`,
			};
	}
	return {
		...common,
		retryable: type !== undefined && RETRYABLE.has(type) ? true : undefined,
		message: `AWS Shield answered HTTP ${response.status}${type ? ` (${type})` : ''}${said}`,
	};
}

export const shieldApi: ProviderApiSpec = {
	provider: 'AWS Shield',
	credentialType: 'awsShieldMitigationApi',
	defaultBaseUrl: 'https://shield.us-east-1.amazonaws.com',
	describeFailure: describeShieldFailure,
};

/**
 * Every Shield call is a POST. Reads, tag changes and Update (which sets a value) may be sent
 * twice; the others (Create, Delete, Enable, Disable) fail when repeated after they took effect, so
 * they pass a findEffect.
 */
const IDEMPOTENT = /^(Get|Describe|List|TagResource$|UntagResource$|UpdateApplicationLayer)/;

/**
 * One Shield JSON 1.1 call: `POST /` with the operation in X-Amz-Target; `{}` when there is no
 * input.
 */
export async function shieldCall<T = IDataObject>(
	api: ProviderClient,
	operation: string,
	input: IDataObject = {},
	findEffect?: () => Promise<unknown>,
): Promise<T> {
	const response = await api.request<T>({
		method: 'POST',
		path: '/',
		body: input,
		headers: {
			'content-type': 'application/x-amz-json-1.1',
			'x-amz-target': `AWSShield_20160616.${operation}`,
		},
		idempotent: IDEMPOTENT.test(operation),
		findEffect,
	});
	if (response.body === null || typeof response.body !== 'object') {
		throw new ProviderError(`AWS Shield answered ${operation} without a JSON object`, {
			provider: 'AWS Shield',
			httpCode: response.status,
			hint:
				"Check the credential's Base URL: it must be the Shield API, " +
				'https://shield.us-east-1.amazonaws.com.',
		});
	}
	return response.body;
}

/** Like shieldCall, but ResourceNotFoundException is an answer (nothing there), not an error. */
export async function shieldFind<T = IDataObject>(
	api: ProviderClient,
	operation: string,
	input: IDataObject,
): Promise<T | undefined> {
	try {
		return await shieldCall<T>(api, operation, input);
	} catch (error) {
		if (
			error instanceof ProviderError &&
			error.details.providerCode === 'ResourceNotFoundException'
		)
			return undefined;
		throw error;
	}
}

/**
 * Every page of a Shield List* call (NextToken paging); `listKey` names the array in each answer.
 */
export async function shieldListAll<T>(
	api: ProviderClient,
	operation: string,
	listKey: string,
): Promise<T[]> {
	const all: T[] = [];
	let nextToken: string | undefined;
	do {
		const page = await shieldCall<Record<string, unknown>>(api, operation, {
			MaxResults: 100,
			...(nextToken ? { NextToken: nextToken } : {}),
		});
		all.push(...((page[listKey] as T[] | undefined) ?? []));
		nextToken =
			typeof page.NextToken === 'string' && page.NextToken !== '' ? page.NextToken : undefined;
	} while (nextToken);
	return all;
}
