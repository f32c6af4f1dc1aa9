import { normalizeScope } from '../../../nodes/IncidentGate/scope';

describe('scope normalization: one spelling per mitigation', () => {
	it.each([
		['PEDGE01', 'pedge01'],
		['  edge-router ', 'edge-router'],
		['203.0.113.7/24', '203.0.113.0/24'],
		['203.0.113.7', '203.0.113.7'],
		['203.0.113.7/32', '203.0.113.7/32'],
		['2001:DB8::/32', '2001:db8::/32'],
		['2001:0db8:0:0::/32', '2001:db8::/32'],
		['2001:db8:ffff:1::/32', '2001:db8::/32'],
		['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
		['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'],
		['::', '::'],
		['::ffff:1', '::ffff:1'],
		['FE80::1/10', 'fe80::/10'],
	])('%j becomes %j', (raw, normalized) => {
		expect(normalizeScope(raw)).toBe(normalized);
	});

	it.each([['203.0.113.7/33'], ['300.1.1.1/24'], ['2001:db8::/129'], ['10.0.0.0/x']])(
		'leaves %j, which is not a valid CIDR, as case-folded text',
		(raw) => {
			expect(normalizeScope(raw)).toBe(raw.toLowerCase());
		},
	);
});
