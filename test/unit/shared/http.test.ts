import type { IExecuteFunctions } from 'n8n-workflow';

import { magicTransitApi } from '../../../nodes/Cloudflare/MagicTransit/operations';
import { ProviderClient, parseRetryAfter, type RetryPolicy } from '../../../nodes/shared/http';
import { ProviderError } from '../../../nodes/shared/errors';
import { performRequest } from '../../helpers/runNode';
import { simulatorPerTest } from '../../helpers/fixture';
import { CloudflareSimulator } from '../../simulators/cloudflare';
import { ACCOUNT, PREFIX, TOKEN, startCloudflare } from '../cloudflare/fixture';

const fast: RetryPolicy = {
	maxAttempts: 4,
	maxRetryTimeMs: 10_000,
	baseDelayMs: 10,
	maxDelayMs: 50,
	timeoutMs: 2_000,
};
const statusPath = `/accounts/${ACCOUNT}/addressing/prefixes/${PREFIX}/bgp/status`;

let sim: CloudflareSimulator;
/** Requests handed to n8n's HTTP helper, retries included (counted here, where n8n would send them). */
let sent = 0;
simulatorPerTest(async () => {
	sent = 0;
	return (sim = await startCloudflare());
});

/** A client whose requests carry the token the way n8n's credential system would add it. */
function client(policy: RetryPolicy = fast, baseUrl = sim.baseUrl) {
	const ctx = {
		helpers: {
			httpRequestWithAuthentication: async (_type: string, options: object) => {
				sent++;
				return await performRequest({
					...(options as { url: string }),
					headers: {
						...(options as { headers?: object }).headers,
						authorization: `Bearer ${TOKEN}`,
					},
				});
			},
		},
	} as unknown as IExecuteFunctions;
	return new ProviderClient(ctx, magicTransitApi, baseUrl, policy);
}

const get = (c: ProviderClient) => c.request({ method: 'GET', path: statusPath });

describe('provider HTTP: retries and error mapping', () => {
	it('retries a 429 after the Retry-After delay and then succeeds', async () => {
		sim.inject({
			path: /bgp\/status/,
			response: {
				status: 429,
				headers: { 'retry-after': '1' },
				body: {
					success: false,
					errors: [
						{ code: 971, message: 'Please wait and consider throttling your request speed' },
					],
				},
			},
		});
		const c = client();
		const started = Date.now();
		const response = await get(c);
		expect(response.status).toBe(200);
		expect(Date.now() - started).toBeGreaterThanOrEqual(950);
		expect(sent).toBe(2);
	});

	it('retries 5xx responses with backoff', async () => {
		sim.inject({ path: /bgp\/status/, response: { status: 502, body: 'bad gateway' }, times: 2 });
		const c = client();
		expect((await get(c)).status).toBe(200);
		expect(sent).toBe(3);
	});

	it('gives up after the configured attempts and says so', async () => {
		sim.inject({
			path: /bgp\/status/,
			response: { status: 503, body: { success: false, errors: [{ code: 1, message: 'down' }] } },
			times: 10,
		});
		const c = client({ ...fast, maxAttempts: 3 });
		const error = await get(c).catch((e) => e);
		expect(error).toBeInstanceOf(ProviderError);
		expect(error.message).toMatch(/HTTP 503.*gave up after 3 attempts/);
		expect(sent).toBe(3);
	});

	it('does not wait past the maximum retry time', async () => {
		sim.inject({
			path: /bgp\/status/,
			response: { status: 429, headers: { 'retry-after': '3600' }, body: {} },
		});
		const c = client({ ...fast, maxRetryTimeMs: 1_000 });
		const started = Date.now();
		await expect(get(c)).rejects.toThrow(/rate limit/);
		// Gave up at once instead of sleeping through the hour the provider asked for.
		expect(Date.now() - started).toBeLessThan(60_000);
		expect(sent).toBe(1);
	});

	it('never retries an authentication failure', async () => {
		sim.tokens.clear();
		const c = client();
		await expect(get(c)).rejects.toThrow(/rejected the API token/);
		expect(sent).toBe(1);
	});

	it('times out a slow response and retries it', async () => {
		sim.inject({ path: /bgp\/status/, delayMs: 1_500 });
		const c = client({ ...fast, timeoutMs: 300 });
		expect((await get(c)).status).toBe(200);
		expect(sent).toBe(2);
	});

	it('turns a malformed success body into a clear error naming the Base URL', async () => {
		sim.inject({ path: /bgp\/status/, malformed: true });
		const error = await get(client()).catch((e) => e);
		expect(error.message).toMatch(/not valid JSON/);
		expect(error.details.hint).toMatch(/Base URL/);
	});

	it('retries connection errors and reports the unreachable host without credentials', async () => {
		await sim.stop();
		const c = client({ ...fast, maxAttempts: 2 });
		const error = await get(c).catch((e) => e);
		expect(error.message).toMatch(
			/Could not reach Cloudflare at http:\/\/127\.0\.0\.1:\d+\/client\/v4 \(ECONNREFUSED\)/,
		);
		expect(JSON.stringify(error)).not.toContain(TOKEN);
		expect(sent).toBe(2);
	});

	describe('a write whose reply may have been lost', () => {
		const create = { method: 'POST' as const, path: statusPath, body: { advertised: true } };
		const lost = { status: 502, body: 'bad gateway' };

		it('is not sent again blindly when repeating it could create a duplicate', async () => {
			sim.inject({ method: 'POST', response: lost, times: 5 });
			const error = await client()
				.request(create)
				.catch((e) => e);
			expect(error.message).toMatch(/HTTP 502.*not repeated: the request may have taken effect/);
			expect(sent).toBe(1);
		});

		it('is answered by what it created when a look-up finds its effect', async () => {
			sim.inject({ method: 'POST', response: lost });
			const found = { id: 'created-by-the-lost-request' };
			const response = await client().request({ ...create, findEffect: async () => found });
			expect(response.body).toEqual(found);
			expect(sent).toBe(1);
		});

		it('is sent again when the look-up finds nothing, and a 429 is always retried', async () => {
			sim.inject({ method: 'POST', response: lost });
			sim.inject({
				method: 'POST',
				response: { status: 429, headers: { 'retry-after': '0' }, body: {} },
			});
			sim.inject({ method: 'POST', response: { status: 200, body: { success: true, result: 1 } } });
			let lookups = 0;
			const response = await client().request({
				...create,
				findEffect: async () => {
					lookups++;
					return undefined;
				},
			});
			expect(response.body).toEqual({ success: true, result: 1 });
			expect([sent, lookups]).toEqual([3, 1]);
		});

		it('takes a 404 to a repeated DELETE as the first one having worked', async () => {
			sim.inject({ method: 'DELETE', response: lost });
			sim.inject({ method: 'DELETE', response: { status: 404, body: { success: false } } });
			expect((await client().request({ method: 'DELETE', path: '/gone' })).status).toBe(404);
			sim.inject({ method: 'DELETE', response: { status: 404, body: { success: false } } });
			await expect(client().request({ method: 'DELETE', path: '/gone' })).rejects.toThrow();
		});
	});

	it('reads Retry-After as seconds or as an HTTP date', () => {
		expect(parseRetryAfter('2')).toBe(2000);
		expect(parseRetryAfter(new Date(10_000).toUTCString(), 4_000)).toBe(6_000);
		expect(parseRetryAfter('soon')).toBeUndefined();
	});
});
