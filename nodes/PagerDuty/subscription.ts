import type { IDataObject } from 'n8n-workflow';

import { ProviderError } from '../shared/errors';
import type { ProviderClient } from '../shared/http';
import { processMemory } from '../shared/processMemory';
import { type SealedSecret, openSecret, sealSecret } from './secretBox';
import {
	type SubscriptionFilter,
	type WebhookSubscription,
	createSubscription,
	deleteSubscription,
	enableSubscription,
	getSubscription,
	subscriptionsTo,
	updateSubscription,
} from './transport';

/**
 * The PagerDuty subscription behind one PagerDuty Incident Trigger, and how it is kept working:
 * created without leaving orphans, checked and repaired (re-enabled, switched back on, updated,
 * re-created when deleted or when its secret is lost) by the trigger's activation and by the
 * PagerDuty Subscription Check node.
 *
 * The record lives in the workflow's global static data, under the trigger's node id, so that the
 * check node of the same workflow (run by a Schedule Trigger, e.g. the gate's Tick) can repair it
 * without a restart: n8n does not run a trigger's checkExists when it starts with the workflow
 * already published.
 */

export interface WantedSubscription {
	url: string;
	events: string[];
	filter: SubscriptionFilter;
	description: string;
}

export interface SubscriptionRecord extends IDataObject {
	subscriptionId: string;
	/** The trigger node's name when the record was written, to name it in the check's output. */
	triggerName: string;
	/** The credential the secret is sealed with; the check node must use the same one. */
	credentialId: string;
	wanted: WantedSubscription & IDataObject;
	secret: SealedSecret & IDataObject;
	/** Milliseconds since the epoch; the newer of the stored and the in-process copy wins. */
	updatedAt: number;
}

type Records = Record<string, SubscriptionRecord>;

/**
 * What both node contexts (IHookFunctions, IWebhookFunctions, IExecuteFunctions) offer for static
 * data.
 */
interface StaticDataContext {
	getWorkflowStaticData(type: string): IDataObject;
	getWorkflow(): { id?: string };
}

const RECORDS_KEY = 'pagerDutySubscriptions';

/** Marks the record of a trigger's test URL, which the check node leaves alone. */
export const TEST_RECORD_SUFFIX = '#test';

const recordsInProcess = processMemory.pagerDutySubscriptions;

const processKey = (ctx: StaticDataContext, triggerId: string) =>
	`${ctx.getWorkflow().id}/${triggerId}`;

function storedRecords(ctx: StaticDataContext): Records {
	const global = ctx.getWorkflowStaticData('global');
	if (typeof global[RECORDS_KEY] !== 'object' || global[RECORDS_KEY] === null)
		global[RECORDS_KEY] = {};
	return global[RECORDS_KEY] as Records;
}

const foreignSignatures = processMemory.pagerDutyForeignSignatures;

export function noteForeignSignature(ctx: StaticDataContext, triggerId: string): void {
	const key = processKey(ctx, triggerId);
	foreignSignatures.set(key, (foreignSignatures.get(key) ?? 0) + 1);
}

/** How many were noted since the last call, which starts a new count. */
export function takeForeignSignatures(ctx: StaticDataContext, triggerId: string): number {
	const key = processKey(ctx, triggerId);
	const count = foreignSignatures.get(key) ?? 0;
	foreignSignatures.delete(key);
	return count;
}

const deactivations = processMemory.pagerDutyDeactivations;

/**
 * Called before deactivation deletes the subscription: from then on the record reads as absent in
 * this process, so that a check already running does not re-create what is being deleted. Returns
 * the undo for a deletion that failed (the record stays for the next deactivation).
 */
export function beginDeactivation(ctx: StaticDataContext, triggerId: string): () => void {
	const key = processKey(ctx, triggerId);
	deactivations.set(key, Date.now());
	return () => deactivations.delete(key);
}

export function readRecord(
	ctx: StaticDataContext,
	triggerId: string,
): SubscriptionRecord | undefined {
	const key = processKey(ctx, triggerId);
	const stored = storedRecords(ctx)[triggerId];
	const kept = recordsInProcess.get(key);
	const deactivatedAt = deactivations.get(key);
	if (
		deactivatedAt !== undefined &&
		Math.max(stored?.updatedAt ?? 0, kept?.updatedAt ?? 0) <= deactivatedAt
	) {
		// A copy loaded before the deactivation: saved back, it would bring the record back.
		delete storedRecords(ctx)[triggerId];
		return undefined;
	}
	if (kept && (!stored || kept.updatedAt > stored.updatedAt)) {
		storedRecords(ctx)[triggerId] = kept;
		return kept;
	}
	return stored;
}

/** Ids of every trigger of this workflow with a record, stored or in this process. */
export function recordedTriggers(ctx: StaticDataContext): string[] {
	const prefix = `${ctx.getWorkflow().id}/`;
	const inProcess = [...recordsInProcess.keys()]
		.filter((key) => key.startsWith(prefix))
		.map((key) => key.slice(prefix.length));
	return [...new Set([...Object.keys(storedRecords(ctx)), ...inProcess])].filter(
		(triggerId) => !triggerId.endsWith(TEST_RECORD_SUFFIX),
	);
}

export function writeRecord(
	ctx: StaticDataContext,
	triggerId: string,
	record: SubscriptionRecord | undefined,
): void {
	const records = storedRecords(ctx);
	const key = processKey(ctx, triggerId);
	if (record) {
		records[triggerId] = record;
		recordsInProcess.set(key, record);
		if (record.updatedAt > (deactivations.get(key) ?? Infinity)) deactivations.delete(key);
	} else {
		delete records[triggerId];
		recordsInProcess.delete(key);
	}
}

/**
 * The key is bound to the workflow and the trigger, so a record copied elsewhere opens nowhere
 * else.
 */
const secretOwner = (workflowId: string | undefined, triggerId: string) =>
	`${workflowId ?? ''}/${triggerId}`;

export function sealFor(
	ctx: StaticDataContext,
	triggerId: string,
	secret: string,
	apiToken: string,
): SealedSecret & IDataObject {
	return { ...sealSecret(secret, apiToken, secretOwner(ctx.getWorkflow().id, triggerId)) };
}

export function signingSecretOf(
	ctx: StaticDataContext,
	triggerId: string,
	record: SubscriptionRecord,
	apiToken: string,
): string | undefined {
	const opened = openSecret(record.secret, apiToken, secretOwner(ctx.getWorkflow().id, triggerId));
	return opened === 'other-key' ? undefined : opened;
}

function retryable(error: unknown): boolean {
	if (!(error instanceof ProviderError)) return false;
	const status = error.details.httpCode;
	return status === undefined || status === 429 || status >= 500;
}

/**
 * Creates the subscription so that no orphan is left behind: subscriptions to the same URL whose
 * secret is not held (an earlier create whose reply was lost, a crash between create and save) are
 * deleted first, and a create that fails in a way that may have succeeded at PagerDuty (timeout,
 * 5xx) is retried only after that clean-up. `createOnce` must not retry on its own.
 */
export async function createWithoutOrphans(
	client: ProviderClient,
	createOnce: ProviderClient,
	wanted: WantedSubscription,
): Promise<{ subscription: WebhookSubscription; secret: string }> {
	for (let attempt = 1; ; attempt++) {
		for (const leftover of await subscriptionsTo(client, wanted.url))
			await deleteSubscription(client, leftover.id);
		let subscription: WebhookSubscription;
		try {
			subscription = await createSubscription(createOnce, wanted);
		} catch (error) {
			if (attempt < 3 && retryable(error)) continue;
			throw error;
		}
		const secret = subscription.delivery_method.secret;
		if (!secret) {
			// Deliveries could never be verified; do not leave a subscription that only produces 401s.
			await deleteSubscription(client, subscription.id);
			throw new ProviderError(
				'PagerDuty created the webhook subscription without a signing secret',
				{
					provider: 'PagerDuty',
					hint:
						'The subscription was deleted again. Check that the Base URL points at the ' +
						'PagerDuty REST API.',
				},
			);
		}
		return { subscription, secret };
	}
}

function sameFilter(actual: WebhookSubscription['filter'], wanted: SubscriptionFilter): boolean {
	return (
		actual.type === wanted.type &&
		(actual.id ?? undefined) === ('id' in wanted ? wanted.id : undefined)
	);
}

function sameEvents(actual: string[], wanted: string[]): boolean {
	return actual.length === wanted.length && wanted.every((event) => actual.includes(event));
}

export interface Repair {
	/** The subscription in place afterwards. */
	subscriptionId: string;
	/** Its new secret when it was (re-)created. */
	newSecret?: string;
	/** What was wrong and what was done, in the user's words; empty when it was healthy. */
	repairs: string[];
}

/** The trigger was deactivated while a check was repairing its subscription. */
export class TriggerDeactivated extends Error {
	constructor() {
		super('The trigger was deactivated while its subscription was checked');
	}
}

/**
 * Makes PagerDuty's side match `wanted`, given the subscription on record and whether its secret
 * can still be read. Never leaves a subscription whose deliveries could not be verified.
 */
export async function repairSubscription(
	client: ProviderClient,
	createOnce: ProviderClient,
	current:
		| {
				subscriptionId: string;
				secretReadable: boolean;
				/**
				 * Deliveries were refused for a foreign signature: a suspension then means a rotated
				 * secret.
				 */
				foreignSignatures?: boolean;
		  }
		| undefined,
	wanted: WantedSubscription,
	/** Whether the trigger is still active: a check must not re-create what deactivation deletes. */
	stillWanted: () => boolean = () => true,
): Promise<Repair> {
	const recreate = async (reason: string): Promise<Repair> => {
		if (!stillWanted()) throw new TriggerDeactivated();
		if (current) await deleteSubscription(client, current.subscriptionId);
		const { subscription, secret } = await createWithoutOrphans(client, createOnce, wanted);
		return { subscriptionId: subscription.id, newSecret: secret, repairs: [reason] };
	};
	if (!current) return await recreate('created');
	if (!current.secretReadable)
		return await recreate('re-created: its signing secret was lost or unreadable');
	const subscription = await getSubscription(client, current.subscriptionId);
	if (!subscription) return await recreate('re-created: it had been deleted in PagerDuty');
	// The delivery URL cannot be updated in place; a new subscription also brings a new secret.
	if (subscription.delivery_method.url !== wanted.url)
		return await recreate('re-created: the webhook URL changed');
	const repairs: string[] = [];
	if (!subscription.active) repairs.push('switched back on (it had been turned off)');
	if (
		!sameEvents(subscription.events, wanted.events) ||
		!sameFilter(subscription.filter, wanted.filter)
	)
		repairs.push("updated to the trigger's events and filter");
	if (repairs.length > 0) {
		await updateSubscription(client, subscription.id, {
			events: wanted.events,
			filter: wanted.filter,
			active: true,
		});
	}
	if (subscription.delivery_method.temporarily_disabled && current.foreignSignatures) {
		return await recreate(
			're-created: PagerDuty suspended it after refusing deliveries signed with a secret this ' +
				"trigger does not have (rotated on PagerDuty's side)",
		);
	}
	if (subscription.delivery_method.temporarily_disabled) {
		await enableSubscription(client, subscription.id);
		repairs.push('re-enabled: PagerDuty had suspended it after refused deliveries');
	}
	return { subscriptionId: subscription.id, repairs };
}
