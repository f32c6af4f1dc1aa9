import { createHash, createHmac } from 'node:crypto';

import { Simulator, type SimRequest, type SimResponse } from './framework';

/**
 * AWS Shield Advanced (JSON 1.1 over `POST /`, X-Amz-Target) as the Shield node uses it, with the
 * two reads that tell whether a resource has an AWS WAF web ACL: AWS WAF (v2)
 * GetWebACLForResource (JSON 1.1, `AWSWAF_20190729`) and CloudFront GetDistributionConfig
 * (REST-XML, `GET /2020-05-31/distribution/<id>/config`), served at the same base URL as a gateway
 * would. Every request's SigV4 signature is verified here with an independent implementation on
 * node:crypto (not aws4): access key, secret, session token, credential scope (date; service
 * shield in us-east-1, wafv2 in the ALB's region, cloudfront in us-east-1), X-Amz-Date within 5
 * minutes, and the signature over the canonical request, body hash included. Errors are HTTP 400
 * `{"__type", "message"}`, CloudFront's XML `<ErrorResponse>`.
 */

export interface SimKey {
	secretAccessKey: string;
	sessionToken?: string;
	/** IAM actions allowed, e.g. `shield:CreateProtection`; `shield:*` for all of Shield's. */
	allow: string[];
}

export interface SimProtection {
	Id: string;
	Name: string;
	ResourceArn: string;
	ProtectionArn: string;
	HealthCheckIds: string[];
	ApplicationLayerAutomaticResponseConfiguration?: {
		Status: 'ENABLED' | 'DISABLED';
		Action: { Block?: object; Count?: object };
	};
	tags: Array<{ Key: string; Value: string }>;
}

export interface SimResource {
	/**
	 * An AWS WAF (v2) web ACL is associated (needed for application-layer automatic response), or a
	 * WAF Classic one (not enough; CloudFront distributions only).
	 */
	webAcl: boolean | 'classic';
}

const ACCOUNT = '123456789012';
const error = (type: string, message: string, status = 400): SimResponse => ({
	status,
	body: { __type: `com.amazonaws.shield#${type}`, message },
	headers: { 'content-type': 'application/x-amz-json-1.1' },
});
const ok = (body: unknown = {}): SimResponse => ({
	status: 200,
	body,
	headers: { 'content-type': 'application/x-amz-json-1.1' },
});

const CLOUDFRONT_PATH = /^\/2020-05-31\/distribution\/([^/]+)\/config$/;
const isCloudFront = (req: SimRequest) => CLOUDFRONT_PATH.test(req.path);

/** CloudFront's REST-XML error; the JSON error types of signing map to CloudFront's codes. */
const XML_CODES: Record<string, string> = {
	InvalidSignatureException: 'SignatureDoesNotMatch',
	UnrecognizedClientException: 'InvalidClientTokenId',
};
const xmlError = (code: string, message: string, status: number): SimResponse => ({
	status,
	body:
		'<?xml version="1.0"?><ErrorResponse xmlns="http://cloudfront.amazonaws.com/doc/2020-05-31/">' +
		`<Error><Type>Sender</Type><Code>${XML_CODES[code] ?? code}</Code>` +
		`<Message>${message.replace(/&/g, '&amp;').replace(/</g, '&lt;')}</Message></Error>` +
		'<RequestId>6b1b0ad0-sim</RequestId></ErrorResponse>',
	headers: { 'content-type': 'text/xml' },
});

/** The SigV4 scope a request must be signed for: `[service, region]`. */
function scopeOf(req: SimRequest): [string, string] {
	if (isCloudFront(req)) return ['cloudfront', 'us-east-1'];
	if ((req.headers['x-amz-target'] ?? '').startsWith('AWSWAF_20190729.')) {
		const arn = String((req.body as { ResourceArn?: unknown } | undefined)?.ResourceArn ?? '');
		return ['wafv2', arn.split(':')[3] || 'us-east-1'];
	}
	return ['shield', 'us-east-1'];
}

const sha256 = (data: string) => createHash('sha256').update(data, 'utf8').digest('hex');
const hmac = (key: Buffer | string, data: string) =>
	createHmac('sha256', key).update(data, 'utf8').digest();

/** SigV4 as AWS documents it: https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html */
export function sigV4Signature(input: {
	secretAccessKey: string;
	method: string;
	path: string;
	query: string;
	headers: Record<string, string>;
	signedHeaders: string[];
	body: string;
	amzDate: string;
	scope: string;
}): string {
	const canonicalHeaders = input.signedHeaders
		.map((name) => `${name}:${(input.headers[name] ?? '').trim().replace(/\s+/g, ' ')}\n`)
		.join('');
	const canonicalQuery = [...new URLSearchParams(input.query).entries()]
		.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
		.sort()
		.join('&');
	const canonicalRequest = [
		input.method,
		input.path,
		canonicalQuery,
		canonicalHeaders,
		input.signedHeaders.join(';'),
		sha256(input.body),
	].join('\n');
	const stringToSign = [
		'AWS4-HMAC-SHA256',
		input.amzDate,
		input.scope,
		sha256(canonicalRequest),
	].join('\n');
	const [date, region, service] = input.scope.split('/');
	const key = hmac(
		hmac(hmac(hmac(`AWS4${input.secretAccessKey}`, date), region), service),
		'aws4_request',
	);
	return createHmac('sha256', key).update(stringToSign, 'utf8').digest('hex');
}

export class AwsShieldSimulator extends Simulator {
	protected readonly prefix = '';
	readonly keys = new Map<string, SimKey>();
	readonly protections = new Map<string, SimProtection>();
	readonly resources = new Map<string, SimResource>();
	subscription: 'ACTIVE' | 'INACTIVE' = 'ACTIVE';
	proactiveEngagement: 'ENABLED' | 'DISABLED' = 'DISABLED';
	emergencyContacts = true;
	/** Most protections one ListProtections answer holds, whatever MaxResults asks for. */
	pageSize = 20;
	/** Successful signature checks. */
	verifiedSignatures = 0;
	/**
	 * Operations answered with success, in order (every Shield call is POST /, so the log's methods
	 * say nothing); the reads of AWS WAF and CloudFront included.
	 */
	readonly operations: string[] = [];
	private caller?: SimKey;
	private nextId = 1;
	private readonly handlers: Record<string, (input: Record<string, unknown>) => SimResponse> = {
		GetSubscriptionState: () => ok({ SubscriptionState: this.subscription }),
		DescribeSubscription: () =>
			this.subscription === 'ACTIVE'
				? ok({
						Subscription: {
							SubscriptionArn: `arn:aws:shield::${ACCOUNT}:subscription/1a2b3c4d`,
							ProactiveEngagementStatus: this.proactiveEngagement,
							AutoRenew: 'ENABLED',
							SubscriptionLimits: {},
						},
					})
				: error('ResourceNotFoundException', 'The subscription does not exist.'),
		// AWS "might return fewer objects than you indicate" and pages with an opaque NextToken; pageSize forces that.
		ListProtections: (input) => {
			const maxResults = input.MaxResults === undefined ? 20 : Number(input.MaxResults);
			if (!Number.isInteger(maxResults) || maxResults < 0 || maxResults > 10_000)
				return error('InvalidParameterException', 'MaxResults: invalid value');
			let start = 0;
			if (input.NextToken !== undefined) {
				const decoded = /^page:(\d+)$/.exec(
					Buffer.from(String(input.NextToken), 'base64').toString(),
				);
				if (!decoded) return error('InvalidPaginationTokenException', 'Invalid pagination token');
				start = Number(decoded[1]);
			}
			const all = [...this.protections.values()];
			const end = start + Math.min(maxResults || 20, this.pageSize);
			const page = all.slice(start, end).map(view);
			return ok({
				Protections: page,
				...(end < all.length ? { NextToken: Buffer.from(`page:${end}`).toString('base64') } : {}),
			});
		},
		DescribeProtection: (input) => {
			const protection = this.find(input);
			return protection
				? ok({ Protection: view(protection) })
				: error('ResourceNotFoundException', 'The referenced protection does not exist.');
		},
		CreateProtection: (input) => {
			const arn = String(input.ResourceArn ?? '');
			if (this.subscription !== 'ACTIVE')
				return error('ResourceNotFoundException', 'The subscription does not exist.');
			if (!this.resources.has(arn))
				return error('InvalidResourceException', `Unable to find resource with ARN ${arn}`);
			if (!/^[ \w.-]{1,128}$/.test(String(input.Name ?? '')))
				return error('InvalidParameterException', 'Name: invalid value');
			if ([...this.protections.values()].some((p) => p.ResourceArn === arn))
				return error('ResourceAlreadyExistsException', 'The referenced protection already exists.');
			const id = `a1b2c3d4-0000-4000-8000-${String(this.nextId++).padStart(12, '0')}`;
			const tags = (input.Tags as SimProtection['tags'] | undefined) ?? [];
			this.protections.set(id, {
				Id: id,
				Name: String(input.Name),
				ResourceArn: arn,
				ProtectionArn: `arn:aws:shield::${ACCOUNT}:protection/${id}`,
				HealthCheckIds: [],
				tags: [...tags],
			});
			return ok({ ProtectionId: id });
		},
		DeleteProtection: (input) => {
			const protection = this.protections.get(String(input.ProtectionId));
			if (!protection)
				return error('ResourceNotFoundException', 'The referenced protection does not exist.');
			this.protections.delete(protection.Id);
			return ok();
		},
		EnableApplicationLayerAutomaticResponse: (input) =>
			this.setAutomaticResponse(input, false, { Status: 'ENABLED', Action: action(input) }),
		UpdateApplicationLayerAutomaticResponse: (input) =>
			this.setAutomaticResponse(input, true, { Status: 'ENABLED', Action: action(input) }),
		DisableApplicationLayerAutomaticResponse: (input) =>
			this.setAutomaticResponse(input, true, { Status: 'DISABLED', Action: { Block: {} } }),
		EnableProactiveEngagement: () => {
			if (!this.emergencyContacts)
				return error(
					'InvalidOperationException',
					'Proactive engagement requires emergency contacts.',
				);
			this.proactiveEngagement = 'ENABLED';
			return ok();
		},
		DisableProactiveEngagement: () => {
			this.proactiveEngagement = 'DISABLED';
			return ok();
		},
		ListTagsForResource: (input) => this.withProtectionArn(input, (p) => ok({ Tags: p.tags })),
		TagResource: (input) =>
			this.withProtectionArn(input, (p) => {
				for (const tag of (input.Tags as SimProtection['tags']) ?? []) {
					p.tags = [...p.tags.filter((t) => t.Key !== tag.Key), tag];
				}
				return ok();
			}),
		UntagResource: (input) =>
			this.withProtectionArn(input, (p) => {
				const keys = (input.TagKeys as string[]) ?? [];
				p.tags = p.tags.filter((t) => !keys.includes(t.Key));
				return ok();
			}),
	};

	constructor() {
		super();
		this.route('POST', '/', (req) => {
			const target = req.headers['x-amz-target'] ?? '';
			if (target === 'AWSWAF_20190729.GetWebACLForResource') return this.getWebAclForResource(req);
			const operation = target.startsWith('AWSShield_20160616.')
				? target.slice('AWSShield_20160616.'.length)
				: '';
			const handler = this.handlers[operation];
			if (!handler) return error('UnknownOperationException', `Unknown operation ${target}`);
			if (!req.headers['content-type']?.startsWith('application/x-amz-json-1.1'))
				return error('SerializationException', 'Expected application/x-amz-json-1.1');
			if (!this.allows(`shield:${operation}`)) {
				return error(
					'AccessDeniedException',
					`User: arn:aws:iam::${ACCOUNT}:user/n8n is not authorized to perform: shield:${operation}`,
				);
			}
			const input = (req.body ?? {}) as Record<string, unknown>;
			const response = handler(typeof input === 'object' ? input : {});
			if (response.status === 200) this.operations.push(operation);
			return response;
		});
		this.route('GET', '/2020-05-31/distribution/:id/config', (req) => {
			const arn = `arn:aws:cloudfront::${ACCOUNT}:distribution/${req.params.id}`;
			if (!this.allows('cloudfront:GetDistributionConfig'))
				return xmlError(
					'AccessDenied',
					`User: arn:aws:iam::${ACCOUNT}:user/n8n is not authorized to perform: ` +
						`cloudfront:GetDistributionConfig on resource: ${arn}`,
					403,
				);
			const resource = this.resources.get(arn);
			if (!resource)
				return xmlError('NoSuchDistribution', 'The specified distribution does not exist.', 404);
			const webAclId =
				resource.webAcl === 'classic'
					? '1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d'
					: resource.webAcl
						? `arn:aws:wafv2:us-east-1:${ACCOUNT}:global/webacl/edge/0a1b2c3d-4e5f-4a6b-8c7d-8e9f0a1b2c3d`
						: '';
			this.operations.push('GetDistributionConfig');
			return {
				status: 200,
				headers: { 'content-type': 'text/xml', etag: 'E2QWRUHAPOMQZL' },
				body:
					'<?xml version="1.0" encoding="UTF-8"?>\n' +
					'<DistributionConfig xmlns="http://cloudfront.amazonaws.com/doc/2020-05-31/">' +
					`<CallerReference>sim-${req.params.id}</CallerReference>` +
					'<Aliases><Quantity>0</Quantity></Aliases>' +
					'<Comment></Comment><Enabled>true</Enabled>' +
					(webAclId ? `<WebACLId>${webAclId}</WebACLId>` : '<WebACLId></WebACLId>') +
					'<HttpVersion>http2</HttpVersion></DistributionConfig>',
			};
		});
	}

	private allows(action: string): boolean {
		const service = action.split(':')[0];
		return this.caller!.allow.some((a) => a === action || a === `${service}:*`);
	}

	/** AWS WAF (v2): `{ WebACL }` for an associated web ACL, `{}` (a null web ACL) for none. */
	private getWebAclForResource(req: SimRequest): SimResponse {
		const arn = String((req.body as { ResourceArn?: unknown } | undefined)?.ResourceArn ?? '');
		if (!this.allows('wafv2:GetWebACLForResource'))
			return error(
				'AccessDeniedException',
				`User: arn:aws:iam::${ACCOUNT}:user/n8n is not authorized to perform: ` +
					`wafv2:GetWebACLForResource on resource: ${arn}`,
			);
		const resource = this.resources.get(arn);
		if (!resource || !arn.includes(':elasticloadbalancing:'))
			return error(
				'WAFNonexistentItemException',
				"AWS WAF couldn't perform the operation because your resource doesn't exist.",
			);
		this.operations.push('GetWebACLForResource');
		if (resource.webAcl !== true) return ok({});
		const region = arn.split(':')[3];
		const id = '5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b';
		return ok({
			WebACL: {
				Name: 'shield-l7',
				Id: id,
				ARN: `arn:aws:wafv2:${region}:${ACCOUNT}:regional/webacl/shield-l7/${id}`,
				DefaultAction: { Allow: {} },
				Rules: [],
				VisibilityConfig: {
					SampledRequestsEnabled: true,
					CloudWatchMetricsEnabled: true,
					MetricName: 'shield-l7',
				},
				Capacity: 0,
				ManagedByFirewallManager: false,
				LabelNamespace: `awswaf:${ACCOUNT}:webacl:shield-l7:`,
			},
		});
	}

	/** Operations that change something (all but Get/Describe/List). */
	writeOperations(): string[] {
		return this.operations.filter((op) => !/^(Get|Describe|List)/.test(op));
	}

	addKey(accessKeyId: string, key: Partial<SimKey> & { secretAccessKey: string }): void {
		this.keys.set(accessKeyId, { allow: ['shield:*', 'wafv2:*', 'cloudfront:*'], ...key });
	}

	addResource(arn: string, resource: Partial<SimResource> = {}): void {
		this.resources.set(arn, { webAcl: true, ...resource });
	}

	protectionOf(arn: string): SimProtection | undefined {
		return [...this.protections.values()].find((p) => p.ResourceArn === arn);
	}

	/** A protection created outside the package (by hand in the console). */
	protect(arn: string, automaticResponse?: 'BLOCK' | 'COUNT'): SimProtection {
		const id = `f0e0d0c0-0000-4000-8000-${String(this.nextId++).padStart(12, '0')}`;
		const protection: SimProtection = {
			Id: id,
			Name: 'by hand',
			ResourceArn: arn,
			ProtectionArn: `arn:aws:shield::${ACCOUNT}:protection/${id}`,
			HealthCheckIds: [],
			tags: [{ Key: 'team', Value: 'edge' }],
			...(automaticResponse
				? {
						ApplicationLayerAutomaticResponseConfiguration: {
							Status: 'ENABLED' as const,
							Action: automaticResponse === 'BLOCK' ? { Block: {} } : { Count: {} },
						},
					}
				: {}),
		};
		this.protections.set(id, protection);
		return protection;
	}

	protected authenticate(req: SimRequest): SimResponse | undefined {
		const denied = this.verifySignature(req);
		if (!denied || !isCloudFront(req)) return denied;
		const { __type, message } = denied.body as { __type: string; message: string };
		return xmlError(__type.split('#').pop()!, message, 403);
	}

	private verifySignature(req: SimRequest): SimResponse | undefined {
		const authorization = req.headers.authorization ?? '';
		const match =
			/^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8}\/[^/]+\/[^/]+\/aws4_request), SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$/.exec(
				authorization,
			);
		if (!match)
			return error(
				'IncompleteSignatureException',
				'Authorization header requires Credential, SignedHeaders and Signature.',
			);
		const [, accessKeyId, scope, signedHeaderList, signature] = match;
		const key = this.keys.get(accessKeyId);
		if (!key)
			return error(
				'UnrecognizedClientException',
				'The security token included in the request is invalid.',
			);
		const signedHeaders = signedHeaderList.split(';');
		if (!signedHeaders.includes('host') || !signedHeaders.includes('x-amz-date'))
			return error('IncompleteSignatureException', 'Host and X-Amz-Date must be signed.');
		const amzDate = req.headers['x-amz-date'] ?? '';
		const [date, region, service] = scope.split('/');
		const [expectedService, expectedRegion] = scopeOf(req);
		if (region !== expectedRegion)
			return error(
				'InvalidSignatureException',
				`Credential should be scoped to a valid region, not '${region}'.`,
			);
		if (service !== expectedService)
			return error(
				'InvalidSignatureException',
				`Credential should be scoped to correct service: '${expectedService}'.`,
			);
		const signedAt = Date.parse(
			amzDate.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, '$1-$2-$3T$4:$5:$6Z'),
		);
		if (Number.isNaN(signedAt) || !amzDate.startsWith(date))
			return error(
				'IncompleteSignatureException',
				'X-Amz-Date does not match the credential scope date.',
			);
		if (Math.abs(Date.now() - signedAt) > 5 * 60 * 1000) {
			return error(
				'InvalidSignatureException',
				`Signature expired: ${amzDate} is now earlier or later than 5 minutes from the current time.`,
			);
		}
		if (key.sessionToken !== undefined) {
			if (
				req.headers['x-amz-security-token'] !== key.sessionToken ||
				!signedHeaders.includes('x-amz-security-token')
			) {
				return error(
					'UnrecognizedClientException',
					'The security token included in the request is invalid.',
				);
			}
		}
		const [path, query = ''] = req.rawPath.split('?');
		const expected = sigV4Signature({
			secretAccessKey: key.secretAccessKey,
			method: req.method,
			path,
			query,
			headers: req.headers,
			signedHeaders,
			body: req.rawBody,
			amzDate,
			scope,
		});
		if (expected !== signature) {
			return error(
				'InvalidSignatureException',
				// Like AWS, the message quotes the canonical request, signed headers (a session token) included.
				'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.\n\nThe Canonical String for this request should have been\n' +
					`'${req.method}\n${path}\n${query}\n${signedHeaders.map((h) => `${h}:${req.headers[h]}`).join('\n')}\n\n${signedHeaderList}'`,
			);
		}
		this.verifiedSignatures++;
		this.caller = key;
		return undefined;
	}

	protected notFound(req: SimRequest): SimResponse {
		return error('UnknownOperationException', `No route for ${req.method} ${req.path}`, 404);
	}

	private find(input: Record<string, unknown>): SimProtection | undefined {
		if (input.ProtectionId) return this.protections.get(String(input.ProtectionId));
		return this.protectionOf(String(input.ResourceArn ?? ''));
	}

	private withL7(
		input: Record<string, unknown>,
		handler: (p: SimProtection) => SimResponse,
	): SimResponse {
		const protection = this.protectionOf(String(input.ResourceArn ?? ''));
		if (!protection)
			return error('ResourceNotFoundException', 'The referenced protection does not exist.');
		if (this.resources.get(protection.ResourceArn)?.webAcl !== true) {
			return error(
				'InvalidOperationException',
				'The resource must be associated with an AWS WAF web ACL to use application layer automatic response.',
			);
		}
		return handler(protection);
	}

	/** Enable needs an automatic response that is off; Update and Disable one that is on. */
	private setAutomaticResponse(
		input: Record<string, unknown>,
		whenEnabled: boolean,
		configuration: NonNullable<SimProtection['ApplicationLayerAutomaticResponseConfiguration']>,
	): SimResponse {
		return this.withL7(input, (protection) => {
			const enabled =
				protection.ApplicationLayerAutomaticResponseConfiguration?.Status === 'ENABLED';
			if (enabled && !whenEnabled)
				return error(
					'InvalidOperationException',
					'Automatic response is already enabled; use Update.',
				);
			if (!enabled && whenEnabled)
				return error('InvalidOperationException', 'Automatic response is not enabled.');
			protection.ApplicationLayerAutomaticResponseConfiguration = configuration;
			return ok();
		});
	}

	private withProtectionArn(
		input: Record<string, unknown>,
		handler: (p: SimProtection) => SimResponse,
	): SimResponse {
		const protection = [...this.protections.values()].find(
			(p) => p.ProtectionArn === input.ResourceARN,
		);
		return protection
			? handler(protection)
			: error('ResourceNotFoundException', 'The referenced resource does not exist.');
	}
}

function action(input: Record<string, unknown>) {
	const requested = input.Action as { Block?: object; Count?: object } | undefined;
	return requested?.Count ? { Count: {} } : { Block: {} };
}

function view(protection: SimProtection) {
	const { tags: _tags, ...rest } = protection;
	return structuredClone(rest);
}
