import { createServer, type AddressInfo } from 'node:net';

import fc from 'fast-check';
import Redis from 'ioredis';
import type { IDataObject } from 'n8n-workflow';

import { IncidentGate } from '../../../nodes/IncidentGate/IncidentGate.node';
import {
	DEFAULT_SETTINGS,
	type GateEvent,
	type GateSettings,
} from '../../../nodes/IncidentGate/stateMachine';
import type { Applied } from '../../../nodes/IncidentGate/store/gateStore';
import {
	createGateClient,
	RedisStore,
	type GateRedis,
	type RedisOptions,
} from '../../../nodes/IncidentGate/store/redisStore';
import { StaticDataStore } from '../../../nodes/IncidentGate/store/staticDataStore';
import { startRedis, type Service } from '../../e2e/services';
import { runNode } from '../../helpers/runNode';

/**
 * The Redis store (Lua decider) against a real redis-server from Debian, and against the TypeScript
 * decider.
 */

const SECOND = 1000;
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
/** Far ahead of the Redis server's clock, so the clock the test drives is the gate clock. */
const BASE = Date.now() + 10 * 365 * 24 * HOUR;

let server: Service;
let admin: GateRedis;
const options = (): RedisOptions => ({
	host: '127.0.0.1',
	port: server.port,
	db: 0,
	tls: false,
	rejectUnauthorized: true,
});

beforeAll(async () => {
	server = await startRedis();
	admin = await createGateClient(options());
});

afterAll(async () => {
	await admin?.quit();
	await server?.stop();
});

let gateCounter = 0;
const nextGateKey = () => `gate-${++gateCounter}`;

/** What both deciders must agree on for one decision. */
const summary = ({ scope, decision }: Applied) => ({
	scope,
	transition: decision.transition,
	reason: decision.reason,
	status: decision.state?.status ?? 'forgotten',
	unresolved: (decision.state?.open ?? 0) + (decision.state?.overflow ?? 0),
	overflow: decision.state?.overflow ?? 0,
	confirmed: !decision.state?.pending,
	withdrawDueAt: decision.state?.withdrawDueAt,
	expired: [...(decision.expiredIncidentIds ?? [])].sort(),
});

describe('the Lua decider agrees with the TypeScript decider', () => {
	type Step =
		| { kind: 'open' | 'resolve' | 'update'; id: string; scope: string; at?: number }
		| { kind: 'confirm'; scope: string; active: boolean | undefined }
		| { kind: 'hold' | 'release' | 'reset'; scope: string }
		| { kind: 'tick' };
	const scopeArb = fc.constantFrom('edge', 'core');
	const stepArb: fc.Arbitrary<Step> = fc.oneof(
		{
			weight: 12,
			arbitrary: fc.record({
				kind: fc.constantFrom<'open' | 'resolve' | 'update'>('open', 'resolve', 'update'),
				id: fc.constantFrom('a', 'b', 'c', 'd'),
				scope: scopeArb,
				at: fc.option(fc.nat({ max: 100 * SECOND }), { nil: undefined }),
			}),
		},
		{
			weight: 3,
			arbitrary: fc.record({
				kind: fc.constant<'confirm'>('confirm'),
				scope: scopeArb,
				active: fc.constantFrom(true, false, undefined),
			}),
		},
		{
			weight: 1,
			arbitrary: fc.record({
				kind: fc.constantFrom<'hold' | 'release' | 'reset'>('hold', 'release', 'reset'),
				scope: scopeArb,
			}),
		},
		{ weight: 4, arbitrary: fc.constant<Step>({ kind: 'tick' }) },
	);
	const settingsArb: fc.Arbitrary<GateSettings> = fc.record({
		minActiveMs: fc.constantFrom(0, MINUTE),
		withdrawDelayMs: fc.constantFrom(0, 2 * MINUTE),
		maxIncidentAgeMs: fc.constantFrom(0, 5 * MINUTE),
		resolveMemoryMs: fc.constantFrom(0, 3 * MINUTE),
		maxOpenIncidents: fc.constantFrom(2, 1000),
		reemitIntervalMs: fc.constantFrom(MINUTE),
		maxReemits: fc.constantFrom(0, 2),
	});

	function toEvent(step: Exclude<Step, { kind: 'tick' }>, now: number): GateEvent {
		if (step.kind === 'confirm') return { type: 'confirm', active: step.active };
		if (!('id' in step)) return { type: step.kind };
		return { type: step.kind, incidentId: step.id, at: BASE + (step.at ?? now) };
	}

	it('on the same random sequences, step by step', async () => {
		await fc.assert(
			fc.asyncProperty(
				fc.array(fc.tuple(fc.nat({ max: 2 * MINUTE }), stepArb), { maxLength: 40 }),
				settingsArb,
				async (steps, settings) => {
					let now = 200 * SECOND;
					const clock = () => BASE + now;
					const gateKey = nextGateKey();
					const typescript = new StaticDataStore({}, 'agreement', gateKey, clock);
					const lua = new RedisStore(admin, gateKey, clock);
					for (const [advance, step] of steps) {
						now += advance;
						if (step.kind === 'tick') {
							const relevant = (applied: Applied[]) =>
								applied
									.map(summary)
									.filter((s) => s.transition !== 'none' || s.expired.length > 0)
									.sort((left, right) => left.scope.localeCompare(right.scope));
							expect(relevant(await lua.tick(settings))).toEqual(
								relevant(await typescript.tick(settings)),
							);
						} else {
							const event = toEvent(step, now);
							expect(summary(await lua.apply(step.scope, event, settings))).toEqual(
								summary(await typescript.apply(step.scope, event, settings)),
							);
						}
					}
				},
			),
			{ numRuns: 150 },
		);
	});
});

describe('Redis store', () => {
	it('is exact when many processes decide on one scope at once', async () => {
		// Separate clients stand for separate n8n workers.
		const workers = await Promise.all([1, 2, 3, 4].map(() => createGateClient(options())));
		const stores = workers.map((client) => new RedisStore(client, 'storm'));
		const ids = Array.from({ length: 200 }, (_, i) => `inc-${i}`);
		const feed = (worker: number, id: string, type: 'open' | 'resolve') =>
			stores[worker % stores.length].apply(
				'global',
				{ type, incidentId: id, at: Date.now() + (type === 'resolve' ? HOUR : 0) },
				DEFAULT_SETTINGS,
			);
		try {
			const opens = await Promise.all(ids.map((id, index) => feed(index, id, 'open')));
			expect(opens.filter((a) => a.decision.transition === 'activate')).toHaveLength(1);
			expect((await stores[0].read('global'))?.open).toBe(200);
			const resolves = await Promise.all(ids.map((id, index) => feed(index + 1, id, 'resolve')));
			expect(resolves.filter((a) => a.decision.transition === 'withdraw')).toHaveLength(1);
		} finally {
			for (const client of workers) await client.quit();
		}
	});

	it('costs the same per event whatever the number of open incidents', async () => {
		const store = new RedisStore(admin, nextGateKey());
		const settings = { ...DEFAULT_SETTINGS, maxOpenIncidents: 100_000 };
		const at = Date.now();
		for (let index = 0; index < 2000; index++)
			await store.apply('edge', { type: 'open', incidentId: `i${index}`, at }, settings);
		await admin.config('RESETSTAT');
		await store.apply('edge', { type: 'resolve', incidentId: 'i5', at: at + 1 }, settings);
		const stats = await admin.info('commandstats');
		// Nothing that reads a whole hash or sorted set ran for this event.
		expect(stats).not.toMatch(/cmdstat_(hgetall|hkeys|zrangebyscore):/);
	});

	it('continues from a scope saved by the first release', async () => {
		const gateKey = nextGateKey();
		const state = {
			status: 'active',
			activatedAt: 1000,
			open: [{ id: 'a', openedAt: 1000, lastSeen: 1000, title: 'SYN flood' }],
			recentResolves: [{ id: 'b', at: 2000 }],
		};
		await admin.hset(`{${gateKey}}:scope:edge`, 'state', JSON.stringify(state), 'version', '3');
		const store = new RedisStore(admin, gateKey);
		const late = await store.apply(
			'edge',
			{ type: 'open', incidentId: 'b', at: 1500 },
			DEFAULT_SETTINGS,
		);
		expect(late.decision).toMatchObject({ reason: 'resolvedBeforeOpen' });
		expect(late.decision.state).toMatchObject({ status: 'active', open: 1 });
		const resolved = await store.apply(
			'edge',
			{ type: 'resolve', incidentId: 'a', at: 3000 },
			DEFAULT_SETTINGS,
		);
		expect(resolved.decision).toMatchObject({ transition: 'withdraw' });
		expect(await admin.exists(`{${gateKey}}:scope:edge`)).toBe(0);
	});

	it('reloads its script when Redis has flushed the script cache', async () => {
		const store = new RedisStore(admin, nextGateKey());
		await admin.script('FLUSH');
		const applied = await store.apply(
			'global',
			{ type: 'open', incidentId: 'x', at: Date.now() },
			DEFAULT_SETTINGS,
		);
		expect(applied.decision.transition).toBe('activate');
	});
});

describe('Incident Gate node on the Redis store', () => {
	const node = new IncidentGate();
	const clients: Redis[] = [];
	beforeAll(() => {
		// The node keeps one client per process; the test closes the ones it made.
		const connect = Redis.prototype.connect;
		jest.spyOn(Redis.prototype, 'connect').mockImplementation(function (this: Redis) {
			clients.push(this);
			return connect.call(this);
		});
	});
	afterAll(async () => {
		jest.restoreAllMocks();
		for (const client of clients) client.disconnect();
	});

	const run = async (gateKey: string, items: IDataObject[], port = server.port) =>
		await runNode(node, {
			parameters: { operation: 'event', store: 'redis', gateKey, scope: 'edge' },
			itemParameters: items.map((json) => ({ action: json.action, incidentId: json.incidentId })),
			items: items.map((json) => ({ json })),
			credentials: { redis: { host: '127.0.0.1', port, password: '', user: '', database: 0 } },
			credentialTypes: [],
		});

	it('shares one gate between workflows through the gate key, even in queue mode', async () => {
		process.env.EXECUTIONS_MODE = 'queue';
		try {
			const first = await run('shared-gate', [{ action: 'open', incidentId: 'a' }]);
			const second = await run('shared-gate', [{ action: 'open', incidentId: 'b' }]);
			expect(first.output[0][0].json).toMatchObject({ scope: 'edge', transition: 'activate' });
			expect(second.output[2][0].json).toMatchObject({
				reason: 'incidentOpened',
				openIncidents: 2,
			});
		} finally {
			delete process.env.EXECUTIONS_MODE;
		}
	});

	it('answers the credential test with a PING', async () => {
		const test = node.methods.credentialTest.incidentGateRedisTest;
		const credential = (port: number) => ({
			id: '1',
			name: 'r',
			type: 'redis',
			data: { host: '127.0.0.1', port },
		});
		expect((await test.call({} as never, credential(server.port))).status).toBe('OK');
		expect((await test.call({} as never, credential(1))).status).toBe('Error');
	});
});

describe('Redis store: a server it cannot talk to', () => {
	it('leaves no client reconnecting in the background after a failed connect', async () => {
		// Accepts TCP connections and closes them at once: not Redis, so every connect fails.
		let connections = 0;
		const notRedis = createServer((socket) => {
			connections++;
			socket.destroy();
		});
		await new Promise<void>((resolve) => notRedis.listen(0, '127.0.0.1', resolve));
		const { port } = notRedis.address() as AddressInfo;
		try {
			await expect(createGateClient({ ...options(), port })).rejects.toThrow();
			const afterFailure = connections;
			await new Promise((resolve) => setTimeout(resolve, 1_500));
			expect(connections).toBe(afterFailure);
		} finally {
			await new Promise((resolve) => notRedis.close(resolve));
		}
	});
});
