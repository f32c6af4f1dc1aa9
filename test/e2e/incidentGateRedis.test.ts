import type { IDataObject } from 'n8n-workflow';

import { IncidentGate } from '../../nodes/IncidentGate/IncidentGate.node';
import { DEFAULT_SETTINGS, decide, type GateEvent } from '../../nodes/IncidentGate/stateMachine';
import { RedisStore } from '../../nodes/IncidentGate/store/redisStore';
import {
	RedisConnection,
	RedisReplyError,
	redisConnection,
	type RedisConnectionOptions,
} from '../../nodes/IncidentGate/store/respClient';
import { runNode } from '../helpers/runNode';
import { startRedis, type Service } from './services';

/** The Redis store and its RESP client against a real redis-server from Debian. */

let redis: Service;
let admin: RedisConnection;
const options = (extra: Partial<RedisConnectionOptions> = {}): RedisConnectionOptions => ({
	host: '127.0.0.1',
	port: redis.port,
	database: 0,
	ssl: false,
	...extra,
});

beforeAll(async () => {
	redis = await startRedis();
	admin = await RedisConnection.open(options());
});

afterAll(async () => {
	admin?.close();
	await redis?.stop();
});

/** Runs one event through a store and returns the transition. */
async function feed(store: RedisStore, scope: string, event: GateEvent) {
	return await store.update(scope, (state, now) => {
		const decision = decide(state, event, now, DEFAULT_SETTINGS);
		return { state: decision.state, result: decision.transition };
	});
}

describe('RESP client', () => {
	it('authenticates with user and password, selects the database, and reports error replies', async () => {
		await admin.command(['ACL', 'SETUSER', 'gate', 'on', '>s3cret', '~*', '+@all']);
		const connection = await RedisConnection.open(
			options({ user: 'gate', password: 's3cret', database: 3 }),
		);
		await connection.command(['SET', 'where-am-i', 'db3']);
		expect(await admin.command(['GET', 'where-am-i'])).toBeNull();
		await admin.command(['SELECT', 3]);
		expect(await admin.command(['GET', 'where-am-i'])).toBe('db3');
		await admin.command(['SELECT', 0]);
		await expect(connection.command(['NOSUCHCOMMAND'])).rejects.toBeInstanceOf(RedisReplyError);
		expect(await connection.command(['PING'])).toBe('PONG');
		connection.close();
	});

	it("refuses a wrong password with Redis's own message", async () => {
		await expect(
			RedisConnection.open(options({ user: 'gate', password: 'wrong' })),
		).rejects.toThrow(/WRONGPASS/);
	});

	it('reuses one connection per server and credential, and replaces it once it broke', async () => {
		const first = await redisConnection(options({ database: 5 }));
		expect(await redisConnection(options({ database: 5 }))).toBe(first);
		first.close();
		const second = await redisConnection(options({ database: 5 }));
		expect(second).not.toBe(first);
		expect(await second.command(['PING'])).toBe('PONG');
	});

	it('carries large and non-ASCII values intact', async () => {
		const value = `${'x'.repeat(300_000)} Überlast 攻撃`;
		await admin.command(['SET', 'big', value]);
		expect(await admin.command(['GET', 'big'])).toBe(value);
	});
});

describe('Redis store', () => {
	it('is exact when many processes decide on one scope at once: one Activate, one Withdraw', async () => {
		// Separate connections stand for separate n8n workers.
		const workers = await Promise.all([1, 2, 3, 4].map(() => RedisConnection.open(options())));
		const stores = workers.map((connection) => new RedisStore(connection, 'storm'));
		const ids = Array.from({ length: 200 }, (_, i) => `inc-${i}`);

		const opens = await Promise.all(
			ids.map((id, i) =>
				feed(stores[i % stores.length], 'global', { type: 'open', incidentId: id }),
			),
		);
		expect(opens.filter((t) => t === 'activate')).toHaveLength(1);
		expect((await stores[0].read('global'))?.open).toHaveLength(200);

		const resolves = await Promise.all(
			ids.map((id, i) =>
				feed(stores[(i + 1) % stores.length], 'global', { type: 'resolve', incidentId: id }),
			),
		);
		expect(resolves.filter((t) => t === 'withdraw')).toHaveLength(1);
		expect(resolves.indexOf('withdraw')).toBeGreaterThanOrEqual(0);
		expect((await stores[0].read('global'))?.status).toBe('idle');
		for (const connection of workers) connection.close();
	});

	it('lists scopes with state and forgets a scope that has nothing left', async () => {
		const store = new RedisStore(admin, 'listing');
		await feed(store, 'a', { type: 'open', incidentId: '1' });
		await feed(store, 'b', { type: 'open', incidentId: '2' });
		expect(await store.scopes()).toEqual(['a', 'b']);
		await feed(store, 'b', { type: 'reset' });
		expect(await store.scopes()).toEqual(['a']);
		expect(await admin.command(['EXISTS', '{listing}:scope:b'])).toBe(0);
	});

	it('reloads its scripts when Redis has flushed the script cache (EVALSHA falls back to EVAL)', async () => {
		const store = new RedisStore(admin, 'flushed');
		await admin.command(['SCRIPT', 'FLUSH']);
		expect(await feed(store, 'global', { type: 'open', incidentId: 'x' })).toBe('activate');
	});

	it('keeps gates with different keys apart', async () => {
		expect(
			await feed(new RedisStore(admin, 'gate-one'), 'global', { type: 'open', incidentId: 'x' }),
		).toBe('activate');
		expect(
			await feed(new RedisStore(admin, 'gate-two'), 'global', { type: 'open', incidentId: 'x' }),
		).toBe('activate');
	});
});

describe('Incident Gate node on the Redis store', () => {
	const node = new IncidentGate();
	const run = async (
		gateKey: string,
		items: IDataObject[],
		workflowId: string,
		continueOnFail = false,
		port?: number,
	) =>
		await runNode(node, {
			parameters: { operation: 'event', store: 'redis', gateKey, scope: 'edge' },
			itemParameters: items.map((json) => ({ action: json.action, incidentId: json.incidentId })),
			items: items.map((json) => ({ json })),
			credentials: {
				redis: {
					host: '127.0.0.1',
					port: port ?? redis.port,
					password: '',
					user: '',
					database: 0,
					ssl: false,
				},
			},
			credentialTypes: [],
			continueOnFail,
			workflowId,
		});

	it('shares one gate between workflows through the gate key', async () => {
		const first = await run('shared-gate', [{ action: 'open', incidentId: 'a' }], 'workflow-A');
		const second = await run('shared-gate', [{ action: 'open', incidentId: 'b' }], 'workflow-B');
		expect(first.output[0]).toEqual([
			expect.objectContaining({
				json: expect.objectContaining({ scope: 'edge', transition: 'activate' }),
			}),
		]);
		expect(second.output[2]).toEqual([
			expect.objectContaining({
				json: expect.objectContaining({ reason: 'incidentOpened', openIncidents: 2 }),
			}),
		]);
		expect(second.output[0][0]?.json.storeWarning).toBeUndefined();
		const resolved = await run(
			'shared-gate',
			[
				{ action: 'resolve', incidentId: 'a' },
				{ action: 'resolve', incidentId: 'b' },
			],
			'workflow-A',
		);
		expect(resolved.output[1]).toHaveLength(1);
	});

	it('fails the item with a clear error when Redis cannot be reached', async () => {
		await expect(
			run('unreachable', [{ action: 'open', incidentId: 'a' }], 'workflow-C', false, 1),
		).rejects.toThrow(/refused the connection/);
	});

	it('answers the credential test with a PING', async () => {
		const test = node.methods.credentialTest.incidentGateRedisTest;
		const ok = await test.call({} as never, {
			id: '1',
			name: 'r',
			type: 'redis',
			data: { host: '127.0.0.1', port: redis.port },
		});
		expect(ok.status).toBe('OK');
		const bad = await test.call({} as never, {
			id: '1',
			name: 'r',
			type: 'redis',
			data: { host: '127.0.0.1', port: 1 },
		});
		expect(bad.status).toBe('Error');
	});
});
