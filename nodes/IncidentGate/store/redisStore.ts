import Redis from 'ioredis';

import { processMemory } from '../../shared/processMemory';
import {
	connectRedis,
	redisConnectionOptions,
	sharedRedisClient,
	type RedisOptions,
} from '../../shared/redisConnection';

import {
	hydrate,
	type Decision,
	type GateEvent,
	type GateSettings,
	type IncidentRecord,
	type MitigationStatus,
	type Reason,
	type ScopeState,
	type Transition,
} from '../stateMachine';
import { incidentOf, type Applied, type GateStore } from './gateStore';
import { GATE_SCRIPT } from './redisScript';

export type { RedisOptions };

export type GateRedis = Redis & {
	incidentGate(...args: Array<string | number>): Promise<unknown[][]>;
};

/** Scopes one tick script decides on before it yields to other clients. */
const TICK_BATCH = 200;

/**
 * A connected client with the gate's script as a command (EVALSHA, falling back to EVAL once per
 * server).
 */
export async function createGateClient(options: RedisOptions): Promise<GateRedis> {
	const redis = new Redis({ ...redisConnectionOptions(options), maxRetriesPerRequest: 2 });
	redis.defineCommand('incidentGate', { numberOfKeys: 4, lua: GATE_SCRIPT });
	return await connectRedis(redis as GateRedis);
}

export async function gateClient(options: RedisOptions): Promise<GateRedis> {
	return await sharedRedisClient(processMemory.gateRedisClients, options, createGateClient);
}

/**
 * Connects once without retrying, so the credential test reports a wrong password or port at once.
 */
export async function pingRedis(options: RedisOptions): Promise<void> {
	const redis = new Redis({
		...redisConnectionOptions(options),
		maxRetriesPerRequest: 0,
		retryStrategy: () => null,
	});
	try {
		await redis.connect();
		await redis.ping();
	} finally {
		redis.disconnect();
	}
}

/**
 * Gate state in Redis, exact across any number of n8n processes: each event is one Lua script that
 * reads, decides and writes the scope in one atomic step, touching only the incident it is about
 * (hash field and sorted-set entry), so it costs the same at 1 and at 100,000 open incidents. Times
 * come from the Redis server's clock.
 */
export class RedisStore implements GateStore {
	private readonly prefix: string;

	constructor(
		private readonly redis: GateRedis,
		gateKey: string,
		/** The gate clock is at least this (ms), for callers that own a clock. */
		private readonly clockFloor: () => number = () => 0,
	) {
		// A hash tag ({...}) keeps all keys of one gate in one Redis Cluster slot, as the script
		// requires.
		this.prefix = `{${gateKey}}:`;
	}

	async apply(scope: string, event: GateEvent, settings: GateSettings): Promise<Applied> {
		const [reply] = await this.run(event.type, scope, event, settings);
		return toApplied(reply);
	}

	async tick(settings: GateSettings): Promise<Applied[]> {
		const applied: Applied[] = [];
		for (let batch = 0; batch < 10_000; batch++) {
			const replies = await this.run('tick', '', undefined, settings);
			applied.push(...replies.map(toApplied));
			if (replies.length < TICK_BATCH) break;
		}
		return applied;
	}

	async read(scope: string): Promise<ScopeState | undefined> {
		const fields = await this.redis.hgetall(`${this.prefix}s:${scope}`);
		if (!fields.st) return undefined;
		const number = (value: string | undefined) => (value ? Number(value) : undefined);
		const state = hydrate({
			status: fields.st as MitigationStatus,
			incidents: {},
			open: Number(fields.op ?? 0),
			remembered: Number(fields.rm ?? 0),
			overflow: Number(fields.ov ?? 0),
		});
		if (fields.aa) state.activatedAt = number(fields.aa);
		if (fields.wd) state.withdrawDueAt = number(fields.wd);
		if (fields.pn) state.pending = { n: Number(fields.pn), at: Number(fields.pa) };
		for (const [field, value] of Object.entries(fields)) {
			if (!field.startsWith('i:')) continue;
			const [o, r, s, ...title] = value.split('|');
			const record: IncidentRecord = { s: Number(s) };
			if (o) record.o = Number(o);
			if (r) record.r = Number(r);
			if (title.join('|')) record.t = title.join('|');
			state.incidents[field.slice(2)] = record;
		}
		return state;
	}

	async scopes(): Promise<string[]> {
		return (await this.redis.smembers(`${this.prefix}scopes`)).sort();
	}

	private async run(
		operation: string,
		scope: string,
		event: GateEvent | undefined,
		settings: GateSettings,
	): Promise<unknown[][]> {
		const id = event ? (incidentOf(event) ?? '') : '';
		const at = event && 'at' in event ? String(event.at) : '';
		const title = event && 'title' in event ? (event.title ?? '') : '';
		const active =
			event?.type === 'confirm' && event.active !== undefined ? (event.active ? '1' : '0') : '';
		return await this.redis.incidentGate(
			`${this.prefix}scopes`,
			`${this.prefix}owners`,
			`${this.prefix}due`,
			`${this.prefix}clock`,
			operation,
			this.prefix,
			scope,
			id,
			at,
			title,
			active,
			String(this.clockFloor()),
			settings.minActiveMs,
			settings.withdrawDelayMs,
			settings.maxIncidentAgeMs,
			settings.resolveMemoryMs,
			settings.maxOpenIncidents,
			settings.reemitIntervalMs,
			settings.maxReemits,
			TICK_BATCH,
		);
	}
}

/**
 * Turns a script reply into what the node describes: the scope's counts stand in for its incident
 * records.
 */
function toApplied(reply: unknown[]): Applied {
	const [scope, transition, reason, status, unresolved, overflow, pending, activatedAt, dueAt] =
		reply.slice(0, 9).map(String);
	const state: ScopeState | undefined = status
		? {
				status: status as MitigationStatus,
				incidents: {},
				open: Number(unresolved) - Number(overflow),
				remembered: 0,
				overflow: Number(overflow),
				...(pending === '1' ? { pending: { n: 1, at: 0 } } : {}),
				...(dueAt ? { withdrawDueAt: Number(dueAt) } : {}),
				...(Number(activatedAt) >= 0 && status !== 'idle'
					? { activatedAt: Number(activatedAt) }
					: {}),
			}
		: undefined;
	const expired = reply.slice(9).map(String);
	const decision: Decision = {
		state,
		transition: transition as Transition,
		reason: reason as Reason,
		changed: true,
		...(expired.length > 0 ? { expiredIncidentIds: expired } : {}),
	};
	return {
		scope,
		decision,
		...(Number(activatedAt) >= 0 ? { activatedAt: Number(activatedAt) } : {}),
	};
}
