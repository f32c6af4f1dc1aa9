import type { IDataObject, IExecuteFunctions } from 'n8n-workflow';

import type { ActivationRecord } from '../shared/activationRecords';
import { InputError, ProviderError } from '../shared/errors';
import type { ProviderClient } from '../shared/http';
import type { MitigationProvider, MitigationResult } from '../shared/provider';
import { readLocator } from '../shared/provider';
import { sideBySide } from '../shared/sideBySide';
import { shown } from '../shared/validation';
import { shieldApi, shieldCall, shieldFind } from './transport';
import { requireWebAcl, WAF_HINT } from './webAcl';

export interface ShieldTarget {
	resourceArn: string;
	/** Application-layer automatic response wanted by activate; NONE leaves it as it is. */
	automaticResponse: AutomaticResponse | 'NONE';
}

export type AutomaticResponse = 'DISABLED' | 'BLOCK' | 'COUNT';

export interface Protection {
	Id: string;
	Name?: string;
	ResourceArn: string;
	ProtectionArn: string;
	ApplicationLayerAutomaticResponseConfiguration?: {
		Status: 'ENABLED' | 'DISABLED';
		Action: { Block?: object; Count?: object };
	};
}

interface Tag {
	Key: string;
	Value: string;
}

/**
 * What activation created or changed, kept AT AWS as tags on the protection, so a withdraw from any
 * workflow, any time later, undoes exactly that. Removed again by withdraw.
 */
export const TAGS = {
	created: 'n8n-ddos-mitigation:created',
	previousAutomaticResponse: 'n8n-ddos-mitigation:previous-automatic-response',
	enabledProactiveEngagement: 'n8n-ddos-mitigation:enabled-proactive-engagement',
	/** Protection and automatic response were already on at activation: withdraw leaves them on. */
	alreadyActive: 'n8n-ddos-mitigation:already-active',
};

/** Extra copy of the already-active tag, for a protection whose tags cannot be written. */
interface AlreadyActiveRecord extends ActivationRecord {
	alreadyActive: boolean;
}

export type CreatedProtectionChoice = 'keep' | 'delete';

/** The services whose resources Shield Advanced protects, as they appear in an ARN. */
const ARN_SERVICES = 'cloudfront|elasticloadbalancing|ec2|globalaccelerator|route53';
export const ARN = new RegExp(
	`^arn:aws(-[a-z]+)*:(${ARN_SERVICES}):[a-z0-9-]*:(\\d{12})?:[\\w/.:-]+$`,
);
/**
 * Application-layer (L7) automatic response exists for CloudFront distributions and Application
 * Load Balancers.
 */
const L7_ARN = new RegExp(
	'^arn:aws(-[a-z]+)*:(cloudfront::\\d{12}:distribution\\/|' +
		'elasticloadbalancing:[a-z0-9-]+:\\d{12}:loadbalancer\\/app\\/)',
);

export function validateTarget(
	resourceArn: string,
	automaticResponse: ShieldTarget['automaticResponse'],
): ShieldTarget {
	const arn = resourceArn.trim();
	if (!ARN.test(arn)) {
		throw new InputError(
			`Invalid resource ARN: '${shown(resourceArn)}'`,
			'Use the ARN of a CloudFront distribution, Route 53 hosted zone, Global Accelerator ' +
				'accelerator, Application or Classic Load Balancer, or Elastic IP allocation, e.g. ' +
				'arn:aws:cloudfront::123456789012:distribution/E1A2B3C4D5E6F7.',
		);
	}
	if (automaticResponse !== 'NONE' && !L7_ARN.test(arn)) {
		throw new InputError(
			'Application-layer automatic response is only available for CloudFront distributions ' +
				'and Application Load Balancers',
			'Set "Automatic Response" to "Leave Unchanged" to only ensure Shield Advanced ' +
				'protection for this resource.',
		);
	}
	return { resourceArn: arn, automaticResponse };
}

const automaticResponseOf = (protection: Protection | undefined): AutomaticResponse => {
	const config = protection?.ApplicationLayerAutomaticResponseConfiguration;
	if (config?.Status !== 'ENABLED') return 'DISABLED';
	return config.Action.Count ? 'COUNT' : 'BLOCK';
};

const responseAction = (value: 'BLOCK' | 'COUNT') =>
	value === 'BLOCK' ? { Block: {} } : { Count: {} };

async function readProtection(
	api: ProviderClient,
	resourceArn: string,
): Promise<Protection | undefined> {
	return (
		await shieldFind<{ Protection: Protection }>(api, 'DescribeProtection', {
			ResourceArn: resourceArn,
		})
	)?.Protection;
}

async function readTags(
	api: ProviderClient,
	protection: Protection | undefined,
): Promise<Record<string, string>> {
	if (!protection) return {};
	const { Tags } = await shieldCall<{ Tags?: Tag[] }>(api, 'ListTagsForResource', {
		ResourceARN: protection.ProtectionArn,
	});
	return Object.fromEntries(
		(Tags ?? []).filter((t) => Object.values(TAGS).includes(t.Key)).map((t) => [t.Key, t.Value]),
	);
}

async function requireSubscription(api: ProviderClient): Promise<void> {
	const { SubscriptionState } = await shieldCall<{ SubscriptionState: string }>(
		api,
		'GetSubscriptionState',
	);
	if (SubscriptionState !== 'ACTIVE') {
		throw new ProviderError(
			'This AWS account has no active Shield Advanced subscription (GetSubscriptionState: ' +
				'INACTIVE)',
			{
				provider: 'AWS Shield',
				hint:
					'Subscribe to Shield Advanced in the AWS Shield console (it is billed monthly), or ' +
					'use the credential of the account that holds the subscription.',
			},
		);
	}
}

/**
 * Sets the L7 automatic response from `from` to `to` with the matching Enable / Update / Disable
 * call.
 */
async function setAutomaticResponse(
	api: ProviderClient,
	resourceArn: string,
	from: AutomaticResponse,
	to: AutomaticResponse,
): Promise<void> {
	if (from === to) return;
	// Enable and Disable fail when repeated after they took effect: a lost reply is checked by
	// reading the state.
	const reached = async () =>
		automaticResponseOf(await readProtection(api, resourceArn)) === to ? {} : undefined;
	if (to === 'DISABLED') {
		await shieldCall(
			api,
			'DisableApplicationLayerAutomaticResponse',
			{ ResourceArn: resourceArn },
			reached,
		);
	} else {
		await shieldCall(
			api,
			from === 'DISABLED'
				? 'EnableApplicationLayerAutomaticResponse'
				: 'UpdateApplicationLayerAutomaticResponse',
			{
				ResourceArn: resourceArn,
				Action: responseAction(to),
			},
			reached,
		);
	}
}

async function setProactiveEngagement(api: ProviderClient, on: boolean): Promise<void> {
	const wanted = on ? 'ENABLED' : 'DISABLED';
	await shieldCall(
		api,
		on ? 'EnableProactiveEngagement' : 'DisableProactiveEngagement',
		{},
		async () =>
			(
				await shieldCall<{ Subscription?: { ProactiveEngagementStatus?: string } }>(
					api,
					'DescribeSubscription',
				)
			).Subscription?.ProactiveEngagementStatus === wanted
				? {}
				: undefined,
	);
}

async function deleteProtection(
	api: ProviderClient,
	protection: Pick<Protection, 'Id' | 'ResourceArn'>,
): Promise<void> {
	await shieldCall(api, 'DeleteProtection', { ProtectionId: protection.Id }, async () =>
		(await readProtection(api, protection.ResourceArn)) ? undefined : {},
	);
}

const isWafMissing = (error: unknown) =>
	error instanceof ProviderError && error.details.providerCode === 'InvalidOperationException';

const isActive = (protection: Protection | undefined, target: ShieldTarget) =>
	protection !== undefined &&
	(L7_ARN.test(target.resourceArn) ? automaticResponseOf(protection) !== 'DISABLED' : true);

function describe(protection: Protection | undefined, tags: Record<string, string>): IDataObject {
	return {
		protected: protection !== undefined,
		protectionId: protection?.Id ?? null,
		protectionArn: protection?.ProtectionArn ?? null,
		automaticResponse: automaticResponseOf(protection),
		protectionCreatedByThisPackage: tags[TAGS.created] === 'true',
	};
}

function protectionName(resourceArn: string): string {
	const tail = resourceArn.split(/[/:]/).filter(Boolean).pop() ?? 'resource';
	return `n8n-ddos-mitigation-${tail}`.replace(/[^ \w.-]/g, '-').slice(0, 128);
}

export const awsShieldAdvanced: MitigationProvider<ShieldTarget> = {
	name: 'awsShieldAdvanced',
	api: shieldApi,

	readTarget(ctx: IExecuteFunctions, itemIndex: number, operation: string): ShieldTarget {
		const automaticResponse =
			operation === 'activate'
				? (ctx.getNodeParameter(
						'automaticResponse',
						itemIndex,
						'BLOCK',
					) as ShieldTarget['automaticResponse'])
				: 'NONE';
		return validateTarget(readLocator(ctx, 'resourceArn', itemIndex), automaticResponse);
	},

	describeTarget: (target) => target.resourceArn,

	operations: {
		async getStatus(target, { api, records }): Promise<MitigationResult> {
			const { SubscriptionState } = await shieldCall<{ SubscriptionState: string }>(
				api,
				'GetSubscriptionState',
			);
			const protection =
				SubscriptionState === 'ACTIVE' ? await readProtection(api, target.resourceArn) : undefined;
			const tags = await readTags(api, protection);
			const alreadyActive = records.get<AlreadyActiveRecord>(
				`awsShieldAdvanced:${target.resourceArn}`,
			);
			return {
				active: isActive(protection, target),
				changed: false,
				subscriptionState: SubscriptionState,
				...describe(protection, tags),
				activatedByThisPackage: Object.keys(tags).some((k) => k !== TAGS.alreadyActive)
					? true
					: tags[TAGS.alreadyActive] || alreadyActive
						? false
						: null,
			};
		},

		async activate(target, { api, ctx, itemIndex, records }): Promise<MitigationResult> {
			const proactive = ctx.getNodeParameter('proactiveEngagement', itemIndex, false) as boolean;
			// Side by side: each sequential read before the first write adds a round trip to the time
			// to mitigate. The subscription's error comes first: without one, the others fail too.
			const [, before, subscription, webAclProblem] = await sideBySide([
				requireSubscription(api),
				readProtection(api, target.resourceArn),
				proactive
					? shieldCall<{ Subscription?: { ProactiveEngagementStatus?: string } }>(
							api,
							'DescribeSubscription',
						)
					: undefined,
				// Thrown below only if the automatic response is to be switched on: when it is on already,
				// neither a missing web ACL nor a missing WAF permission stops the activation.
				target.automaticResponse === 'NONE'
					? undefined
					: requireWebAcl(ctx, api, target.resourceArn).then(
							() => undefined,
							(error: unknown) => error,
						),
			]);
			// The tags need the protection's ARN: the one read that must wait.
			const tags = await readTags(api, before);
			const current = automaticResponseOf(before);
			const wantsResponse =
				target.automaticResponse !== 'NONE' && current !== target.automaticResponse;
			if (wantsResponse && webAclProblem) throw webAclProblem;
			const proactiveStatus = subscription?.Subscription?.ProactiveEngagementStatus;
			const wantsProactive = proactive && proactiveStatus !== 'ENABLED';
			const key = `awsShieldAdvanced:${target.resourceArn}`;

			if (before && !wantsResponse && !wantsProactive) {
				// Kept at AWS, as a tag on the protection, so that a withdraw anywhere leaves it on.
				if (Object.keys(tags).length === 0) {
					await shieldCall(api, 'TagResource', {
						ResourceARN: before.ProtectionArn,
						Tags: [{ Key: TAGS.alreadyActive, Value: 'true' }] as unknown as IDataObject[],
					});
					tags[TAGS.alreadyActive] = 'true';
					records.set(key, { alreadyActive: true });
				}
				return {
					active: true,
					changed: false,
					...describe(before, tags),
					note: 'Protection and automatic response were already as requested.',
				};
			}

			// Record first, at AWS, what this call is about to change; a second activation never
			// overwrites it.
			const record: Tag[] = [];
			if (wantsResponse && tags[TAGS.previousAutomaticResponse] === undefined)
				record.push({ Key: TAGS.previousAutomaticResponse, Value: current });
			if (wantsProactive && tags[TAGS.enabledProactiveEngagement] === undefined)
				record.push({ Key: TAGS.enabledProactiveEngagement, Value: 'true' });
			let protection: Pick<Protection, 'Id' | 'ResourceArn'>;
			if (!before) {
				// The automatic response goes on right after: the protection is read back at the end.
				const { ProtectionId } = await shieldCall<{ ProtectionId: string }>(
					api,
					'CreateProtection',
					{
						Name: protectionName(target.resourceArn),
						ResourceArn: target.resourceArn,
						Tags: [{ Key: TAGS.created, Value: 'true' }, ...record] as unknown as IDataObject[],
					},
					async () => {
						const created = await readProtection(api, target.resourceArn);
						return created ? { ProtectionId: created.Id } : undefined;
					},
				);
				protection = { Id: ProtectionId, ResourceArn: target.resourceArn };
			} else {
				protection = before;
				if (record.length)
					await shieldCall(api, 'TagResource', {
						ResourceARN: before.ProtectionArn,
						Tags: record as unknown as IDataObject[],
					});
			}
			records.delete(key);
			if (wantsResponse) {
				try {
					await setAutomaticResponse(
						api,
						target.resourceArn,
						current,
						target.automaticResponse as AutomaticResponse,
					);
				} catch (error) {
					if (!isWafMissing(error)) throw error;
					// The web ACL was there when read above, and is gone now: undo this call's writes, so
					// that nothing is left half done.
					if (!before) await deleteProtection(api, protection);
					else if (record.length)
						await shieldCall(api, 'UntagResource', {
							ResourceARN: before.ProtectionArn,
							TagKeys: record.map((t) => t.Key),
						});
					throw new ProviderError(
						`AWS Shield cannot switch on automatic response for ${target.resourceArn}: no ` +
							'AWS WAF web ACL is associated with it. Nothing was changed.',
						{
							provider: 'AWS Shield',
							providerCode: 'InvalidOperationException',
							providerMessage: (error as ProviderError).details.providerMessage,
							hint: WAF_HINT,
						},
					);
				}
			}
			if (wantsProactive) await setProactiveEngagement(api, true);
			const after = await readProtection(api, target.resourceArn);
			if (!before && !after)
				throw new ProviderError(
					`AWS Shield did not show the protection it created for ${target.resourceArn}`,
					{ provider: 'AWS Shield' },
				);
			return {
				active:
					isActive(after, target) || (after !== undefined && target.automaticResponse === 'NONE'),
				changed: true,
				...describe(after, await readTags(api, after)),
				...(proactive ? { proactiveEngagement: 'ENABLED' } : {}),
			};
		},

		async withdraw(target, { api, ctx, itemIndex, records }): Promise<MitigationResult> {
			const force = ctx.getNodeParameter('forceWithdraw', itemIndex, false) as boolean;
			const createdChoice = ctx.getNodeParameter(
				'createdProtection',
				itemIndex,
				'keep',
			) as CreatedProtectionChoice;
			const key = `awsShieldAdvanced:${target.resourceArn}`;
			const before = await readProtection(api, target.resourceArn);
			if (!before) {
				records.delete(key);
				return {
					active: false,
					changed: false,
					...describe(undefined, {}),
					note: 'The resource has no Shield Advanced protection.',
				};
			}
			const tags = await readTags(api, before);
			const current = automaticResponseOf(before);
			const { [TAGS.alreadyActive]: alreadyActiveTag, ...changes } = tags;

			if (Object.keys(changes).length === 0) {
				// No change recorded at AWS: activation found all on (tag), or never ran here.
				const alreadyActive =
					alreadyActiveTag === 'true' || records.get<AlreadyActiveRecord>(key)?.alreadyActive;
				if (alreadyActive && !force) {
					return {
						active: isActive(before, target),
						changed: false,
						...describe(before, tags),
						note:
							'Left as it is: protection and automatic response were already on before ' +
							'activation. Turn on "Force Withdraw" to switch automatic response off anyway.',
					};
				}
				records.delete(key);
				await setAutomaticResponse(api, target.resourceArn, current, 'DISABLED');
				if (alreadyActiveTag !== undefined)
					await shieldCall(api, 'UntagResource', {
						ResourceARN: before.ProtectionArn,
						TagKeys: [TAGS.alreadyActive],
					});
				return {
					active: !L7_ARN.test(target.resourceArn),
					changed: current !== 'DISABLED',
					...describe(await readProtection(api, target.resourceArn), tags),
					note:
						'Automatic response is off. The protection itself was not created by this ' +
						'package, so it is kept; delete it in the Shield console if you no longer want ' +
						'it.',
				};
			}

			// A protection this package created had no automatic response before it.
			const previous =
				(tags[TAGS.previousAutomaticResponse] as AutomaticResponse | undefined) ??
				(tags[TAGS.created] === 'true' ? 'DISABLED' : current);
			await setAutomaticResponse(api, target.resourceArn, current, force ? 'DISABLED' : previous);
			if (tags[TAGS.enabledProactiveEngagement] === 'true')
				await setProactiveEngagement(api, false);
			const deleteIt = tags[TAGS.created] === 'true' && createdChoice === 'delete';
			if (deleteIt) {
				await deleteProtection(api, before);
			} else {
				await shieldCall(api, 'UntagResource', {
					ResourceARN: before.ProtectionArn,
					TagKeys: Object.keys(tags),
				});
			}
			records.delete(key);
			const after = await readProtection(api, target.resourceArn);
			return {
				active: isActive(after, target),
				changed: true,
				...describe(after, after ? await readTags(api, after) : {}),
				restoredAutomaticResponse: force ? 'DISABLED' : previous,
				protectionDeleted: deleteIt,
				...(tags[TAGS.created] === 'true' && !deleteIt
					? {
							note:
								'The protection activation created is kept, so that Shield keeps the traffic ' +
								'baseline it learns over 24 hours to 30 days. Choose "Delete" under ' +
								'"Protection Created by Activate" to remove it.',
						}
					: {}),
			};
		},
	},
};
