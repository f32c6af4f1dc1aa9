import { InputError } from '../../../nodes/shared/errors';
import { cidr, validate } from '../../../nodes/shared/validation';
import { z } from 'zod';

const refusal = (schema: z.ZodType, value: unknown) => {
	try {
		validate(schema, value, 'management sources');
	} catch (error) {
		return error as InputError;
	}
	throw new Error('expected a refusal');
};

describe('input validation', () => {
	it('refuses a scoped IPv6 address: its zone names an interface of this host', () => {
		expect(refusal(cidr, 'fe80::1%eth0').message).toMatch(/'fe80::1%eth0' is not an IPv4 or IPv6/);
		expect(refusal(cidr, 'fe80::%25eth0/64').message).toMatch(/is not an IPv4 or IPv6/);
		expect(validate(cidr, 'fe80::1/128', 'x')).toBe('fe80::1/128');
	});

	it('cuts a huge input to 200 characters in the refusal', () => {
		const huge = 'x'.repeat(1_000_000);
		const { message } = refusal(cidr, huge);
		expect(message.length).toBeLessThan(500);
		expect(message).toContain('(1000000 characters)');
	});

	it('lists at most five problems of a long list', () => {
		const { message } = refusal(
			z.array(cidr),
			Array.from({ length: 50 }, (_, i) => `bad-${i}`),
		);
		expect(message).toMatch(/'bad-4' is not .*; and 45 more$/);
		expect(message).not.toContain('bad-5');
	});
});
