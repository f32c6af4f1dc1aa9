import type { IExecuteFunctions } from 'n8n-workflow';
import { z } from 'zod';

import type { ActivationRecord } from '../../shared/activationRecords';
import { InputError } from '../../shared/errors';
import type { MitigationProvider, MitigationResult, OperationContext } from '../../shared/provider';
import { readLocator } from '../../shared/provider';
import { cloudflareId, validate } from '../../shared/validation';
import { cloudflareApi, cloudflareListAll, cloudflareRequest } from '../transport';

export interface PrefixTarget {
	accountId: string;
	prefixId: string;
}

export interface Prefix {
	id: string;
	cidr: string;
	asn?: number | null;
	description?: string;
	advertised?: boolean | null;
	on_demand_enabled?: boolean;
	on_demand_locked?: boolean;
}

interface AdvertisementStatus {
	advertised: boolean;
	advertised_modified_at: string | null;
}

/** Remembers whether the prefix was already advertised before our activation (then withdraw leaves it on). */
interface AdvertiseRecord extends ActivationRecord {
	advertisedBefore: boolean;
}

export const magicTransitApi = cloudflareApi({
	permissions: 'Account: IP Prefixes: Edit and Account: Magic Transit: Edit (Read is enough for Get Status)',
	notFound:
		'the account or prefix: check the Account ID (the account id in the dashboard sidebar, not a Zone ID) and pick the prefix from the list, or copy its id from GET /accounts/{account_id}/addressing/prefixes',
});

const CONVERGENCE = {
	advertise: 'Cloudflare registered the advertisement; BGP propagation takes about 2-7 minutes.',
	withdraw: 'Cloudflare registered the withdrawal; BGP propagation takes about 15 minutes.',
};

const targetSchema = z.object({
	accountId: cloudflareId('Account ID'),
	prefixId: cloudflareId('Prefix ID'),
});

const basePath = (t: PrefixTarget) => `/accounts/${t.accountId}/addressing/prefixes`;
const recordKey = (t: PrefixTarget) => `cloudflareMagicTransit:${t.accountId}:${t.prefixId}`;

async function readPrefix(api: OperationContext['api'], target: PrefixTarget) {
	const { result } = await cloudflareRequest<Prefix>(api, 'GET', `${basePath(target)}/${target.prefixId}`);
	return result;
}

async function readAdvertisement(api: OperationContext['api'], target: PrefixTarget) {
	const { result } = await cloudflareRequest<AdvertisementStatus>(
		api,
		'GET',
		`${basePath(target)}/${target.prefixId}/bgp/status`,
	);
	return result;
}

async function setAdvertisement(api: OperationContext['api'], target: PrefixTarget, advertised: boolean) {
	await cloudflareRequest<AdvertisementStatus>(api, 'PATCH', `${basePath(target)}/${target.prefixId}/bgp/status`, {
		advertised,
	});
	// A 200 only means "registered": read the state back rather than trusting the PATCH answer.
	return await readAdvertisement(api, target);
}

function describe(prefix: Prefix, status: AdvertisementStatus) {
	return {
		cidr: prefix.cidr,
		asn: prefix.asn ?? null,
		onDemandEnabled: prefix.on_demand_enabled ?? false,
		onDemandLocked: prefix.on_demand_locked ?? false,
		advertised: status.advertised,
		advertisedModifiedAt: status.advertised_modified_at,
	};
}

function requireOnDemand(prefix: Prefix): void {
	if (!prefix.on_demand_enabled) {
		throw new InputError(
			`Prefix ${prefix.cidr} is not enabled for on-demand advertisement, so it cannot be advertised or withdrawn through the API`,
			'Ask Cloudflare (or your account team) to enable Magic Transit on-demand for this prefix, or pick another prefix.',
		);
	}
	if (prefix.on_demand_locked) {
		throw new InputError(
			`Prefix ${prefix.cidr} has on-demand advertisement locked, so its advertisement cannot be changed through the API`,
			'Unlock on-demand for this prefix in the Cloudflare dashboard (IP Prefixes) or ask Cloudflare support.',
		);
	}
}

export const magicTransit: MitigationProvider<PrefixTarget> = {
	name: 'cloudflareMagicTransit',
	api: magicTransitApi,

	readTarget(ctx: IExecuteFunctions, itemIndex: number, operation: string) {
		const accountId = readLocator(ctx, 'accountId', itemIndex);
		if (operation === 'listPrefixes') {
			return { ...validate(targetSchema.pick({ accountId: true }), { accountId }, 'Account ID'), prefixId: '' };
		}
		return validate(targetSchema, { accountId, prefixId: readLocator(ctx, 'prefixId', itemIndex) }, 'target');
	},

	describeTarget: (target) => target.prefixId || target.accountId,

	operations: {
		async getStatus(target, { api, records }): Promise<MitigationResult> {
			const prefix = await readPrefix(api, target);
			const status = await readAdvertisement(api, target);
			const record = records.get<AdvertiseRecord>(recordKey(target));
			return {
				active: status.advertised,
				changed: false,
				...describe(prefix, status),
				activatedByThisPackage: record ? !record.advertisedBefore : null,
			};
		},

		async activate(target, { api, records }): Promise<MitigationResult> {
			const prefix = await readPrefix(api, target);
			requireOnDemand(prefix);
			const before = await readAdvertisement(api, target);
			const key = recordKey(target);
			if (before.advertised) {
				// Already on: no write, and an existing record is kept (a repeat never replaces what was saved).
				if (!records.get(key)) records.set(key, { advertisedBefore: true });
				return { active: true, changed: false, ...describe(prefix, before), note: 'The prefix was already advertised.' };
			}
			records.set(key, { advertisedBefore: false });
			const after = await setAdvertisement(api, target, true);
			return { active: after.advertised, changed: true, ...describe(prefix, after), note: CONVERGENCE.advertise };
		},

		async withdraw(target, { api, records, ctx, itemIndex }): Promise<MitigationResult> {
			const force = ctx.getNodeParameter('forceWithdraw', itemIndex, false) as boolean;
			const prefix = await readPrefix(api, target);
			const before = await readAdvertisement(api, target);
			const key = recordKey(target);
			const record = records.get<AdvertiseRecord>(key);
			if (!before.advertised) {
				records.delete(key);
				return { active: false, changed: false, ...describe(prefix, before), note: 'The prefix was not advertised.' };
			}
			if (record?.advertisedBefore && !force) {
				return {
					active: true,
					changed: false,
					...describe(prefix, before),
					note: 'Left advertised: the prefix was already advertised before activation. Turn on "Force Withdraw" to withdraw it anyway.',
				};
			}
			requireOnDemand(prefix);
			const after = await setAdvertisement(api, target, false);
			records.delete(key);
			return { active: after.advertised, changed: true, ...describe(prefix, after), note: CONVERGENCE.withdraw };
		},

		async listPrefixes(target, { api }) {
			const prefixes = await cloudflareListAll<Prefix>(api, basePath(target));
			return prefixes.map((prefix) => ({
				prefixId: prefix.id,
				cidr: prefix.cidr,
				description: prefix.description ?? '',
				asn: prefix.asn ?? null,
				onDemandEnabled: prefix.on_demand_enabled ?? false,
				onDemandLocked: prefix.on_demand_locked ?? false,
				advertised: prefix.advertised ?? null,
			}));
		},
	},
};
