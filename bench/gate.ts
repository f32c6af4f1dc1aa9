import { performance } from 'node:perf_hooks';

import type { IDataObject } from 'n8n-workflow';

import {
	DEFAULT_SETTINGS,
	decide,
	type GateEvent,
	type GateSettings,
	type OpenIncident,
	type ScopeState,
} from '../nodes/IncidentGate/stateMachine';
import type { GateStore } from '../nodes/IncidentGate/store/gateStore';
import { RedisStore } from '../nodes/IncidentGate/store/redisStore';
import { RedisConnection } from '../nodes/IncidentGate/store/respClient';
import {
	StaticDataStore,
	forgetProcessCopies,
	staticDataField,
} from '../nodes/IncidentGate/store/staticDataStore';
import { startRedis } from '../test/e2e/services';
import type { Section, SectionResult } from './section';

/**
 * Gate: the cost of one event in a scope that already has many open incidents, for the pure state
 * machine, the static-data store (alone, and with the JSON save n8n makes after each execution that
 * changed static data) and the Redis store against a local redis-server. Each size is measured with
 * a fixed number of events, after a warm-up.
 */

const SIZES = [1, 1_000, 10_000, 100_000];
/**
 * In-process decisions are cheap, so they take more events; Redis and the save serialize the whole
 * scope per event.
 */
const IN_PROCESS = { events: 1_000, warmUp: 20 };
const SERIALIZING = { events: 30, warmUp: 3 };

const SCOPE = 'edge';
const GATE_KEY = 'bench';
const SETTINGS: GateSettings = { ...DEFAULT_SETTINGS, maxOpenIncidents: Math.max(...SIZES) + 1 };
/**
 * A fixed clock: time does not matter to these decisions, and a real one would add its own cost.
 */
const NOW = Date.UTC(2026, 0, 1);

/**
 * A scope under attack with `size` open incidents, shaped like the ones detectors send, in steady
 * state: its memory of recent resolves is full (the default cap), as in any scope that has seen a
 * thousand resolves in five minutes.
 */
function scopeWith(size: number, rememberedResolves = SETTINGS.maxRememberedResolves): ScopeState {
	const open: OpenIncident[] = Array.from({ length: size }, (_, i) => ({
		id: `INC-${String(i).padStart(6, '0')}`,
		openedAt: NOW,
		lastSeen: NOW,
		title: `Volumetric attack on 203.0.113.${i % 256}/32`,
	}));
	const recentResolves = Array.from({ length: rememberedResolves }, (_, i) => ({
		id: `OLD-${i}`,
		at: NOW,
	}));
	return { status: 'active', activatedAt: NOW, open, recentResolves };
}

/**
 * Event n of the stream: a new incident opens, is updated, resolves; the scope keeps its size
 * throughout.
 */
function eventAt(n: number): GateEvent {
	const incidentId = `NEW-${Math.floor(n / 3)}`;
	const type = (['open', 'update', 'resolve'] as const)[n % 3];
	return type === 'resolve' ? { type, incidentId } : { type, incidentId, title: 'Second wave' };
}

interface Timing {
	events: number;
	microsecondsPerEvent: number;
	eventsPerSecond: number;
}

async function time(
	{ events, warmUp }: typeof IN_PROCESS,
	handle: (event: GateEvent) => Promise<void> | void,
): Promise<Timing> {
	for (let n = 0; n < warmUp; n++) await handle(eventAt(n));
	const started = performance.now();
	for (let n = warmUp; n < warmUp + events; n++) await handle(eventAt(n));
	const seconds = (performance.now() - started) / 1000;
	return {
		events,
		microsecondsPerEvent: (seconds * 1e6) / events,
		eventsPerSecond: events / seconds,
	};
}

const decideThrough = async (store: GateStore, event: GateEvent) =>
	await store.update(SCOPE, (state, now) => ({
		state: decide(state, event, now, SETTINGS).state,
		result: undefined,
	}));

interface SizeFigures {
	openIncidents: number;
	stateMachine: Timing;
	staticDataStore: Timing;
	staticDataStoreWithSave: Timing;
	redisStore: Timing;
	persistedBytesPerOpenIncident: number;
}

async function measureSize(size: number, redis: RedisConnection): Promise<SizeFigures> {
	let state: ScopeState | undefined = scopeWith(size);
	const stateMachine = await time(IN_PROCESS, (event) => {
		state = decide(state, event, NOW, SETTINGS).state;
	});

	const staticStore = () => {
		forgetProcessCopies();
		const staticData: IDataObject = {
			[staticDataField(GATE_KEY)]: {
				scopes: { [SCOPE]: scopeWith(size) },
			} as unknown as IDataObject,
		};
		return { staticData, store: new StaticDataStore(staticData, 'bench', GATE_KEY, () => NOW) };
	};
	const alone = staticStore();
	const staticDataStore = await time(IN_PROCESS, (event) => decideThrough(alone.store, event));
	const saved = staticStore();
	const staticDataStoreWithSave = await time(SERIALIZING, async (event) => {
		await decideThrough(saved.store, event);
		JSON.stringify(saved.staticData);
	});

	const redisStore = new RedisStore(redis, `${GATE_KEY}-${size}`);
	await redisStore.update(SCOPE, () => ({ state: scopeWith(size), result: undefined }));
	const redisTiming = await time(SERIALIZING, (event) => decideThrough(redisStore, event));
	await redis.command(['FLUSHALL']);

	forgetProcessCopies();
	return {
		openIncidents: size,
		stateMachine,
		staticDataStore,
		staticDataStoreWithSave,
		redisStore: redisTiming,
		// The open incidents' share of the saved static data, without the remembered resolves.
		persistedBytesPerOpenIncident:
			Buffer.byteLength(JSON.stringify({ scopes: { [SCOPE]: scopeWith(size, 0) } })) / size,
	};
}

const thousands = (n: number) => Math.round(n).toLocaleString('en-US');
const cell = ({ microsecondsPerEvent, eventsPerSecond }: Timing) => {
	const micros =
		microsecondsPerEvent < 10 ? microsecondsPerEvent.toFixed(1) : thousands(microsecondsPerEvent);
	return `${micros} µs (${thousands(eventsPerSecond)}/s)`;
};

async function run(): Promise<SectionResult> {
	const server = await startRedis();
	const redis = await RedisConnection.open({
		host: '127.0.0.1',
		port: server.port,
		database: 0,
		ssl: false,
	});
	const figures: SizeFigures[] = [];
	try {
		for (const size of SIZES) figures.push(await measureSize(size, redis));
	} finally {
		redis.close();
		await server.stop();
	}
	return {
		table: {
			columns: [
				'Open incidents',
				'State machine',
				'Static-data store',
				'Static data + save',
				'Redis store',
				'Persisted bytes / open incident',
			],
			rows: figures.map((f) => [
				f.openIncidents.toLocaleString('en-US'),
				cell(f.stateMachine),
				cell(f.staticDataStore),
				cell(f.staticDataStoreWithSave),
				cell(f.redisStore),
				Math.round(f.persistedBytesPerOpenIncident),
			]),
		},
		figures: {
			eventsPerSize: { inProcess: IN_PROCESS, serializing: SERIALIZING },
			rememberedResolves: SETTINGS.maxRememberedResolves,
			sizes: figures,
		},
		failures: [],
		notes: [
			'Microseconds per event (events per second) in one scope ' +
				'holding that many open incidents and ' +
				`${SETTINGS.maxRememberedResolves} remembered resolves; ` +
				'events cycle open, update, resolve of a further incident.',
			`${IN_PROCESS.events} events per size in process (after ` +
				`${IN_PROCESS.warmUp} warm-up events), ${SERIALIZING.events} ` +
				`with the save and with Redis (after ${SERIALIZING.warmUp}).`,
			`Persisted bytes: the scope's JSON (the same in static data ` +
				'and in Redis) divided by its open incidents.',
			'"+ save" adds the JSON serialization of the static data ' +
				'that n8n writes after each execution that changed it (the ' +
				'database write itself is not included).',
		],
	};
}

export const gate: Section = { id: 'gate', title: 'Incident Gate', run };
