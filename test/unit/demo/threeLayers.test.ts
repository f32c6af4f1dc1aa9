import { nftSets, receivedRoutes } from '../../../scripts/demo/threeLayers';

/** What the demo's status page reads from BIRD and from the commands the SSH server recorded. */

// `birdc show route table all protocol gobgpd all` from BIRD 2.0.12, after gobgp added an RTBH
// route and a FlowSpec rule.
const BIRDC = `BIRD 2.0.12 ready.
Table master4:
192.0.2.40/32        blackhole [gobgpd 19:22:21.349 from 127.0.0.1] * (100/?) [?]
	Type: BGP univ
	BGP.origin: Incomplete
	BGP.next_hop: 192.0.2.1
	BGP.local_pref: 100
	BGP.community: (65535,666) (65535,65281)

Table flowtab4:
flow4 { dst 192.0.2.40/32; proto 17; }  [gobgpd 19:22:21.381 from 127.0.0.1] * (100) [?]
	Type: BGP univ
	BGP.local_pref: 100
	BGP.ext_community: (generic, 0x80060000, 0x0)
`;

describe('the border router as the demo shows it', () => {
	it('lists each received route and FlowSpec rule with its communities', () => {
		expect(receivedRoutes(BIRDC)).toEqual([
			'192.0.2.40/32 blackhole communities (65535,666) (65535,65281)',
			'flow4 { dst 192.0.2.40/32; proto 17; } communities (generic, 0x80060000, 0x0)',
		]);
	});

	it('lists nothing when BIRD received nothing', () => {
		expect(receivedRoutes('BIRD 2.0.12 ready.\n')).toEqual([]);
	});
});

describe("the attacked server's nftables sets as the recorded commands leave them", () => {
	const add = "cd / ; nft add element inet ddos attacked '{ 192.0.2.40 }'";
	const remove = `${add} && nft delete element inet ddos attacked '{ 192.0.2.40 }'`;

	it('holds the address after the add, not after the withdraw command', () => {
		expect([...(nftSets([add]).get('inet ddos attacked') ?? [])]).toEqual(['192.0.2.40']);
		expect(nftSets([add, remove]).get('inet ddos attacked')?.size).toBe(0);
	});

	it('knows no set before any command', () => {
		expect(nftSets([]).size).toBe(0);
	});
});
