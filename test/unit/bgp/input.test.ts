import {
	BLACKHOLE,
	NO_EXPORT,
	checkRtbhWidth,
	readCidr,
	readCommunities,
	readMarker,
	readNextHop,
	readPorts,
	readRate,
} from '../../../nodes/Bgp/input';
import { FLOW_OP } from '../../../nodes/Bgp/routes';
import { formatPem } from '../../../nodes/Bgp/transport';

describe('prefix', () => {
	it('reads a bare address as a host route', () => {
		expect(readCidr('203.0.113.10', 'Prefix')).toEqual({
			address: '203.0.113.10',
			prefixLength: 32,
			version: 4,
		});
		expect(readCidr('2001:DB8::0:1', 'Prefix')).toEqual({
			address: '2001:db8::1',
			prefixLength: 128,
			version: 6,
		});
	});

	it('reduces a prefix to its network address, as gobgpd lists it', () => {
		expect(readCidr('203.0.113.77/24', 'Prefix').address).toBe('203.0.113.0');
		expect(readCidr('2001:db8:1:2:3::5/48', 'Prefix').address).toBe('2001:db8:1::');
	});

	it('refuses what is not a prefix', () => {
		expect(() => readCidr('203.0.113.300/32', 'Prefix')).toThrow(/not an IPv4 or IPv6 prefix/);
		expect(() => readCidr('203.0.113.0/33', 'Prefix')).toThrow(/not an IPv4 or IPv6 prefix/);
	});

	it('refuses RTBH wider than /24 or /48 unless asked for', () => {
		expect(() => checkRtbhWidth(readCidr('203.0.112.0/23', 'Prefix'), false)).toThrow(
			/wider than \/24/,
		);
		expect(() => checkRtbhWidth(readCidr('2001:db8::/47', 'Prefix'), false)).toThrow(
			/wider than \/48/,
		);
		expect(() => checkRtbhWidth(readCidr('203.0.112.0/23', 'Prefix'), true)).not.toThrow();
		expect(() => checkRtbhWidth(readCidr('203.0.113.0/24', 'Prefix'), false)).not.toThrow();
	});
});

describe('communities', () => {
	it('reads standard, large and well-known communities', () => {
		expect(readCommunities('65001:666, 64496:666:0 no-export', 'x')).toEqual({
			standard: [65001 * 65536 + 666, NO_EXPORT],
			large: [{ globalAdmin: 64496, localData1: 666, localData2: 0 }],
		});
		expect(readCommunities('blackhole', 'x').standard).toEqual([BLACKHOLE]);
	});

	it.each(['65536:1', '1:65536', '65001', '65001:666:1:2', 'a:b', '4294967296:1:1', '-1:5'])(
		'refuses %s',
		(value) =>
			expect(() => readCommunities(value, 'Extra Communities')).toThrow(/not a BGP community/),
	);

	it('takes one private or own standard community as the marker, never BLACKHOLE', () => {
		expect(readMarker('64512:666')).toBe(64512 * 65536 + 666);
		expect(() => readMarker('65535:666')).toThrow(/Marker Community/);
		expect(() => readMarker('no-export')).toThrow(/Marker Community/);
		expect(() => readMarker('64512:1 64512:2')).toThrow(/Marker Community/);
		expect(() => readMarker('64512:1:2')).toThrow(/Marker Community/);
	});
});

describe('next hop', () => {
	it('defaults to the documented discard next hops', () => {
		expect(readNextHop('', 4)).toBe('192.0.2.1');
		expect(readNextHop(' ', 6)).toBe('100::1');
		expect(readNextHop('10.0.0.66', 4)).toBe('10.0.0.66');
	});

	it('refuses a malformed next hop or one of the other family', () => {
		expect(() => readNextHop('192.0.2', 4)).toThrow(/not an IPv4 address/);
		expect(() => readNextHop('100::1', 4)).toThrow(/not an IPv4 address/);
		expect(() => readNextHop('192.0.2.1', 6)).toThrow(/not an IPv6 address/);
	});
});

describe('FlowSpec ports and rate', () => {
	it('encodes single ports as equal and ranges as >= AND <=', () => {
		expect(readPorts('0, 53 1000-2000', 'Destination Ports')).toEqual([
			{ op: FLOW_OP.EQ, value: 0 },
			{ op: FLOW_OP.EQ, value: 53 },
			{ op: FLOW_OP.GT | FLOW_OP.EQ, value: 1000 },
			{ op: FLOW_OP.AND | FLOW_OP.LT | FLOW_OP.EQ, value: 2000 },
		]);
		expect(readPorts('', 'x')).toEqual([]);
	});

	it.each(['65536', '70000-70001', '200-100', 'http', '-1', '1-2-3'])('refuses port %s', (value) =>
		expect(() => readPorts(value, 'Destination Ports')).toThrow(/not a port \(0-65535\)/),
	);

	it('discards with rate 0 and refuses a rate limit that is not positive', () => {
		expect(readRate('discard', 5)).toBe(0);
		expect(readRate('rateLimit', 125000)).toBe(125000);
		expect(() => readRate('rateLimit', 0)).toThrow(/not a positive number/);
	});
});

describe('CA certificate', () => {
	it('restores the line breaks a one-line password field removed', () => {
		const body = 'A'.repeat(70);
		expect(formatPem(`-----BEGIN CERTIFICATE----- ${body} -----END CERTIFICATE-----`)).toBe(
			`-----BEGIN CERTIFICATE-----\n${'A'.repeat(64)}\nAAAAAA\n-----END CERTIFICATE-----\n`,
		);
		expect(formatPem('  ')).toBeUndefined();
	});
});
