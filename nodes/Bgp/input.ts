import { isIP } from 'node:net';

import { InputError } from '../shared/errors';
import { parseCidr, splitList } from '../shared/validation';
import { FLOW_OP, FLOW_TYPE, type Cidr, type FlowItem, type LargeCommunity } from './routes';

/** RFC 7999 BLACKHOLE and RFC 1997 NO_EXPORT. */
export const BLACKHOLE = 65535 * 0x10000 + 666;
export const NO_EXPORT = 0xffffff01;

/**
 * Default next hops of an RTBH route: TEST-NET-1 (RFC 5737) and the IPv6 discard prefix 100::/64
 * (RFC 6666), which border routers map to a null route ("ip route 192.0.2.1/32 Null0"), so traffic
 * to the prefix is dropped there.
 */
export const DISCARD_NEXT_HOP = { 4: '192.0.2.1', 6: '100::1' } as const;

/**
 * The narrowest prefixes upstreams accept for RTBH; anything wider must be asked for explicitly.
 */
export const WIDEST_RTBH = { 4: 24, 6: 48 } as const;

/**
 * Canonical text of an address: IPv4 dotted quad, IPv6 compressed lowercase (as gobgpd prints
 * them).
 */
function canonical(address: string, version: 4 | 6): string {
	if (version === 4) return address.split('.').map(Number).join('.');
	return new URL(`http://[${address}]/`).hostname.slice(1, -1);
}

function toBytes(address: string, version: 4 | 6): number[] {
	if (version === 4) return address.split('.').map(Number);
	const [head, tail] = canonical(address, 6).split('::');
	const groups = (s: string | undefined) => (s ? s.split(':').map((g) => parseInt(g, 16)) : []);
	const h = groups(head);
	const t = groups(tail);
	const all = [...h, ...new Array<number>(8 - h.length - t.length).fill(0), ...t];
	return all.flatMap((g) => [g >> 8, g & 0xff]);
}

function fromBytes(bytes: number[], version: 4 | 6): string {
	if (version === 4) return bytes.join('.');
	const groups = [];
	for (let i = 0; i < 16; i += 2) groups.push(((bytes[i] << 8) | bytes[i + 1]).toString(16));
	return canonical(groups.join(':'), 6);
}

/** "addr/len" read and reduced to its network address, so 203.0.113.5/24 means 203.0.113.0/24. */
export function readCidr(value: string, label: string): Cidr {
	const parsed = parseCidr(value);
	if (!parsed)
		throw new InputError(
			`${label} '${value}' is not an IPv4 or IPv6 prefix`,
			'Write it as a CIDR block such as 203.0.113.10/32 or 2001:db8::/48 (a bare address means ' +
				'one host).',
		);
	const bytes = toBytes(parsed.address, parsed.version);
	for (let bit = parsed.prefixLength; bit < bytes.length * 8; bit++)
		bytes[bit >> 3] &= ~(0x80 >> (bit & 7));
	return {
		address: fromBytes(bytes, parsed.version),
		prefixLength: parsed.prefixLength,
		version: parsed.version,
	};
}

export function checkRtbhWidth(prefix: Cidr, allowWide: boolean): void {
	const widest = WIDEST_RTBH[prefix.version];
	if (prefix.prefixLength < widest && !allowWide)
		throw new InputError(
			`The prefix /${prefix.prefixLength} is wider than /${widest}: blackholing it drops traffic ` +
				`to every address in it`,
			`Give the attacked address (/32 or /128) or a prefix of /${widest} or longer, or turn on ` +
				"'Allow Wide Prefix' if the whole block really must be dropped.",
		);
}

export function readNextHop(value: string, version: 4 | 6): string {
	const nextHop = value.trim() || DISCARD_NEXT_HOP[version];
	if (isIP(nextHop) !== version)
		throw new InputError(
			`Next hop '${nextHop}' is not an IPv${version} address`,
			`An IPv${version} prefix needs an IPv${version} next hop; leave it empty for ` +
				`${DISCARD_NEXT_HOP[version]}, the discard next hop most border routers null-route.`,
		);
	return nextHop;
}

const COMMUNITY_HINT =
	'Write standard communities as ASN:VALUE (e.g. 65001:666, both 0-65535) and large ' +
	'communities as ASN:VALUE:VALUE (e.g. 64496:666:0, each 0-4294967295), separated by commas ' +
	'or spaces.';

export interface Communities {
	standard: number[];
	large: LargeCommunity[];
}

/**
 * Standard (RFC 1997) and large (RFC 8092) communities as typed by the user, well-known names
 * included.
 */
export function readCommunities(value: unknown, label: string): Communities {
	const result: Communities = { standard: [], large: [] };
	for (const item of splitList(value)) {
		const named = WELL_KNOWN[item.toLowerCase()];
		if (named !== undefined) {
			result.standard.push(named);
			continue;
		}
		const parts = item.split(':');
		const numbers = parts.map((p) => (/^\d{1,10}$/.test(p) ? Number(p) : NaN));
		if (parts.length === 2 && numbers.every((n) => n <= 0xffff))
			result.standard.push(numbers[0] * 0x10000 + numbers[1]);
		else if (parts.length === 3 && numbers.every((n) => n <= 0xffffffff))
			result.large.push({
				globalAdmin: numbers[0],
				localData1: numbers[1],
				localData2: numbers[2],
			});
		else throw new InputError(`${label}: '${item}' is not a BGP community`, COMMUNITY_HINT);
	}
	return result;
}

const WELL_KNOWN: Record<string, number> = {
	blackhole: BLACKHOLE,
	'no-export': NO_EXPORT,
	'no-advertise': 0xffffff02,
	'no-peer': 0xffffff04,
};

/** The one standard community that marks this package's paths. */
export function readMarker(value: string): number {
	const { standard, large } = readCommunities(value, 'Marker Community');
	if (
		standard.length !== 1 ||
		large.length ||
		standard[0] === BLACKHOLE ||
		standard[0] >= NO_EXPORT
	)
		throw new InputError(
			`Marker Community '${value}' must be one standard community of your own, such as 64512:666`,
			'It tells the paths this node added from any other path for the same prefix; use your ASN ' +
				'or a private one, not BLACKHOLE or a well-known community.',
		);
	return standard[0];
}

/**
 * Ports and ranges ("80, 443, 8000-8100") as FlowSpec numeric items: entries OR-ed, a range's
 * bounds AND-ed.
 */
export function readPorts(value: unknown, label: string): FlowItem[] {
	const items: FlowItem[] = [];
	for (const entry of splitList(value)) {
		const match = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(entry);
		const from = Number(match?.[1]);
		const to = match?.[2] === undefined ? from : Number(match[2]);
		if (!match || from > 65535 || to > 65535 || from > to)
			throw new InputError(
				`${label}: '${entry}' is not a port (0-65535) or a range like 8000-8100`,
				'Separate several ports or ranges with commas.',
			);
		if (from === to) items.push({ op: FLOW_OP.EQ, value: from });
		else
			items.push(
				{ op: FLOW_OP.GT | FLOW_OP.EQ, value: from },
				{ op: FLOW_OP.AND | FLOW_OP.LT | FLOW_OP.EQ, value: to },
			);
	}
	return items;
}

/** IP protocol numbers by the names the node offers. */
export const PROTOCOLS: Record<string, number> = { icmp: 1, tcp: 6, udp: 17, gre: 47, icmpv6: 58 };

export function protocolComponent(protocol: string) {
	const number = PROTOCOLS[protocol];
	return number === undefined
		? undefined
		: { type: FLOW_TYPE.PROTOCOL, items: [{ op: FLOW_OP.EQ, value: number }] };
}

export function readRate(action: string, bytesPerSecond: number): number {
	if (action === 'discard') return 0;
	if (!Number.isFinite(bytesPerSecond) || bytesPerSecond <= 0)
		throw new InputError(
			`Rate limit ${bytesPerSecond} bytes per second is not a positive number`,
			'Give the traffic rate to allow in bytes per second (e.g. 125000 for 1 Mbit/s), or choose ' +
				"'Discard'.",
		);
	return bytesPerSecond;
}
