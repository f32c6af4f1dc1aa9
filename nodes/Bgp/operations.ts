import type { IDataObject, IExecuteFunctions } from 'n8n-workflow';

import { InputError } from '../shared/errors';
import type { RetryPolicy } from '../shared/http';
import type { MitigationProvider, OperationContext } from '../shared/provider';
import {
	BLACKHOLE,
	NO_EXPORT,
	checkRtbhWidth,
	protocolComponent,
	readCidr,
	readCommunities,
	readMarker,
	readNextHop,
	readPorts,
	readRate,
} from './input';
import {
	FLOW_TYPE,
	cidrText,
	communityText,
	familyOf,
	flowKey,
	largeCommunityText,
	type Cidr,
	type FlowMatch,
	type RibPath,
	type Route,
} from './routes';
import { GobgpClient, readCredentials } from './transport';

export type Method = 'blackhole' | 'flowspec';

export interface BgpTarget {
	method: Method;
	prefix: Cidr;
	/** The community that tells this node's paths from anyone else's. */
	marker: number;
	/** The route Activate announces, read and checked before any call. */
	route?: Route;
}

interface BlackholeOptions {
	nextHop?: string;
	noExport?: boolean;
	communities?: string;
	allowWidePrefix?: boolean;
}

interface FlowspecOptions {
	protocol?: string;
	destinationPorts?: string;
	sourcePorts?: string;
	sourcePrefix?: string;
	action?: 'discard' | 'rateLimit';
	rateLimit?: number;
}

export const DEFAULT_MARKER = '64512:666';

function readTarget(ctx: IExecuteFunctions, itemIndex: number, operation: string): BgpTarget {
	const method = ctx.getNodeParameter('method', itemIndex) as Method;
	const prefix = readCidr(String(ctx.getNodeParameter('prefix', itemIndex, '')), 'Prefix');
	const marker = readMarker(
		String(ctx.getNodeParameter('markerCommunity', itemIndex, DEFAULT_MARKER)),
	);
	const target: BgpTarget = { method, prefix, marker };
	if (operation !== 'activate') return target;

	if (method === 'blackhole') {
		const options = ctx.getNodeParameter('blackhole', itemIndex, {}) as BlackholeOptions;
		checkRtbhWidth(prefix, options.allowWidePrefix === true);
		const extra = readCommunities(options.communities ?? '', 'Extra Communities');
		target.route = {
			method,
			prefix,
			nextHop: readNextHop(options.nextHop ?? '', prefix.version),
			communities: unique([
				BLACKHOLE,
				...(options.noExport === false ? [] : [NO_EXPORT]),
				...extra.standard,
				marker,
			]),
			largeCommunities: extra.large,
		};
		return target;
	}

	const options = ctx.getNodeParameter('flowspec', itemIndex, {}) as FlowspecOptions;
	const source = options.sourcePrefix?.trim()
		? readCidr(options.sourcePrefix, 'Source Prefix')
		: undefined;
	if (source && source.version !== prefix.version)
		throw new InputError(
			`Source Prefix ${cidrText(source)} and Prefix ${cidrText(prefix)} are not the same ` +
				'IP version',
			'A FlowSpec rule matches one address family: give an IPv4 source for an IPv4 prefix.',
		);
	const components: FlowMatch['components'] = [];
	const protocol = protocolComponent(options.protocol ?? 'any');
	if (protocol) components.push(protocol);
	const destinationPorts = readPorts(options.destinationPorts ?? '', 'Destination Ports');
	if (destinationPorts.length)
		components.push({ type: FLOW_TYPE.DESTINATION_PORT, items: destinationPorts });
	const sourcePorts = readPorts(options.sourcePorts ?? '', 'Source Ports');
	if (sourcePorts.length) components.push({ type: FLOW_TYPE.SOURCE_PORT, items: sourcePorts });
	target.route = {
		method,
		match: { destination: prefix, source, components },
		rate: readRate(options.action ?? 'discard', Number(options.rateLimit ?? 0)),
		communities: [marker],
		largeCommunities: [],
	};
	return target;
}

const unique = (values: number[]) => [...new Set(values)];

/**
 * This prefix's paths in gobgpd's global RIB (or in what it sends `peer`), split into this node's
 * (local, marked) and everyone else's.
 */
async function lookUp(api: GobgpClient, target: BgpTarget, peer?: string) {
	const family = familyOf(target.prefix.version, target.method === 'flowspec');
	const wanted = cidrText(target.prefix);
	const paths =
		target.method === 'blackhole'
			? (await api.listPaths(family, wanted, peer)).filter((p) => p.prefix === wanted)
			: // FlowSpec NLRI are not looked up by prefix: list the family and match the destination.
				(await api.listPaths(family, undefined, peer)).filter(
					(p) => p.match && cidrText(p.match.destination) === wanted,
				);
	const ours = paths.filter((p) => isLocal(p) && p.communities.includes(target.marker));
	const others = paths.filter((p) => !ours.includes(p));
	return { ours, others };
}

/** The peers gobgpd is sending this node's path to right now (their Adj-RIB-Out holds it). */
async function advertisedTo(api: GobgpClient, target: BgpTarget): Promise<string[]> {
	const peers: string[] = [];
	for (const peer of await api.establishedPeers())
		if ((await lookUp(api, target, peer)).ours.length) peers.push(peer);
	return peers;
}

const isLocal = (path: RibPath) => path.neighbor === '' || path.neighbor === '<nil>';

function describePath(path: RibPath): IDataObject {
	const described: IDataObject = {
		from: isLocal(path) ? 'local' : path.neighbor,
		best: path.best,
		communities: path.communities.map(communityText),
	};
	if (path.largeCommunities.length)
		described.largeCommunities = path.largeCommunities.map(largeCommunityText);
	if (path.prefix) described.prefix = path.prefix;
	if (path.match) described.rule = flowKey(path.match);
	if (path.rate !== undefined) described.action = path.rate === 0 ? 'discard' : 'rateLimit';
	if (path.rate) described.rateLimit = path.rate;
	if (path.nextHop && !path.match) described.nextHop = path.nextHop;
	if (path.ageSeconds !== undefined) described.ageSeconds = path.ageSeconds;
	return described;
}

async function statusOf(api: GobgpClient, target: BgpTarget, changed: boolean) {
	const { generation, routerId } = await api.identify();
	const { ours, others } = await lookUp(api, target);
	return {
		result: {
			active: ours.length > 0,
			changed,
			method: target.method,
			paths: ours.map(describePath),
			otherPaths: others.map(describePath),
			gobgp: { api: generation, routerId },
		},
		ours,
		others,
	};
}

/** Whether a listed path of ours already is the route Activate would announce. */
function sameRoute(path: RibPath, route: Route): boolean {
	const sameSet = (a: string[], b: string[]) =>
		a.length === b.length && [...a].sort().join() === [...b].sort().join();
	const large = sameSet(
		path.largeCommunities.map(largeCommunityText),
		route.largeCommunities.map(largeCommunityText),
	);
	const communities = sameSet(
		path.communities.map(communityText),
		route.communities.map(communityText),
	);
	if (route.method === 'blackhole') return communities && large && path.nextHop === route.nextHop;
	return (
		communities &&
		large &&
		path.match !== undefined &&
		flowKey(path.match) === flowKey(route.match) &&
		path.rate === route.rate
	);
}

function refuseForeign(target: BgpTarget, others: RibPath[], route: Route): void {
	// gobgpd keeps one local path per NLRI: adding ours would silently replace someone else's.
	const foreign = others.find(
		(p) =>
			isLocal(p) &&
			(route.method === 'blackhole' ||
				(p.match !== undefined && flowKey(p.match) === flowKey(route.match))),
	);
	if (foreign)
		throw new InputError(
			`gobgpd already originates ${cidrText(target.prefix)} without the marker community ` +
				`${communityText(target.marker)}: activating would replace that path`,
			'That path was added by someone else (gobgp CLI, configuration or another tool). ' +
				'Withdraw it there first, use a more specific prefix, or set Marker Community to the ' +
				'one it carries.',
		);
}

async function getStatus(target: BgpTarget, { ctx, api }: OperationContext<GobgpClient>) {
	const { result } = await statusOf(api, target, false);
	if (!result.active) return result;
	// Only Get Status asks: right after a change gobgpd may not have updated its peers yet.
	const peers = await advertisedTo(api, target);
	if (!peers.length)
		ctx.addExecutionHints?.({
			message:
				`gobgpd holds the ${target.method} path for ${cidrText(target.prefix)} but sends it ` +
				"to no peer: check that the border routers' sessions are up and carry this address " +
				'family',
			location: 'outputPane',
		});
	return { ...result, advertisedTo: peers };
}

async function activate(target: BgpTarget, { api }: OperationContext<GobgpClient>) {
	const route = target.route as Route;
	const before = await lookUp(api, target);
	if (before.ours.some((p) => sameRoute(p, route)) && before.ours.length === 1)
		return (await statusOf(api, target, false)).result;
	refuseForeign(target, before.others, route);
	await api.addPath(route);
	// A FlowSpec rule of ours for this destination that no longer matches what the node says is
	// replaced. (Same NLRI: AddPath itself replaced it.)
	if (route.method === 'flowspec')
		for (const stale of before.ours.filter(
			(p) => p.match && flowKey(p.match) !== flowKey(route.match),
		))
			await api.deletePath(stale);
	return (await statusOf(api, target, true)).result;
}

async function withdraw(target: BgpTarget, { ctx, api }: OperationContext<GobgpClient>) {
	const before = await lookUp(api, target);
	if (before.others.length && !before.ours.length)
		ctx.addExecutionHints?.({
			message:
				`gobgpd has ${before.others.length} path(s) for ${cidrText(target.prefix)} that this ` +
				`node ` +
				'did not add (no marker community): left as they are',
			location: 'outputPane',
		});
	for (const path of before.ours) await api.deletePath(path);
	return (await statusOf(api, target, before.ours.length > 0)).result;
}

export const bgpMitigation: MitigationProvider<BgpTarget, GobgpClient> = {
	name: 'bgpMitigation',
	api: {
		async open(ctx: IExecuteFunctions, policy: RetryPolicy) {
			return GobgpClient.open(readCredentials(await ctx.getCredentials('gobgpApi')), policy);
		},
		close: (client) => client.close(),
	},
	readTarget,
	describeTarget: (target) => cidrText(target.prefix),
	operations: { getStatus, activate, withdraw },
};
