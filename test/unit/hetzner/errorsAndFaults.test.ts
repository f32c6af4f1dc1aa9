import { HetznerRobotMitigationApi } from '../../../credentials/HetznerRobotMitigationApi.credentials';
import {
	continueOnFailOutput,
	failureOf,
	jsonOf,
	runNode,
	sendWithCredential,
} from '../../helpers/runNode';
import { operationParams, rl, simulatorPerTest } from '../../helpers/fixture';
import {
	PASSWORD,
	RULES,
	SERVER,
	USER,
	hetznerCredentials,
	hetznerRun,
	startHetzner,
} from './fixture';
import { restartableNode } from '../../simulators/restart';

/** A fresh node per test; `node.restart()` plays an n8n restart (no process-wide records). */
const node = restartableNode('Hetzner/HetznerRobotFirewall.node', 'HetznerRobotFirewall');
const sim = simulatorPerTest(startHetzner);

const params = operationParams(() => ({ server: rl(SERVER) }));
const failure = (run: ReturnType<typeof hetznerRun>) => failureOf(node, run);
const robotError = (status: number, code: string, message: string) => ({
	status,
	body: { error: { status, code, message } },
});

describe('Hetzner Robot errors, each with its own message', () => {
	it(
		'a wrong login (e.g. Hetzner Cloud credentials) explains the ' +
			'#ws+ webservice user and is sent only once',
		async () => {
			const run = hetznerRun(sim, params('activate', { requestOptions: { maxAttempts: 5 } }));
			run.credentials.hetznerRobotMitigationApi = hetznerCredentials(sim, {
				username: 'cloud-api-token-user',
			});
			const error = await failure(run);
			expect(error.message).toBe('Hetzner Robot rejected the login (401)');
			expect(error.description).toMatch(/starts with #ws\+/);
			expect(error.description).toMatch(/Hetzner Cloud API tokens .* do not work with Robot/);
			expect(error.description).toMatch(/three failed logins block/);
			expect(sim.failedLogins).toBe(1);
		},
	);

	it('an unknown server number says to use the server number or main IPv4', async () => {
		const error = await failure(hetznerRun(sim, params('getStatus', { server: rl(999) })));
		expect(error.message).toMatch(
			/Hetzner Robot has no such server in this account \(SERVER_NOT_FOUND\)/,
		);
		expect(error.description).toMatch(
			/server number shown in Robot .* or the server's main IPv4 address, not a failover/,
		);
	});

	it(
		"an IPv4 that is no server's main IPv4 (a failover IP) says " +
			'the same, before any firewall call',
		async () => {
			const error = await failure(
				hetznerRun(sim, params('activate', { server: rl('203.0.113.99') })),
			);
			expect(error.message).toBe(
				'Hetzner Robot has no server whose main IPv4 is 203.0.113.99 in this account',
			);
			expect(error.description).toMatch(/not a failover/);
			expect(sim.log.map((r) => r.path)).toEqual(['/server']);
		},
	);

	it('a server without the Robot firewall is FIREWALL_NOT_AVAILABLE', async () => {
		sim.addServer(777, '192.0.2.77', null);
		const error = await failure(hetznerRun(sim, params('getStatus', { server: rl(777) })));
		expect(error.message).toMatch(
			/firewall is not available for this server \(FIREWALL_NOT_AVAILABLE\)/,
		);
	});

	it('the credential test reads /server and fails on a wrong password', async () => {
		const type = new HetznerRobotMitigationApi();
		const send = (password: string) =>
			sendWithCredential(type, hetznerCredentials(sim, { password }), {
				baseURL: sim.baseUrl,
				url: type.test.request.url!,
			});
		expect((await send(PASSWORD)).statusCode).toBe(200);
		expect((await send('wrong')).statusCode).toBe(401);
	});

	it('never puts the password in output items or errors', async () => {
		sim.addUser(USER, 'changed-password');
		const output = await continueOnFailOutput(node, hetznerRun(sim, params('activate')));
		expect(output).toMatch(/rejected the login/);
		expect(output).not.toContain(PASSWORD);
	});
});

describe('Hetzner Robot fault injection', () => {
	it('retries 409 FIREWALL_IN_PROCESS with backoff, then applies every rule', async () => {
		sim.inject({
			method: 'POST',
			times: 2,
			response: robotError(
				409,
				'FIREWALL_IN_PROCESS',
				'The firewall cannot be updated because an update is in process',
			),
		});
		const [result] = jsonOf(
			await runNode(
				node,
				hetznerRun(sim, params('activate', { requestOptions: { maxAttempts: 4 } })),
			),
		);
		expect(result).toMatchObject({ active: true, changed: true });
		expect(sim.log.filter((r) => r.method === 'POST').map((r) => r.status)).toEqual([
			409, 409, 200,
		]);
		expect(sim.firewall(SERVER).rules).toEqual(RULES);
	});

	it('gives up on a firewall that stays in process and says why', async () => {
		sim.inject({
			method: 'POST',
			times: 5,
			response: robotError(409, 'FIREWALL_IN_PROCESS', 'in process'),
		});
		const error = await failure(
			hetznerRun(sim, params('activate', { requestOptions: { maxAttempts: 2 } })),
		);
		expect(error.message).toMatch(
			/still applying an earlier firewall change \(FIREWALL_IN_PROCESS\).*gave up after 2 attempts/,
		);
	});

	it('treats 403 RATE_LIMIT_EXCEEDED as a rate limit: retried after Retry-After', async () => {
		sim.inject({
			path: /^\/firewall/,
			response: {
				...robotError(403, 'RATE_LIMIT_EXCEEDED', 'Rate limit exceeded'),
				headers: { 'retry-after': '0' },
			},
		});
		const [status] = jsonOf(await runNode(node, hetznerRun(sim, params('getStatus'))));
		expect(status).toMatchObject({ active: false });
		expect(sim.log.map((r) => r.status)).toEqual([403, 200]);
	});

	it('explains a rate limit that does not clear', async () => {
		sim.inject({
			path: /^\/firewall/,
			times: 5,
			response: {
				...robotError(403, 'RATE_LIMIT_EXCEEDED', 'Rate limit exceeded'),
				headers: { 'retry-after': '0' },
			},
		});
		const error = await failure(
			hetznerRun(sim, params('getStatus', { requestOptions: { maxAttempts: 2 } })),
		);
		expect(error.message).toMatch(/Hetzner Robot rate limit reached \(RATE_LIMIT_EXCEEDED\)/);
	});

	it('retries 429 and 5xx answers', async () => {
		sim.inject({
			path: /^\/firewall/,
			response: { status: 429, headers: { 'retry-after': '0' }, body: {} },
		});
		sim.inject({
			path: /^\/firewall/,
			response: { status: 502, body: '<html>bad gateway</html>' },
		});
		const [status] = jsonOf(
			await runNode(
				node,
				hetznerRun(sim, params('getStatus', { requestOptions: { maxAttempts: 3 } })),
			),
		);
		expect(status).toMatchObject({ status: 'disabled' });
	});

	it('retries a read that timed out', async () => {
		sim.inject({ path: /^\/firewall/, delayMs: 1500 });
		const [status] = jsonOf(
			await runNode(
				node,
				hetznerRun(sim, params('getStatus', { requestOptions: { maxAttempts: 2, timeout: 1 } })),
			),
		);
		expect(status).toMatchObject({ status: 'disabled' });
	});

	it(
		'a lost reply to the POST is retried into ' +
			'FIREWALL_IN_PROCESS and then settles with the rules intact',
		async () => {
			sim.settleAfterReads = 0;
			sim.inject({
				method: 'POST',
				afterHandler: true,
				response: { status: 504, body: 'gateway timeout' },
			});
			sim.inject({
				method: 'POST',
				response: robotError(409, 'FIREWALL_IN_PROCESS', 'in process'),
			});
			const [result] = jsonOf(
				await runNode(
					node,
					hetznerRun(sim, params('activate', { requestOptions: { maxAttempts: 4 } })),
				),
			);
			expect(result).toMatchObject({ active: true, changed: true });
			expect(sim.firewall(SERVER).rules).toEqual(RULES);
		},
	);

	it('refuses to report success when Robot did not keep the rules', async () => {
		sim.afterPost = (firewall) => firewall.rules.input.pop();
		const error = await failure(hetznerRun(sim, params('activate')));
		expect(error.message).toBe(
			'Hetzner Robot did not keep the firewall rules of server 321 ' +
				'when its status was set to active',
		);
		expect(error.description).toMatch(/restore it there. Before: .*"name":"drop rest"/);
	});
});
