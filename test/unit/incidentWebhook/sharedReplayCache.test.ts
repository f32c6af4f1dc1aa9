import { createHash } from 'node:crypto';
import { type AddressInfo, type Socket, connect, createServer } from 'node:net';

import Redis from 'ioredis';
import { NodeHelpers, type INodeType } from 'n8n-workflow';

import { startRedis, type Service } from '../../e2e/services';
import { callWebhook, type TriggerOptions } from '../../helpers/runWebhook';
import { SECRET, freshHeaders, sign, trigger, unixNow, webhookOptions } from './fixture';

/**
 * The Redis replay cache against a real redis-server: several n8n processes receiving one
 * trigger's requests (queue mode with webhook processes) refuse a replay any of them accepted.
 */

const PASSWORD = 'replay-cache-password-5b8e2f1c';

let server: Service;
let admin: Redis;

/** One n8n process: the trigger loaded with its own module registry, so its own process memory. */
interface N8nProcess {
	trigger: INodeType;
	clients: Map<string, Promise<Redis>>;
}
const processes: N8nProcess[] = [];

function startProcess(): N8nProcess {
	let started: N8nProcess | undefined;
	jest.isolateModules(() => {
		/* eslint-disable @typescript-eslint/no-require-imports -- a fresh registry per process */
		const node = require('../../../nodes/IncidentWebhook/IncidentWebhookTrigger.node') as {
			IncidentWebhookTrigger: new () => INodeType;
		};
		const memory = require('../../../nodes/shared/processMemory') as {
			processMemory: { webhookReplayRedis: { clients: Map<string, Promise<Redis>> } };
		};
		/* eslint-enable @typescript-eslint/no-require-imports */
		started = {
			trigger: new node.IncidentWebhookTrigger(),
			clients: memory.processMemory.webhookReplayRedis.clients,
		};
	});
	processes.push(started!);
	return started!;
}

beforeAll(async () => {
	server = await startRedis();
	admin = new Redis({ host: '127.0.0.1', port: server.port, lazyConnect: true });
	await admin.connect();
	await admin.config('SET', 'requirepass', PASSWORD);
	await admin.auth(PASSWORD);
});

/** Closes a client and waits until its socket is gone, so that Jest exits at once. */
async function close(client: Redis | undefined): Promise<void> {
	if (!client) return;
	// A client waiting to reconnect has no socket left: it ends without an 'end' event.
	const ended =
		client.status === 'ready' ? new Promise((resolve) => client.once('end', resolve)) : undefined;
	client.disconnect();
	await ended;
}

afterAll(async () => {
	for (const { clients } of processes)
		for (const client of clients.values()) await close(await client.catch(() => undefined));
	await close(admin);
	await server?.stop();
});

const event = JSON.stringify({ action: 'open', incidentId: 'INC-7', scope: '198.51.100.0/24' });

function redisCredential(password = PASSWORD, port = server.port) {
	return { host: '127.0.0.1', port, password, database: 0, ssl: false };
}

/** One trigger (one workflow, one node) as every process sees it. */
function sharedTrigger(
	replayCache: 'redis' | 'process' | undefined,
	password = PASSWORD,
	port = server.port,
) {
	const base = webhookOptions({
		replayWindow: 300,
		options: { batchWindowMs: 0, ...(replayCache ? { replayCache } : {}) },
	});
	return {
		...base,
		credentials: { ...base.credentials, redis: redisCredential(password, port) },
	} satisfies TriggerOptions;
}

const post = async (proc: N8nProcess, options: TriggerOptions, headers: Record<string, string>) =>
	await callWebhook(proc.trigger, options, {
		rawBody: event,
		headers: { 'content-type': 'application/json', ...headers },
	});

describe('Incident Webhook Trigger: replay cache in Redis, shared by n8n processes', () => {
	it('refuses in process B (409, no execution) a signed request process A accepted', async () => {
		const [a, b] = [startProcess(), startProcess()];
		const options = sharedTrigger('redis');
		const headers = freshHeaders(event);

		expect((await post(a, options, headers)).items).toHaveLength(1);
		const replay = await post(b, options, headers);

		expect(replay).toMatchObject({ status: 409, items: undefined });
		expect((replay.responseBody as { error: string }).error).toContain('already received');
		expect((await post(a, options, headers)).status).toBe(409);
	});

	it('accepts in process B the retry of a request process A could not start (n8n answered 503)', async () => {
		const [a, b] = [startProcess(), startProcess()];
		const options = sharedTrigger('redis');
		const headers = freshHeaders(event);

		expect((await post(a, { ...options, startAnswer: 503 }, headers)).status).toBe(503);
		const signed = createHash('sha256')
			.update(`${headers['X-Signature-Timestamp']}.${event}`)
			.digest('hex');
		const key = `n8n-ddos:replay:${options.workflowId}/trigger-node/${signed}`;
		// The key is removed once n8n's answer is sent; a sender retries later than that.
		for (let waited = 0; (await admin.exists(key)) === 1 && waited < 2_000; waited += 20)
			await new Promise((resolve) => setTimeout(resolve, 20));

		const retry = await post(b, options, headers);
		expect(retry.items).toHaveLength(1);
		expect((await post(a, options, headers)).status).toBe(409);
	});

	it('still accepts in process B a new signed request', async () => {
		const [a, b] = [startProcess(), startProcess()];
		const options = sharedTrigger('redis');

		expect((await post(a, options, freshHeaders(event))).status).toBe(200);
		const next = freshHeaders(event, String(Number(unixNow()) + 1));
		expect((await post(b, options, next)).items).toHaveLength(1);
	});

	it('stores only a hash of what was signed, for twice the replay window and a second', async () => {
		const proc = startProcess();
		const options = sharedTrigger('redis');
		const timestamp = unixNow();

		await post(proc, options, freshHeaders(event, timestamp));

		const signed = createHash('sha256').update(`${timestamp}.${event}`).digest('hex');
		const key = `n8n-ddos:replay:${options.workflowId}/trigger-node/${signed}`;
		// The value is the recording request's random token: nothing of the request itself.
		expect(await admin.get(key)).toMatch(
			/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/,
		);
		const ttl = await admin.pttl(key);
		expect(ttl).toBeGreaterThan(600_000 - 10_000);
		expect(ttl).toBeLessThanOrEqual(601_000);
		for (const name of await admin.keys('*'))
			expect(`${name} ${await admin.get(name)}`).not.toContain('INC-7');
	});

	it('opens one connection per process, not one per request', async () => {
		const proc = startProcess();
		const options = sharedTrigger('redis');
		const before = Number(/connected_clients:(\d+)/.exec(await admin.info('clients'))![1]);

		for (let second = 0; second < 5; second++)
			await post(proc, options, freshHeaders(event, String(Number(unixNow()) - second)));

		const after = Number(/connected_clients:(\d+)/.exec(await admin.info('clients'))![1]);
		expect(after - before).toBe(1);
	});

	it('answers 503 without the password when the credential is refused by Redis', async () => {
		const wrong = 'not-the-replay-cache-password-9d4a';
		const outcome = await post(startProcess(), sharedTrigger('redis', wrong), freshHeaders(event));

		expect(outcome).toMatchObject({ status: 503, items: undefined });
		expect((outcome.responseBody as { error: string }).error).toMatch(
			/could not reach its Redis replay cache \(WRONGPASS/,
		);
		expect(JSON.stringify([outcome.responseBody, outcome.warnings])).not.toContain(wrong);
	});
});

/**
 * A TCP proxy to the Redis server that loses Redis's answer to the first command that records a
 * request: the connection drops after Redis has run it.
 */
async function proxyLosingFirstSetAnswer() {
	let lost = false;
	const sockets = new Set<Socket>();
	const proxy = createServer((client) => {
		const upstream = connect(server.port, '127.0.0.1');
		let recordSent = false;
		for (const socket of [client, upstream]) {
			sockets.add(socket);
			socket.on('error', () => undefined);
			socket.on('close', () => [client, upstream].forEach((s) => s.destroy()));
		}
		client.on('data', (chunk: Buffer) => {
			if (/\r\n(EVAL|SET)\r\n/i.test(chunk.toString())) recordSent = true;
			upstream.write(chunk);
		});
		upstream.on('data', (chunk: Buffer) => {
			if (recordSent && !lost) {
				lost = true;
				client.destroy();
				return;
			}
			client.write(chunk);
		});
	});
	await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
	return {
		port: (proxy.address() as AddressInfo).port,
		lostOne: () => lost,
		async close() {
			for (const socket of sockets) socket.destroy();
			await new Promise((resolve) => proxy.close(resolve));
		},
	};
}

describe('Incident Webhook Trigger: Redis answer lost after Redis recorded the request', () => {
	it('accepts the request once: the command ioredis sends again finds its own record', async () => {
		const proxy = await proxyLosingFirstSetAnswer();
		try {
			const proc = startProcess();
			const options = sharedTrigger('redis', PASSWORD, proxy.port);
			const headers = freshHeaders(event);

			const first = await post(proc, options, headers);
			expect(proxy.lostOne()).toBe(true);
			expect(first.status).toBe(200);
			expect(first.items).toHaveLength(1);
			expect((await post(proc, options, headers)).status).toBe(409);
		} finally {
			for (const client of processes.at(-1)!.clients.values())
				await close(await client.catch(() => undefined));
			await proxy.close();
		}
	});
});

describe('Incident Webhook Trigger: replay cache in this n8n process (the default)', () => {
	it('accepts in process B a replay of what process A accepted: why the Redis cache exists', async () => {
		const [a, b] = [startProcess(), startProcess()];
		const options = sharedTrigger(undefined);
		const headers = freshHeaders(event);

		expect((await post(a, options, headers)).status).toBe(200);
		expect((await post(b, options, headers)).items).toHaveLength(1);
		expect((await post(a, options, headers)).status).toBe(409);
	});

	it('lists the Redis credential only when the Redis replay cache is chosen', () => {
		const redis = trigger.description.credentials!.find(({ name }) => name === 'redis')!;
		const shown = (parameters: Record<string, unknown>) =>
			NodeHelpers.displayParameter(parameters as never, redis, null, null);

		const hmac = { authentication: 'hmacSignature', freshness: 'required' };

		expect(redis.required).toBe(false);
		expect(shown({ ...hmac, options: { replayCache: 'redis' } })).toBe(true);
		expect(shown({ ...hmac, options: { replayCache: 'process' } })).toBe(false);
		expect(shown({ ...hmac, options: {} })).toBe(false);
		// Only HMAC with a timestamp has replays to refuse.
		expect(shown({ ...hmac, freshness: 'off', options: { replayCache: 'redis' } })).toBe(false);
	});
});

describe('Incident Webhook Trigger: Redis replay cache unreachable', () => {
	it('answers 503 and starts nothing, in a connected process and a new one', async () => {
		const connected = startProcess();
		const options = sharedTrigger('redis');
		expect((await post(connected, options, freshHeaders(event))).status).toBe(200);

		await server.stop();

		const later = freshHeaders(event, String(Number(unixNow()) + 1));
		for (const proc of [connected, startProcess()]) {
			const outcome = await post(proc, options, later);
			expect(outcome).toMatchObject({ status: 503, items: undefined });
			const error = (outcome.responseBody as { error: string }).error;
			expect(error).toContain('could not reach its Redis replay cache');
			expect(error).toContain('the sender retries');
			expect(JSON.stringify([outcome.responseBody, outcome.warnings])).not.toContain(PASSWORD);
		}
	});

	it('is not asked when the trigger has no replays to refuse (Replay Protection off)', async () => {
		await server.stop();
		const options = webhookOptions({ freshness: 'off', options: { replayCache: 'redis' } });
		options.credentials!.redis = redisCredential();

		const outcome = await post(startProcess(), options, { 'X-Signature-256': sign(SECRET, event) });

		expect(outcome.items).toHaveLength(1);
	});
});
