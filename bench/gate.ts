import { performance } from 'node:perf_hooks';

import type { IDataObject } from 'n8n-workflow';

import { DEFAULT_SETTINGS, type GateEvent } from '../nodes/IncidentGate/stateMachine';
import type { GateStore } from '../nodes/IncidentGate/store/gateStore';
import { createGateClient, RedisStore } from '../nodes/IncidentGate/store/redisStore';
import { StaticDataStore } from '../nodes/IncidentGate/store/staticDataStore';
import { startRedis } from '../test/e2e/services';
import type { Section, SectionResult } from './section';

/**
 * Gate: the cost of one event while the gate already holds 1 to 100,000 open incidents, all in one
 * scope or spread over 10,000 scopes, for the static-data store (with the JSON save n8n makes after
 * each execution that changed static data) and the Redis store against a local redis-server, side
 * by side.
 */

const SIZES = [1, 1_000, 10_000, 100_000];
const SPREAD_SCOPES = 10_000;
const EVENTS = { static: 300, save: 30, redis: 1_000 };
const SETTINGS = { ...DEFAULT_SETTINGS, maxOpenIncidents: 200_000 };
const TITLE = 'Volumetric attack on 203.0.113.7/32';

type Layout = 'one scope' | `${number} scopes`;

const scopeOf = (layout: Layout, n: number) =>
	layout === 'one scope' ? 'edge' : `edge-${n % SPREAD_SCOPES}`;

/**
 * Event n of the measured stream: a further incident opens, is updated, resolves; the size stays
 * the same.
 */
function eventAt(n: number, at: number): GateEvent {
	const incidentId = `NEW-${Math.floor(n / 3)}`;
	const type = (['open', 'update', 'resolve'] as const)[n % 3];
	return type === 'resolve' ? { type, incidentId, at } : { type, incidentId, at, title: TITLE };
}

async function fill(store: GateStore, layout: Layout, size: number): Promise<void> {
	const at = Date.now();
	for (let start = 0; start < size; start += 1000) {
		const batch = [];
		for (let n = start; n < Math.min(size, start + 1000); n++)
			batch.push(
				store.apply(
					scopeOf(layout, n),
					{ type: 'open', incidentId: `INC-${n}`, at, title: TITLE },
					SETTINGS,
				),
			);
		await Promise.all(batch);
	}
}

async function microsecondsPerEvent(
	events: number,
	handle: (event: GateEvent, n: number) => Promise<unknown>,
): Promise<number> {
	const at = Date.now() + 1000;
	for (let n = 0; n < 6; n++) await handle(eventAt(n, at), n);
	const started = performance.now();
	for (let n = 6; n < 6 + events; n++) await handle(eventAt(n, at), n);
	return ((performance.now() - started) * 1000) / events;
}

interface Figures {
	layout: Layout;
	openIncidents: number;
	staticMicroseconds: number;
	staticWithSaveMicroseconds: number;
	savedBytesPerEvent: number;
	redisMicroseconds: number;
}

let gateCounter = 0;

async function measure(
	layout: Layout,
	size: number,
	redis: Awaited<ReturnType<typeof createGateClient>>,
): Promise<Figures> {
	const staticData: IDataObject = {};
	const gateKey = `bench-${++gateCounter}`;
	const store = new StaticDataStore(staticData, gateKey, gateKey, () => performance.now());
	await fill(store, layout, size);
	const scope = (n: number) => scopeOf(layout, n * 7919);
	const staticMicroseconds = await microsecondsPerEvent(EVENTS.static, (event, n) =>
		store.apply(scope(n), event, SETTINGS),
	);
	let savedBytes = 0;
	const staticWithSaveMicroseconds = await microsecondsPerEvent(EVENTS.save, async (event, n) => {
		await store.apply(scope(n), event, SETTINGS);
		// What n8n does when the execution ends: serialize the whole static data for the database.
		savedBytes = Buffer.byteLength(JSON.stringify(staticData));
	});

	const redisStore = new RedisStore(redis, gateKey);
	await fill(redisStore, layout, size);
	const redisMicroseconds = await microsecondsPerEvent(EVENTS.redis, (event, n) =>
		redisStore.apply(scope(n), event, SETTINGS),
	);
	await redis.flushall();
	return {
		layout,
		openIncidents: size,
		staticMicroseconds,
		staticWithSaveMicroseconds,
		savedBytesPerEvent: savedBytes,
		redisMicroseconds,
	};
}

const micro = (value: number) =>
	`${value < 10 ? value.toFixed(1) : Math.round(value).toLocaleString('en-US')} µs`;

async function run(): Promise<SectionResult> {
	const server = await startRedis();
	const redis = await createGateClient({
		host: '127.0.0.1',
		port: server.port,
		db: 0,
		tls: false,
		rejectUnauthorized: true,
	});
	const figures: Figures[] = [];
	try {
		for (const layout of ['one scope', `${SPREAD_SCOPES} scopes`] as Layout[])
			for (const size of SIZES) figures.push(await measure(layout, size, redis));
	} finally {
		await redis.quit();
		await server.stop();
	}
	const largest = figures.filter((f) => f.openIncidents === Math.max(...SIZES));
	const failures = largest.flatMap((f) =>
		f.redisMicroseconds > 150
			? [`Redis store: ${micro(f.redisMicroseconds)} per event at ${f.layout} (goal 150 µs)`]
			: [],
	);
	return {
		table: {
			columns: [
				'Layout',
				'Open incidents',
				'Static data',
				'Static data + save',
				'Bytes saved / event',
				'Redis',
			],
			rows: figures.map((f) => [
				f.layout,
				f.openIncidents.toLocaleString('en-US'),
				micro(f.staticMicroseconds),
				micro(f.staticWithSaveMicroseconds),
				f.savedBytesPerEvent.toLocaleString('en-US'),
				micro(f.redisMicroseconds),
			]),
		},
		figures: { events: EVENTS, sizes: figures },
		failures,
		notes: [
			'Microseconds per event while the gate holds that many open incidents; events cycle open, ' +
				'update, resolve of a further incident (in one scope, or in scopes spread over the ' +
				'layout).',
			'"+ save" adds the JSON serialization of the whole static data that n8n writes after each ' +
				'execution that changed it (one event per execution; the database write is not included).',
			'Redis: one Lua script per event over loopback, one client, events one after the other.',
		],
	};
}

export const gate: Section = { id: 'gate', title: 'Incident Gate', run };
