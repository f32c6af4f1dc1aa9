import { packAny, unpackAny, type Generation } from './messages';

/** BGP address family: AFI 1/2 (IPv4/IPv6), SAFI 1 (unicast) or 133 (FlowSpec, RFC 8955). */
export interface Family {
	afi: 1 | 2;
	safi: 1 | 133;
}

export const familyOf = (version: 4 | 6, flowspec: boolean): Family => ({
	afi: version === 4 ? 1 : 2,
	safi: flowspec ? 133 : 1,
});

export interface Cidr {
	address: string;
	prefixLength: number;
	version: 4 | 6;
}

export const cidrText = (c: Cidr) => `${c.address}/${c.prefixLength}`;

export interface LargeCommunity {
	globalAdmin: number;
	localData1: number;
	localData2: number;
}

/**
 * A FlowSpec numeric operator and value (RFC 8955 4.2.1.1): only the and/lt/gt/eq bits are kept.
 */
export interface FlowItem {
	op: number;
	value: number;
}

export const FLOW_OP = { AND: 0x40, LT: 0x04, GT: 0x02, EQ: 0x01 } as const;

/** FlowSpec component types (RFC 8955 4.2.2): 1 and 2 are prefixes, the others numeric. */
export const FLOW_TYPE = {
	DESTINATION: 1,
	SOURCE: 2,
	PROTOCOL: 3,
	DESTINATION_PORT: 5,
	SOURCE_PORT: 6,
} as const;

export interface FlowMatch {
	destination: Cidr;
	source?: Cidr;
	/** Numeric components by type (protocol, ports), in type order. */
	components: Array<{ type: number; items: FlowItem[] }>;
}

export type Route =
	| {
			method: 'blackhole';
			prefix: Cidr;
			nextHop: string;
			communities: number[];
			largeCommunities: LargeCommunity[];
	  }
	| {
			method: 'flowspec';
			match: FlowMatch;
			/** Bytes per second; 0 discards (RFC 8955 7.3). */
			rate: number;
			communities: number[];
			largeCommunities: LargeCommunity[];
	  };

/** A path as gobgpd lists it, the same for both API generations. */
export interface RibPath {
	family: Family;
	/** IP prefix of a unicast path, "a.b.c.d/len". */
	prefix?: string;
	match?: FlowMatch;
	nextHop?: string;
	communities: number[];
	largeCommunities: LargeCommunity[];
	/** FlowSpec traffic-rate in bytes per second (0 = discard). */
	rate?: number;
	/** The peer the path came from; empty for a path added locally (API or configuration). */
	neighbor: string;
	best: boolean;
	/** Seconds since the path was installed, when gobgpd says. */
	ageSeconds?: number;
	/** The path as received, sent back on DeletePath. */
	raw: WirePath;
}

type Any = { typeUrl?: string; value?: Uint8Array };
/** The decoded Path message of either generation (see messages.ts). */
export interface WirePath {
	nlri?: Any & V4Nlri;
	pattrs?: Array<Any & V4Attribute>;
	family?: { afi?: number; safi?: number };
	neighborIp?: string;
	best?: boolean;
	age?: { seconds?: number };
	identifier?: number;
	[key: string]: unknown;
}

interface V4Nlri {
	prefix?: { prefixLen?: number; prefix?: string };
	flowSpec?: { rules?: V4FlowRule[] };
}
interface V4FlowRule {
	ipPrefix?: FlowPrefixMessage;
	component?: FlowComponentMessage;
}
interface FlowPrefixMessage {
	type?: number;
	prefixLen?: number;
	prefix?: string;
}
interface FlowComponentMessage {
	type?: number;
	items?: Array<{ op?: number; value?: number }>;
}
interface V4Attribute {
	nextHop?: { nextHop?: string };
	communities?: { communities?: number[] };
	largeCommunities?: { communities?: Partial<LargeCommunity>[] };
	mpReach?: { nextHops?: string[] };
	extendedCommunities?: { communities?: Array<{ trafficRate?: { rate?: number } }> };
}

const ORIGIN_IGP = { origin: 0 };

/** The Path message gobgpd's AddPath takes for this route, in the server's generation. */
export function toWirePath(route: Route, generation: Generation): WirePath {
	const version =
		route.method === 'blackhole' ? route.prefix.version : route.match.destination.version;
	const family = familyOf(version, route.method === 'flowspec');
	const nextHop = route.method === 'blackhole' ? route.nextHop : version === 4 ? '0.0.0.0' : '::';
	const communities = { communities: route.communities };
	const large = route.largeCommunities.length ? { communities: route.largeCommunities } : undefined;
	// IPv4 unicast takes the classic NEXT_HOP attribute; every other family carries its NLRI and next
	// hop in MP_REACH_NLRI (RFC 4760), as gobgpd's own CLI sends them.
	const classicNextHop = family.afi === 1 && family.safi === 1;
	const rate =
		route.method === 'flowspec' ? { communities: [{ asn: 0, rate: route.rate }] } : undefined;

	if (generation === 'v3') {
		const nlri =
			route.method === 'blackhole'
				? packAny('IPAddressPrefix', {
						prefixLen: route.prefix.prefixLength,
						prefix: route.prefix.address,
					})
				: packAny('FlowSpecNLRI', { rules: flowRules(route.match).map(packFlowRule) });
		const pattrs = [
			packAny('OriginAttribute', ORIGIN_IGP),
			classicNextHop
				? packAny('NextHopAttribute', { nextHop })
				: packAny('MpReachNLRIAttribute', { family, nextHops: [nextHop], nlris: [nlri] }),
			packAny('CommunitiesAttribute', communities),
		];
		if (large) pattrs.push(packAny('LargeCommunitiesAttribute', large));
		if (rate)
			pattrs.push(
				packAny('ExtendedCommunitiesAttribute', {
					communities: rate.communities.map((r) => packAny('TrafficRateExtended', r)),
				}),
			);
		return { family, nlri, pattrs };
	}

	const nlri: V4Nlri =
		route.method === 'blackhole'
			? { prefix: { prefixLen: route.prefix.prefixLength, prefix: route.prefix.address } }
			: {
					flowSpec: {
						rules: flowRules(route.match).map((rule) =>
							'items' in rule ? { component: rule } : { ipPrefix: rule },
						),
					},
				};
	const pattrs: object[] = [
		{ origin: ORIGIN_IGP },
		classicNextHop
			? { nextHop: { nextHop } }
			: { mpReach: { family, nextHops: [nextHop], nlris: [nlri] } },
		{ communities },
	];
	if (large) pattrs.push({ largeCommunities: large });
	if (rate)
		pattrs.push({
			extendedCommunities: { communities: rate.communities.map((r) => ({ trafficRate: r })) },
		});
	return { family, nlri, pattrs } as WirePath;
}

type FlowRuleMessage = FlowPrefixMessage | Required<FlowComponentMessage>;

function flowRules(match: FlowMatch): FlowRuleMessage[] {
	const prefix = (type: number, c: Cidr) => ({
		type,
		prefixLen: c.prefixLength,
		prefix: c.address,
	});
	const rules: FlowRuleMessage[] = [prefix(FLOW_TYPE.DESTINATION, match.destination)];
	if (match.source) rules.push(prefix(FLOW_TYPE.SOURCE, match.source));
	rules.push(...match.components);
	return rules;
}

const packFlowRule = (rule: FlowRuleMessage) =>
	'items' in rule ? packAny('FlowSpecComponent', rule) : packAny('FlowSpecIPPrefix', rule);

/** Reads a listed Path of either generation into the shape the operations compare. */
export function fromWirePath(raw: WirePath, generation: Generation): RibPath {
	const path: RibPath = {
		family: { afi: (raw.family?.afi ?? 0) as 1 | 2, safi: (raw.family?.safi ?? 0) as 1 | 133 },
		communities: [],
		largeCommunities: [],
		neighbor: raw.neighborIp ?? '',
		best: raw.best === true,
		ageSeconds:
			raw.age?.seconds !== undefined
				? Math.max(0, Math.round(Date.now() / 1000 - Number(raw.age.seconds)))
				: undefined,
		raw,
	};

	let prefix: V4Nlri['prefix'];
	let rules: V4FlowRule[] | undefined;
	if (generation === 'v3') {
		const nlri = unpackAny<{ prefixLen?: number; prefix?: string; rules?: Any[] }>(raw.nlri ?? {});
		if (nlri.name === 'IPAddressPrefix') prefix = nlri.value;
		if (nlri.name === 'FlowSpecNLRI')
			rules = (nlri.value?.rules ?? []).map((any) => {
				const rule = unpackAny<FlowPrefixMessage & FlowComponentMessage>(any);
				return rule.name === 'FlowSpecComponent'
					? { component: rule.value }
					: { ipPrefix: rule.value };
			});
	} else {
		prefix = raw.nlri?.prefix;
		rules = raw.nlri?.flowSpec?.rules;
	}
	if (prefix) path.prefix = `${prefix.prefix ?? ''}/${prefix.prefixLen ?? 0}`;
	if (rules) path.match = matchOf(rules, path.family.afi === 2 ? 6 : 4);

	for (const attribute of raw.pattrs ?? []) {
		const attr: V4Attribute = generation === 'v3' ? v3Attribute(attribute) : attribute;
		if (attr.nextHop) path.nextHop = attr.nextHop.nextHop;
		if (attr.mpReach) path.nextHop = attr.mpReach.nextHops?.[0];
		if (attr.communities) path.communities = attr.communities.communities ?? [];
		if (attr.largeCommunities)
			path.largeCommunities = (attr.largeCommunities.communities ?? []).map((c) => ({
				globalAdmin: c.globalAdmin ?? 0,
				localData1: c.localData1 ?? 0,
				localData2: c.localData2 ?? 0,
			}));
		const rate = attr.extendedCommunities?.communities?.find((c) => c.trafficRate)?.trafficRate;
		if (rate) path.rate = rate.rate ?? 0;
	}
	return path;
}

/** v3 attributes are Any: unpack the ones read here into the v4 oneof shape. */
function v3Attribute(any: Any): V4Attribute {
	const { name, value } = unpackAny<Record<string, unknown>>(any);
	switch (name) {
		case 'NextHopAttribute':
			return { nextHop: value as V4Attribute['nextHop'] };
		case 'MpReachNLRIAttribute':
			return { mpReach: value as V4Attribute['mpReach'] };
		case 'CommunitiesAttribute':
			return { communities: value as V4Attribute['communities'] };
		case 'LargeCommunitiesAttribute':
			return { largeCommunities: value as V4Attribute['largeCommunities'] };
		case 'ExtendedCommunitiesAttribute':
			return {
				extendedCommunities: {
					communities: ((value?.communities as Any[] | undefined) ?? []).map((c) => {
						const ext = unpackAny<{ rate?: number }>(c);
						return ext.name === 'TrafficRateExtended' ? { trafficRate: ext.value } : {};
					}),
				},
			};
		default:
			return {};
	}
}

function matchOf(rules: V4FlowRule[], version: 4 | 6): FlowMatch | undefined {
	let destination: Cidr | undefined;
	let source: Cidr | undefined;
	const components: FlowMatch['components'] = [];
	for (const rule of rules) {
		if (rule.ipPrefix) {
			const c = {
				address: rule.ipPrefix.prefix ?? '',
				prefixLength: rule.ipPrefix.prefixLen ?? 0,
				version,
			};
			if (rule.ipPrefix.type === FLOW_TYPE.DESTINATION) destination = c;
			if (rule.ipPrefix.type === FLOW_TYPE.SOURCE) source = c;
		} else if (rule.component) {
			components.push({
				type: rule.component.type ?? 0,
				items: (rule.component.items ?? []).map((i) => ({
					// The end-of-list and length bits are the encoder's business, not the rule's meaning.
					op: (i.op ?? 0) & (FLOW_OP.AND | FLOW_OP.LT | FLOW_OP.GT | FLOW_OP.EQ),
					value: Number(i.value ?? 0),
				})),
			});
		}
	}
	return destination ? { destination, source, components } : undefined;
}

/**
 * One line that is equal for two FlowSpec matches exactly when they match the same traffic the same
 * way.
 */
export function flowKey(match: FlowMatch): string {
	const parts = [`dst ${cidrText(match.destination)}`];
	if (match.source) parts.push(`src ${cidrText(match.source)}`);
	for (const c of [...match.components].sort((a, b) => a.type - b.type))
		parts.push(`${c.type}:${c.items.map((i) => `${i.op}/${i.value}`).join(',')}`);
	return parts.join(' ');
}

/** Standard community as "asn:value" (RFC 1997). */
export const communityText = (c: number) => `${c >>> 16}:${c & 0xffff}`;

export const largeCommunityText = (c: LargeCommunity) =>
	`${c.globalAdmin}:${c.localData1}:${c.localData2}`;
