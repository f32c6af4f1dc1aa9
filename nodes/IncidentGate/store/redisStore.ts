import type { ScopeState } from '../stateMachine';
import type { GateStore, ScopeDecider } from './gateStore';
import { evalScript, sha1, type RedisConnection, type RespReply } from './respClient';

/**
 * Gate state in Redis, exact across any number of n8n processes. Each scope is a hash {state, version}. A decision
 * reads the state, version and the Redis server's clock, runs the pure state machine here, and commits with a Lua
 * compare-and-set that writes only if the version is unchanged; otherwise the script returns the newer state and the
 * decision is taken again on it. The state machine lives in one place (TypeScript), and Redis only has to make the
 * commit atomic. All times come from Redis (TIME), so workers with skewed clocks agree on hold-downs.
 */

const script = (source: string) => ({ source, sha: sha1(source) });

/** KEYS: scope hash. Returns {version, state, seconds, microseconds}. */
const READ = script(`
local t = redis.call('TIME')
return { redis.call('HGET', KEYS[1], 'version') or '0', redis.call('HGET', KEYS[1], 'state') or '', t[1], t[2] }
`);

/**
 * KEYS: scope hash, scope index set. ARGV: expected version, new state JSON ('' = forget the scope), scope name.
 * Returns {1} when written, or {0, version, state, seconds, microseconds} when another decision came first.
 */
const COMPARE_AND_SET = script(`
local current = redis.call('HGET', KEYS[1], 'version') or '0'
if current ~= ARGV[1] then
  local t = redis.call('TIME')
  return { 0, current, redis.call('HGET', KEYS[1], 'state') or '', t[1], t[2] }
end
if ARGV[2] == '' then
  redis.call('DEL', KEYS[1])
  redis.call('SREM', KEYS[2], ARGV[3])
else
  redis.call('HSET', KEYS[1], 'state', ARGV[2], 'version', tostring(tonumber(current) + 1))
  redis.call('SADD', KEYS[2], ARGV[3])
end
return { 1 }
`);

/** Each failed attempt means another process's decision on the scope succeeded, so this is far more than enough. */
const MAX_ATTEMPTS = 200;

/** Per connection (one per process and server) and scope key: the end of the queue of pending decisions. */
const scopeQueues = new WeakMap<RedisConnection, Map<string, Promise<void>>>();

interface Snapshot {
	version: string;
	state: ScopeState | undefined;
	now: number;
}

function toSnapshot(reply: RespReply[]): Snapshot {
	const [version, state, seconds, microseconds] = reply.map(String);
	return {
		version,
		state: state ? (JSON.parse(state) as ScopeState) : undefined,
		now: Number(seconds) * 1000 + Math.floor(Number(microseconds) / 1000),
	};
}

export class RedisStore implements GateStore {
	constructor(
		private readonly connection: RedisConnection,
		private readonly gateKey: string,
	) {}

	// A hash tag ({...}) keeps all keys of one gate in one Redis Cluster slot, as a multi-key script requires.
	private get indexKey() {
		return `{${this.gateKey}}:scopes`;
	}

	private scopeKey(scope: string) {
		return `{${this.gateKey}}:scope:${scope}`;
	}

	async update<T>(scope: string, decider: ScopeDecider<T>): Promise<T> {
		return await this.oneAtATime(
			this.scopeKey(scope),
			async () => await this.compareAndSet(scope, decider),
		);
	}

	/**
	 * Queues this process's decisions on one scope behind each other, so compare-and-set only ever races the other
	 * processes: a burst of n events costs about n round trips instead of n squared.
	 */
	private async oneAtATime<T>(key: string, work: () => Promise<T>): Promise<T> {
		let queues = scopeQueues.get(this.connection);
		if (!queues) scopeQueues.set(this.connection, (queues = new Map()));
		const run = (queues.get(key) ?? Promise.resolve()).then(work);
		const tail = run.then(
			() => undefined,
			() => undefined,
		);
		queues.set(key, tail);
		void tail.then(() => {
			if (queues.get(key) === tail) queues.delete(key);
		});
		return await run;
	}

	private async compareAndSet<T>(scope: string, decider: ScopeDecider<T>): Promise<T> {
		const keys = [this.scopeKey(scope), this.indexKey];
		let snapshot = await this.snapshot(scope);
		for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
			const { state, result } = decider(snapshot.state, snapshot.now);
			const reply = (await evalScript(this.connection, COMPARE_AND_SET, keys, [
				snapshot.version,
				state ? JSON.stringify(state) : '',
				scope,
			])) as RespReply[];
			if (reply[0] === 1) return result;
			snapshot = toSnapshot(reply.slice(1));
		}
		throw new Error(
			`Gave up on scope "${scope}" after ${MAX_ATTEMPTS} conflicting updates; nothing was changed by this item`,
		);
	}

	async read(scope: string): Promise<ScopeState | undefined> {
		return (await this.snapshot(scope)).state;
	}

	async scopes(): Promise<string[]> {
		const members = (await this.connection.command(['SMEMBERS', this.indexKey])) as string[];
		return members.sort();
	}

	private async snapshot(scope: string): Promise<Snapshot> {
		return toSnapshot(
			(await evalScript(this.connection, READ, [this.scopeKey(scope)], [])) as RespReply[],
		);
	}
}
