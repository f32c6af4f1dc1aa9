import type { ProviderClient } from '../../../nodes/shared/http';
import { vultrRequest } from '../../../nodes/Vultr/transport';

/** A client that only notes when each request leaves. */
function clock() {
	const sentAt: number[] = [];
	const api = {
		request: async () => {
			sentAt.push(performance.now());
			return { status: 200, headers: {}, body: {} };
		},
	} as unknown as ProviderClient;
	return { api, sentAt };
}

describe('Vultr request spacing (30 requests per second per IP)', () => {
	it('spaces requests sent side by side 40 ms apart, as it spaces sequential ones', async () => {
		const { api, sentAt } = clock();
		await Promise.all([1, 2, 3, 4].map(async () => await vultrRequest(api, 'GET', '/firewalls')));
		expect(sentAt).toHaveLength(4);
		// The k-th request leaves at least 40 ms x k after the first: never more than 25 a second. (A
		// timer never fires early, beyond rounding to the millisecond; a late one only spreads them.)
		sentAt.forEach((at, k) => expect(at - sentAt[0]).toBeGreaterThanOrEqual(40 * k - 2));
	});

	it('does not delay a request that comes after the spacing has passed', async () => {
		const { api, sentAt } = clock();
		await vultrRequest(api, 'GET', '/firewalls');
		await new Promise((resolve) => setTimeout(resolve, 60));
		const before = performance.now();
		await vultrRequest(api, 'GET', '/firewalls');
		expect(sentAt[1] - before).toBeLessThan(40);
	});
});
