import { BLACKHOLE, NO_EXPORT, readCidr } from '../../../nodes/Bgp/input';
import { decode, encode, unpackAny } from '../../../nodes/Bgp/messages';
import { fromWirePath, toWirePath, type Route, type WirePath } from '../../../nodes/Bgp/routes';

const blackhole: Route = {
	method: 'blackhole',
	prefix: readCidr('203.0.113.10/32', 'Prefix'),
	nextHop: '192.0.2.1',
	communities: [BLACKHOLE, NO_EXPORT],
	largeCommunities: [{ globalAdmin: 64496, localData1: 666, localData2: 0 }],
};
const flowspec: Route = {
	method: 'flowspec',
	match: {
		destination: readCidr('2001:db8::10/128', 'Prefix'),
		components: [{ type: 3, items: [{ op: 1, value: 17 }] }],
	},
	rate: 0,
	communities: [64512 * 65536 + 666],
	largeCommunities: [],
};

/**
 * What gobgpd would decode from the bytes the node sends, read back as the node reads a listed
 * path.
 */
const wireRoundTrip = (route: Route, generation: 'v3' | 'v4') =>
	fromWirePath(
		decode<WirePath>(generation, 'Path', encode(generation, 'Path', toWirePath(route, generation))),
		generation,
	);

describe.each(['v3', 'v4'] as const)('Path encoding, GoBGP %s', (generation) => {
	it('an RTBH route reads back with its prefix, next hop and communities', () => {
		expect(wireRoundTrip(blackhole, generation)).toMatchObject({
			family: { afi: 1, safi: 1 },
			prefix: '203.0.113.10/32',
			nextHop: '192.0.2.1',
			communities: [BLACKHOLE, NO_EXPORT],
			largeCommunities: [{ globalAdmin: 64496, localData1: 666, localData2: 0 }],
		});
	});

	it('an IPv6 FlowSpec rule reads back with its match and discard action', () => {
		expect(wireRoundTrip(flowspec, generation)).toMatchObject({
			family: { afi: 2, safi: 133 },
			match: flowspec.method === 'flowspec' ? flowspec.match : undefined,
			nextHop: '::',
			rate: 0,
		});
	});
});

describe('v3 attributes travel as google.protobuf.Any', () => {
	it('named as gobgpd resolves them (type.googleapis.com/apipb.<Message>)', () => {
		const path = toWirePath(blackhole, 'v3');
		expect(path.nlri?.typeUrl).toBe('type.googleapis.com/apipb.IPAddressPrefix');
		expect(path.pattrs?.map((a) => a.typeUrl)).toEqual([
			'type.googleapis.com/apipb.OriginAttribute',
			'type.googleapis.com/apipb.NextHopAttribute',
			'type.googleapis.com/apipb.CommunitiesAttribute',
			'type.googleapis.com/apipb.LargeCommunitiesAttribute',
		]);
		expect(unpackAny(path.pattrs?.[2] ?? {}).value).toEqual({
			communities: [BLACKHOLE, NO_EXPORT],
		});
	});

	it('an Any of a message the node does not know is named but not decoded', () => {
		expect(unpackAny({ typeUrl: 'type.googleapis.com/apipb.AsPathAttribute' })).toEqual({
			name: 'AsPathAttribute',
			value: undefined,
		});
	});
});
