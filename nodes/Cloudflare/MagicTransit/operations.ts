import type { IDataObject, IExecuteFunctions, INodeParameterResourceLocator } from 'n8n-workflow';
import { z } from 'zod';

import type { ActivationRecord, ActivationRecords } from '../../shared/activationRecords';
import { InputError } from '../../shared/errors';
import type { ProviderClient } from '../../shared/http';
import type { MitigationProvider, MitigationResult } from '../../shared/provider';
import { readLocator } from '../../shared/provider';
import { sideBySide } from '../../shared/sideBySide';
import { cidr, cloudflareId, parseCidr, validate } from '../../shared/validation';
import { cloudflareApi, cloudflareListAll, cloudflareRequest } from '../transport';

/** One BGP prefix of the IP prefix, as the user named it. */
export type BgpPrefixRef = { id: string } | { cidr: string };

export interface PrefixTarget {
	accountId: string;
	prefixId: string;
	/** Set when only this BGP prefix (subnet) is advertised, instead of the whole IP prefix. */
	bgpPrefix?: BgpPrefixRef;
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

/**
 * A BGP prefix: a subnet of an IP prefix (or the prefix itself) onboarded so that Cloudflare can
 * announce it alone.
 */
export interface BgpPrefix {
	id: string;
	cidr: string;
	asn?: number | null;
	on_demand?: {
		advertised?: boolean | null;
		advertised_modified_at?: string | null;
		on_demand_enabled?: boolean;
		on_demand_locked?: boolean;
	} | null;
}

interface AdvertisementStatus {
	advertised: boolean;
	advertised_modified_at: string | null;
}

/**
 * Remembers whether the prefix was already advertised before our activation (then withdraw leaves
 * it on).
 */
interface AdvertiseRecord extends ActivationRecord {
	advertisedBefore: boolean;
}

/** The advertisement as read from Cloudflare; these are also the output's fields. */
interface Advertisement extends IDataObject {
	cidr: string;
	onDemandEnabled: boolean;
	onDemandLocked: boolean;
	advertised: boolean;
	advertisedModifiedAt: string | null;
}

/**
 * What Get Status, Activate and Withdraw act on: the whole IP prefix (bgp/status) or one of its BGP
 * prefixes (bgp/prefixes). The operations are written once against this.
 */
interface AdvertisementTarget {
	/** "prefix" or "BGP prefix", for messages. */
	noun: string;
	/**
	 * Where the activation record lives; a BGP prefix's key has its id, so whole-prefix and subnet
	 * records never mix.
	 */
	recordKey: string;
	read(): Promise<Advertisement>;
	/** Only registers the change: use change(), which reads the state back. */
	write(advertised: boolean): Promise<void>;
}

export const magicTransitApi = cloudflareApi({
	permissions:
		'Account: IP Prefixes: Edit and Account: Magic Transit: Edit (Read is enough for Get Status)',
	notFound:
		'the account or prefix: check the Account ID (the account id in the dashboard sidebar, ' +
		'not a Zone ID) and pick the prefix (and BGP prefix) from the lists, or copy the ids ' +
		'from GET /accounts/{account_id}/addressing/prefixes and ' +
		'.../prefixes/{prefix_id}/bgp/prefixes',
});

const CONVERGENCE = {
	advertise: 'Cloudflare registered the advertisement; BGP propagation takes about 2-7 minutes.',
	withdraw: 'Cloudflare registered the withdrawal; BGP propagation takes about 15 minutes.',
};

const targetSchema = z.object({
	accountId: cloudflareId('Account ID'),
	prefixId: cloudflareId('Prefix ID'),
});

/**
 * One spelling per CIDR, so that 2001:DB8:0::/48 finds the BGP prefix Cloudflare lists as
 * 2001:db8::/48.
 */
function canonicalCidr(value: string): string {
	const parsed = parseCidr(value);
	if (!parsed) return value.trim();
	const ipv6Url = `http://[${parsed.address}]`;
	// URL writes IPv6 hosts in their canonical form; an address it refuses (a zone id) matches no BGP
	// prefix anyway.
	const address =
		parsed.version === 6 && URL.canParse(ipv6Url)
			? new URL(ipv6Url).hostname.slice(1, -1)
			: parsed.address;
	return `${address}/${parsed.prefixLength}`;
}

const bgpPrefixCidr = cidr.transform(canonicalCidr);

const basePath = (t: PrefixTarget) => `/accounts/${t.accountId}/addressing/prefixes`;
const prefixPath = (t: PrefixTarget) => `${basePath(t)}/${t.prefixId}`;
const recordKey = (t: PrefixTarget) => `cloudflareMagicTransit:${t.accountId}:${t.prefixId}`;

async function readPrefix(api: ProviderClient, target: PrefixTarget) {
	const { result } = await cloudflareRequest<Prefix>(api, 'GET', prefixPath(target));
	return result;
}

/**
 * The IP prefix, read once per operation: an advertisement change does not touch its cidr, asn or
 * on-demand flags.
 */
function prefixOnce(api: ProviderClient, target: PrefixTarget): () => Promise<Prefix> {
	let prefix: Promise<Prefix> | undefined;
	return async () => await (prefix ??= readPrefix(api, target));
}

function wholePrefix(api: ProviderClient, target: PrefixTarget): AdvertisementTarget {
	const statusPath = `${prefixPath(target)}/bgp/status`;
	const prefixOf = prefixOnce(api, target);
	return {
		noun: 'prefix',
		recordKey: recordKey(target),
		async read() {
			// Side by side: every sequential read before the protective write adds to time to mitigate.
			const [prefix, { result: status }] = await Promise.all([
				prefixOf(),
				cloudflareRequest<AdvertisementStatus>(api, 'GET', statusPath),
			]);
			return {
				cidr: prefix.cidr,
				asn: prefix.asn ?? null,
				onDemandEnabled: prefix.on_demand_enabled ?? false,
				onDemandLocked: prefix.on_demand_locked ?? false,
				advertised: status.advertised,
				advertisedModifiedAt: status.advertised_modified_at,
			};
		},
		async write(advertised) {
			await cloudflareRequest(api, 'PATCH', statusPath, { advertised });
		},
	};
}

async function oneBgpPrefix(
	api: ProviderClient,
	target: PrefixTarget,
	ref: BgpPrefixRef,
): Promise<AdvertisementTarget> {
	const prefixOf = prefixOnce(api, target);
	// A CIDR is looked up in the list, with the IP prefix read alongside; the listed BGP prefix is
	// its first read, so that the first write waits one round trip, not two.
	let listed: BgpPrefix | undefined;
	let id: string;
	if ('id' in ref) id = ref.id;
	else {
		[listed] = await sideBySide([findBgpPrefix(api, target, ref.cidr, prefixOf), prefixOf()]);
		id = listed.id;
	}
	const path = `${prefixPath(target)}/bgp/prefixes/${id}`;
	return {
		noun: 'BGP prefix',
		recordKey: `${recordKey(target)}:bgp:${id}`,
		async read() {
			// Only the first read may use the list: the read after a write must be fresh.
			const fromList = listed;
			listed = undefined;
			const [prefix, bgpPrefix] = await sideBySide([
				prefixOf(),
				fromList ??
					cloudflareRequest<BgpPrefix>(api, 'GET', path).then((response) => response.result),
			]);
			const onDemand = bgpPrefix.on_demand ?? {};
			return {
				bgpPrefixId: bgpPrefix.id,
				cidr: bgpPrefix.cidr,
				ipPrefixCidr: prefix.cidr,
				asn: bgpPrefix.asn ?? null,
				onDemandEnabled: onDemand.on_demand_enabled ?? false,
				onDemandLocked: onDemand.on_demand_locked ?? false,
				advertised: onDemand.advertised ?? false,
				advertisedModifiedAt: onDemand.advertised_modified_at ?? null,
			};
		},
		async write(advertised) {
			await cloudflareRequest(api, 'PATCH', path, { on_demand: { advertised } });
		},
	};
}

/** The BGP prefixes onboarded under an IP prefix (one unpaged list; `null` when there are none). */
export async function listBgpPrefixes(
	api: ProviderClient,
	target: PrefixTarget,
): Promise<BgpPrefix[]> {
	const { result } = await cloudflareRequest<BgpPrefix[] | null>(
		api,
		'GET',
		`${prefixPath(target)}/bgp/prefixes`,
	);
	return result ?? [];
}

/**
 * Only onboarded BGP prefixes can be announced: any other CIDR is refused here, before any write.
 */
async function findBgpPrefix(
	api: ProviderClient,
	target: PrefixTarget,
	wanted: string,
	prefixOf: () => Promise<Prefix>,
): Promise<BgpPrefix> {
	const bgpPrefixes = await listBgpPrefixes(api, target);
	const match = bgpPrefixes.find((bgpPrefix) => canonicalCidr(bgpPrefix.cidr) === wanted);
	if (match) return match;
	const prefix = await prefixOf();
	const listed = bgpPrefixes.map((b) => b.cidr).join(', ') || 'none';
	throw new InputError(
		`${wanted} is not a BGP prefix of IP prefix ${prefix.cidr}, so Cloudflare cannot ` +
			`announce it on its own. BGP prefixes there: ${listed}`,
		'Pick one of those BGP prefixes, advertise the whole IP prefix instead, or ask ' +
			'Cloudflare to onboard this subnet as a BGP prefix.',
	);
}

async function advertisementTarget(
	api: ProviderClient,
	target: PrefixTarget,
): Promise<AdvertisementTarget> {
	return target.bgpPrefix
		? await oneBgpPrefix(api, target, target.bgpPrefix)
		: wholePrefix(api, target);
}

/**
 * Sends the change and reads the state back: Cloudflare's 200 only means "registered", not "done".
 */
async function change(target: AdvertisementTarget, advertised: boolean): Promise<Advertisement> {
	await target.write(advertised);
	return await target.read();
}

function requireOnDemand(target: AdvertisementTarget, state: Advertisement): void {
	const subject = `${target.noun.charAt(0).toUpperCase()}${target.noun.slice(1)} ${state.cidr}`;
	if (!state.onDemandEnabled) {
		throw new InputError(
			`${subject} is not enabled for on-demand advertisement, so it cannot be advertised ` +
				'or withdrawn through the API',
			'Ask Cloudflare (or your account team) to enable Magic Transit on-demand for this ' +
				`${target.noun}, or pick another ${target.noun}.`,
		);
	}
	if (state.onDemandLocked) {
		throw new InputError(
			`${subject} has on-demand advertisement locked, so its advertisement cannot be ` +
				'changed through the API',
			`Unlock on-demand for this ${target.noun} in the Cloudflare dashboard (IP Prefixes) ` +
				'or ask Cloudflare support.',
		);
	}
}

async function getStatus(
	target: AdvertisementTarget,
	records: ActivationRecords,
): Promise<MitigationResult> {
	const status = await target.read();
	const record = records.get<AdvertiseRecord>(target.recordKey);
	return {
		active: status.advertised,
		changed: false,
		...status,
		activatedByThisPackage: record ? !record.advertisedBefore : null,
	};
}

async function advertise(
	target: AdvertisementTarget,
	records: ActivationRecords,
): Promise<MitigationResult> {
	const before = await target.read();
	requireOnDemand(target, before);
	if (before.advertised) {
		// Already on: no write, and an existing record is kept (a repeat never replaces what was
		// saved).
		if (!records.get(target.recordKey)) records.set(target.recordKey, { advertisedBefore: true });
		return {
			active: true,
			changed: false,
			...before,
			note: `The ${target.noun} was already advertised.`,
		};
	}
	records.set(target.recordKey, { advertisedBefore: false });
	const after = await change(target, true);
	return { active: after.advertised, changed: true, ...after, note: CONVERGENCE.advertise };
}

async function withdraw(
	target: AdvertisementTarget,
	records: ActivationRecords,
	force: boolean,
): Promise<MitigationResult> {
	const before = await target.read();
	const record = records.get<AdvertiseRecord>(target.recordKey);
	if (!before.advertised) {
		records.delete(target.recordKey);
		return {
			active: false,
			changed: false,
			...before,
			note: `The ${target.noun} was not advertised.`,
		};
	}
	if (record?.advertisedBefore && !force) {
		return {
			active: true,
			changed: false,
			...before,
			note:
				`Left advertised: the ${target.noun} was already advertised before activation. Turn ` +
				'on "Force Withdraw" to withdraw it anyway.',
		};
	}
	requireOnDemand(target, before);
	const after = await change(target, false);
	records.delete(target.recordKey);
	return { active: after.advertised, changed: true, ...after, note: CONVERGENCE.withdraw };
}

/** The BGP Prefix locator: an id (From List, By ID) or a CIDR, validated before any call. */
function readBgpPrefixRef(ctx: IExecuteFunctions, itemIndex: number): BgpPrefixRef {
	const locator = ctx.getNodeParameter('bgpPrefixId', itemIndex) as
		INodeParameterResourceLocator | string;
	const value = readLocator(ctx, 'bgpPrefixId', itemIndex);
	if (typeof locator === 'object' && locator.mode === 'cidr') {
		return { cidr: validate(bgpPrefixCidr, value, 'BGP prefix CIDR') };
	}
	return { id: validate(cloudflareId('BGP Prefix ID'), value, 'BGP prefix') };
}

export const magicTransit: MitigationProvider<PrefixTarget> = {
	name: 'cloudflareMagicTransit',
	api: magicTransitApi,

	readTarget(ctx: IExecuteFunctions, itemIndex: number, operation: string) {
		const accountId = readLocator(ctx, 'accountId', itemIndex);
		if (operation === 'listPrefixes') {
			return {
				...validate(targetSchema.pick({ accountId: true }), { accountId }, 'Account ID'),
				prefixId: '',
			};
		}
		const target = validate(
			targetSchema,
			{ accountId, prefixId: readLocator(ctx, 'prefixId', itemIndex) },
			'target',
		);
		if (ctx.getNodeParameter('advertisement', itemIndex, 'prefix') !== 'bgpPrefix') return target;
		return { ...target, bgpPrefix: readBgpPrefixRef(ctx, itemIndex) };
	},

	describeTarget(target) {
		if (!target.bgpPrefix) return target.prefixId || target.accountId;
		return 'id' in target.bgpPrefix ? target.bgpPrefix.id : target.bgpPrefix.cidr;
	},

	operations: {
		async getStatus(target, { api, records }): Promise<MitigationResult> {
			return await getStatus(await advertisementTarget(api, target), records);
		},

		async activate(target, { api, records }): Promise<MitigationResult> {
			return await advertise(await advertisementTarget(api, target), records);
		},

		async withdraw(target, { api, records, ctx, itemIndex }): Promise<MitigationResult> {
			const force = ctx.getNodeParameter('forceWithdraw', itemIndex, false) as boolean;
			return await withdraw(await advertisementTarget(api, target), records, force);
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
