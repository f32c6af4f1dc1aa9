import { createHash } from 'node:crypto';

import { OvhMitigationApi } from '../../../credentials/OvhMitigationApi.credentials';
import { ovhSignature, signOvhRequest } from '../../../nodes/Ovh/signature';
import { rateLimited, rl, simulatorPerTest } from '../../helpers/fixture';
import {
	continueOnFailOutput,
	failureOf,
	jsonOf,
	runNode,
	sendWithCredential,
} from '../../helpers/runNode';
import { ALL_RULES } from '../../simulators/ovh';
import {
	APP_KEY,
	APP_SECRET,
	BLOCK,
	CONSUMER_KEY,
	IP,
	ovhCredentials,
	addUsersFirewall,
	ovhRun,
	params,
	startOvh,
} from './fixture';
import { restartableNode } from '../../simulators/restart';

/** A fresh node per test; `node.restart()` plays an n8n restart (no process-wide records). */
const node = restartableNode('Ovh/OvhDdosProtection.node', 'OvhDdosProtection');
const sim = simulatorPerTest(startOvh);

const failure = (run: ReturnType<typeof ovhRun>) => failureOf(node, run);

describe('OVH signing', () => {
	it('signs "$1$" + SHA-1 over secret, consumer key, method, full URL, body and timestamp', () => {
		const url = 'https://eu.api.ovh.com/1.0/ip/203.0.113.0%2F24/firewall';
		const body = '{"ipOnFirewall":"203.0.113.10"}';
		const expected =
			'$1$' + createHash('sha1').update(`AS+CK+POST+${url}+${body}+1700000000`).digest('hex');
		expect(
			ovhSignature({
				applicationSecret: 'AS',
				consumerKey: 'CK',
				method: 'post',
				url,
				body,
				timestamp: '1700000000',
			}),
		).toBe(expected);
	});

	it('puts the query string into the signed URL and sends the exact signed body', async () => {
		const signed = await signOvhRequest(ovhCredentials(sim), {
			method: 'POST',
			url: `${sim.baseUrl}/ip/${encodeURIComponent(BLOCK)}/firewall`,
			qs: { state: 'ok' },
			body: { ipOnFirewall: IP },
			headers: { 'X-Ovh-Timestamp': '1700000000' },
		});
		expect(signed.url).toBe(`${sim.baseUrl}/ip/203.0.113.0%2F24/firewall?state=ok`);
		expect(signed.qs).toBeUndefined();
		expect(signed.body).toBe('{"ipOnFirewall":"203.0.113.10"}');
		expect(signed.headers).toMatchObject({
			'X-Ovh-Application': APP_KEY,
			'X-Ovh-Consumer': CONSUMER_KEY,
			'Content-Type': 'application/json',
		});
		expect((signed.headers as Record<string, string>)['X-Ovh-Signature']).toBe(
			ovhSignature({
				applicationSecret: APP_SECRET,
				consumerKey: CONSUMER_KEY,
				method: 'POST',
				url: signed.url,
				body: signed.body as string,
				timestamp: '1700000000',
			}),
		);
	});

	it('signs every request, with the server-time offset read once per endpoint', async () => {
		await runNode(node, ovhRun(sim, params('activate')));
		await runNode(node, ovhRun(sim, params('withdraw')));
		expect(sim.verifiedSignatures).toBe(sim.log.filter((r) => r.path !== '/auth/time').length);
		expect(sim.log.filter((r) => r.path === '/auth/time')).toHaveLength(1);
	});

	it('signs the credential test request (no timestamp given) with OVH server time', async () => {
		const type = new OvhMitigationApi();
		const response = await sendWithCredential<{ status: string }>(type, ovhCredentials(sim), {
			...type.test.request,
			method: 'GET',
		} as never);
		expect(response.statusCode).toBe(200);
		expect(response.body.status).toBe('validated');
		expect(sim.log.map((r) => r.path)).toEqual(['/auth/time', '/auth/currentCredential']);
	});

	it('uses the endpoint chosen in the credential when Base URL is empty', async () => {
		const signed = await signOvhRequest(
			{
				endpoint: 'ovh-ca',
				applicationKey: 'a',
				applicationSecret: 'b',
				consumerKey: 'c',
				baseUrl: '',
			},
			{ url: '/auth/time', method: 'GET' },
		);
		expect(signed.url).toBe('https://ca.api.ovh.com/1.0/auth/time');
	});
});

describe('OVH simulator: the retired permanent mitigation', () => {
	it('still answers POST /ip/{block}/mitigation; nothing filters or scrubs the IP', async () => {
		const rules = [...ALL_RULES, 'POST /ip/*/mitigation'];
		sim.addConsumerKey(CONSUMER_KEY, { applicationKey: APP_KEY, rules });
		const type = new OvhMitigationApi();
		const response = await sendWithCredential(type, ovhCredentials(sim), {
			method: 'POST',
			url: `${sim.baseUrl}/ip/${encodeURIComponent(BLOCK)}/mitigation`,
			body: { ipOnMitigation: IP },
		});
		expect(response.statusCode).toBe(200);
		expect(response.body).toMatchObject({ ipOnMitigation: IP, permanent: true });
		expect(sim.retiredMitigationPosts).toBe(1);
		expect(sim.mitigation(BLOCK, IP)).toBeUndefined();
		expect(sim.edgeFiltering(BLOCK, IP)).toBe(false);
	});
});

describe('OVH errors, each with its own message', () => {
	it('NOT_GRANTED_CALL names the missing access rule and lists every needed one', async () => {
		sim.addConsumerKey(CONSUMER_KEY, {
			applicationKey: APP_KEY,
			rules: ['GET /ip', 'GET /ip/*', 'POST /ip/*/firewall', 'DELETE /ip/*/firewall/*'],
		});
		const error = await failure(ovhRun(sim, params('activate')));
		expect(error.message).toMatch(
			/OVH has not granted this call to the consumer key \(NOT_GRANTED_CALL/,
		);
		expect(error.message).toContain(
			`PUT /ip/${BLOCK}/firewall/${IP} needs the access rule "PUT /ip/*/firewall/*"`,
		);
		expect(error.description).toContain('Missing access rule: PUT /ip/*/firewall/*.');
		expect(error.description).toContain(
			'GET /ip, GET /ip/*, POST /ip/*/firewall, PUT /ip/*/firewall/*, DELETE /ip/*/firewall/*, ' +
				'POST /ip/*/firewall/*/rule, DELETE /ip/*/firewall/*/rule/*',
		);
		expect(error.description).toMatch(/forgetting GET \/ip without the wildcard/);
	});

	it('NOT_GRANTED_CALL on a rule deletion names the rule-deletion access rule', async () => {
		sim.addConsumerKey(CONSUMER_KEY, {
			applicationKey: APP_KEY,
			rules: ['GET /ip', 'GET /ip/*', 'PUT /ip/*/firewall/*', 'POST /ip/*/firewall/*/rule'],
		});
		addUsersFirewall(sim, true);
		const error = await failure(ovhRun(sim, params('activate', { mode: 'lockdown' })));
		expect(error.message).toMatch(
			/needs the access rule "DELETE \/ip\/\*\/firewall\/\*\/rule\/\*"/,
		);
		expect(sim.writes()).toHaveLength(0);
	});

	it('a wrong application secret is INVALID_SIGNATURE, after one server-time re-sync', async () => {
		const run = ovhRun(sim, params('getStatus'));
		run.credentials.ovhMitigationApi.applicationSecret = 'wrong-secret';
		const error = await failure(run);
		expect(error.message).toMatch(/OVH rejected the request signature \(INVALID_SIGNATURE\)/);
		expect(error.description).toMatch(/Application Secret/);
		expect(sim.log.map((r) => `${r.path} ${r.status}`)).toEqual([
			'/auth/time 200',
			`/ip/${BLOCK}/firewall 400`,
			'/auth/time 200',
			`/ip/${BLOCK}/firewall 400`,
		]);
	});

	it('an unknown consumer key is its own message and is not retried', async () => {
		const run = ovhRun(sim, params('getStatus'));
		run.credentials.ovhMitigationApi.consumerKey = 'unknownConsumerKey';
		const error = await failure(run);
		expect(error.message).toMatch(/OVH does not accept this consumer key/);
		expect(sim.log.filter((r) => r.status === 403)).toHaveLength(1);
	});

	it('a consumer key that was never validated is reported as not accepted', async () => {
		sim.addConsumerKey(CONSUMER_KEY, { applicationKey: APP_KEY, status: 'pendingValidation' });
		const error = await failure(ovhRun(sim, params('getStatus')));
		expect(error.message).toMatch(/OVH does not accept this consumer key/);
		expect(error.description).toMatch(/validate it/);
	});

	it('an unknown application key (or the wrong endpoint) is its own message', async () => {
		const run = ovhRun(sim, params('getStatus'));
		run.credentials.ovhMitigationApi.applicationKey = 'otherAppKey';
		const error = await failure(run);
		expect(error.message).toBe('OVH rejected the application key');
		expect(error.description).toMatch(/Endpoint matches the region/);
	});

	it('an IP block that is not in the account is "could not find", not "inactive"', async () => {
		const error = await failure(
			ovhRun(sim, params('getStatus', { ipBlock: rl('192.0.2.0/24'), ip: '192.0.2.1' })),
		);
		expect(error.message).toMatch(
			/OVH could not find it: The requested object \(ip = 192.0.2.0\/24\) does not exist/,
		);
		expect(error.description).toMatch(/exactly as OVH lists it/);
		expect(error.httpCode).toBe('404');
	});

	it('a clock that drifts after the offset was read is cured by one re-sync', async () => {
		await runNode(node, ovhRun(sim, params('getStatus')));
		sim.clockOffsetS += 600;
		const [status] = jsonOf(await runNode(node, ovhRun(sim, params('getStatus'))));
		expect(status).toMatchObject({ active: false });
		expect(sim.log.filter((r) => r.path === '/auth/time')).toHaveLength(2);
		expect(sim.log.filter((r) => r.status === 400)).toHaveLength(1);
	});

	it('QUERY_TIME_OUT that a re-sync does not cure explains the clock', async () => {
		sim.inject({
			path: /^\/ip\//,
			times: 2,
			response: {
				status: 400,
				body: {
					errorCode: 'QUERY_TIME_OUT',
					httpCode: '400 Bad Request',
					message: 'Query out of time',
				},
			},
		});
		const error = await failure(ovhRun(sim, params('getStatus')));
		expect(error.message).toMatch(/QUERY_TIME_OUT.*even after re-reading the server time/);
		expect(error.description).toMatch(/NTP/);
	});

	it('never puts the secrets in output items or errors', async () => {
		sim.addConsumerKey(CONSUMER_KEY, { applicationKey: APP_KEY, rules: ['GET /ip/*'] });
		const output = await continueOnFailOutput(node, ovhRun(sim, params('activate')));
		expect(output).toMatch(/NOT_GRANTED_CALL/);
		for (const secret of [APP_SECRET, CONSUMER_KEY, APP_KEY]) expect(output).not.toContain(secret);
	});
});

describe('OVH fault injection', () => {
	const quick = { requestOptions: { maxAttempts: 3, maxRetryTime: 10 } };

	it('retries a 429 after Retry-After and completes the activation', async () => {
		sim.inject(rateLimited('POST', { message: 'Too many requests' }));
		const [result] = jsonOf(await runNode(node, ovhRun(sim, params('activate', quick))));
		expect(result).toMatchObject({ active: true, changed: true });
		expect(sim.log.filter((r) => r.method === 'POST').map((r) => r.status)).toEqual([429, 200]);
	});

	it('retries 5xx (and an HTML gateway page) and signs each attempt afresh', async () => {
		sim.inject({
			path: /mitigation\/203/,
			response: { status: 503, body: { message: 'Service Unavailable' } },
		});
		sim.inject({ path: /mitigation\/203/, malformed: true, response: { status: 502 } });
		const [status] = jsonOf(await runNode(node, ovhRun(sim, params('getStatus', quick))));
		expect(status).toMatchObject({ active: false });
		expect(sim.log.filter((r) => r.path.includes('/mitigation/')).map((r) => r.status)).toEqual([
			503, 502, 404,
		]);
	});

	it('gives up after Max Attempts on a persistent 500 and says so', async () => {
		sim.inject({
			path: /^\/ip\//,
			times: 10,
			response: {
				status: 500,
				body: { class: 'Server::InternalServerError', message: 'Internal server error' },
			},
		});
		const error = await failure(
			ovhRun(sim, params('getStatus', { requestOptions: { maxAttempts: 2 } })),
		);
		expect(error.message).toMatch(
			/OVH answered HTTP 500: Internal server error.*gave up after 2 attempts/,
		);
	});

	it('retries a request that timed out', async () => {
		sim.inject({ path: /^\/ip\/[^/]+\/24$/, delayMs: 1500 });
		const [status] = jsonOf(
			await runNode(
				node,
				ovhRun(sim, params('getStatus', { requestOptions: { maxAttempts: 3, timeout: 1 } })),
			),
		);
		expect(status).toMatchObject({ active: false });
	});

	it(
		'a lost reply to the POST (5xx after OVH applied it) ends with the firewall created once ' +
			'and enabled',
		async () => {
			sim.inject({
				method: 'POST',
				afterHandler: true,
				response: { status: 502, body: 'bad gateway' },
			});
			const [result] = jsonOf(await runNode(node, ovhRun(sim, params('activate', quick))));
			expect(result).toMatchObject({ active: true, changed: true });
			expect(sim.log.filter((r) => r.method === 'POST').map((r) => r.status)).toEqual([502, 409]);
			expect(sim.edgeFiltering(BLOCK, IP)).toBe(true);
		},
	);
});
