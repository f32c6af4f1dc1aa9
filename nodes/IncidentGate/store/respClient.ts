import { createHash } from 'node:crypto';
import net from 'node:net';
import tls from 'node:tls';

/**
 * A small Redis client (RESP2 over TCP or TLS) with just what the gate needs: AUTH, SELECT, EVALSHA/EVAL and PING.
 * One connection per server and credential per process, reused by every execution; commands are pipelined on it
 * and Redis answers them in order.
 */

export interface RedisConnectionOptions {
	host: string;
	port: number;
	user?: string;
	password?: string;
	database: number;
	ssl: boolean;
	/** Only with ssl: accept self-signed certificates. */
	disableTlsVerification?: boolean;
}

export type RespReply = string | number | null | RespReply[];

/** Redis answered a command with an error reply (the connection stays usable). */
export class RedisReplyError extends Error {
	constructor(message: string) {
		super(message);
		this.name = 'RedisReplyError';
	}
}

const COMMAND_TIMEOUT_MS = 10_000;
const CONNECT_TIMEOUT_MS = 10_000;

const INCOMPLETE = Symbol('incomplete');
type Parsed = { value: RespReply | RedisReplyError; end: number } | typeof INCOMPLETE;

/** Parses one RESP2 reply starting at `start`, or says the buffer does not hold all of it yet. */
function parseReply(buffer: Buffer, start: number): Parsed {
	const lineEnd = buffer.indexOf('\r\n', start);
	if (lineEnd === -1) return INCOMPLETE;
	const type = String.fromCharCode(buffer[start]);
	const line = buffer.toString('utf8', start + 1, lineEnd);
	const next = lineEnd + 2;
	switch (type) {
		case '+':
			return { value: line, end: next };
		case '-':
			return { value: new RedisReplyError(line), end: next };
		case ':':
			return { value: Number(line), end: next };
		case '$': {
			const length = Number(line);
			if (length < 0) return { value: null, end: next };
			if (buffer.length < next + length + 2) return INCOMPLETE;
			return { value: buffer.toString('utf8', next, next + length), end: next + length + 2 };
		}
		case '*': {
			const count = Number(line);
			if (count < 0) return { value: null, end: next };
			const values: RespReply[] = [];
			let position = next;
			for (let i = 0; i < count; i++) {
				const element = parseReply(buffer, position);
				if (element === INCOMPLETE) return INCOMPLETE;
				// Scripts may return nested error replies; surface them as text rather than failing the whole reply.
				values.push(
					element.value instanceof RedisReplyError ? element.value.message : element.value,
				);
				position = element.end;
			}
			return { value: values, end: position };
		}
		default:
			throw new Error(
				`Unexpected reply from Redis (type byte ${JSON.stringify(type)}); is this a Redis server?`,
			);
	}
}

function encodeCommand(args: Array<string | number>): Buffer {
	const parts = [`*${args.length}\r\n`];
	for (const arg of args) {
		const text = String(arg);
		parts.push(`$${Buffer.byteLength(text)}\r\n${text}\r\n`);
	}
	return Buffer.from(parts.join(''));
}

interface PendingCommand {
	resolve: (value: RespReply) => void;
	reject: (error: Error) => void;
}

export class RedisConnection {
	/** Received bytes not parsed yet are storage[start, end); storage grows by doubling so large replies cost O(n). */
	private storage: Buffer = Buffer.allocUnsafe(64 * 1024);
	private start = 0;
	private end = 0;
	private readonly pending: PendingCommand[] = [];
	private timer: NodeJS.Timeout | undefined;
	private failure: Error | undefined;

	private constructor(private readonly socket: net.Socket) {
		socket.on('data', (chunk: Buffer) => this.receive(chunk));
		socket.on('error', (error) => this.fail(error));
		socket.on('close', () => this.fail(new Error('Redis connection closed')));
		// An idle connection must not keep a process (or a test run) alive.
		socket.unref();
	}

	static async open(options: RedisConnectionOptions): Promise<RedisConnection> {
		const socket = await new Promise<net.Socket>((resolve, reject) => {
			const onError = (error: NodeJS.ErrnoException) => {
				clearTimeout(timer);
				reject(
					new Error(
						`Could not connect to Redis at ${options.host}:${options.port}: ${error.code ?? error.message}`,
					),
				);
			};
			const timer = setTimeout(() => {
				created.destroy();
				reject(
					new Error(
						`Could not connect to Redis at ${options.host}:${options.port} within ${CONNECT_TIMEOUT_MS / 1000} s`,
					),
				);
			}, CONNECT_TIMEOUT_MS);
			const connected = () => {
				clearTimeout(timer);
				created.off('error', onError);
				resolve(created);
			};
			const created = options.ssl
				? tls.connect(
						{
							host: options.host,
							port: options.port,
							servername: net.isIP(options.host) ? undefined : options.host,
							rejectUnauthorized: !options.disableTlsVerification,
						},
						connected,
					)
				: net.connect({ host: options.host, port: options.port }, connected);
			created.once('error', onError);
		});
		socket.setNoDelay(true);
		const connection = new RedisConnection(socket);
		try {
			if (options.password) {
				await connection.command(
					options.user ? ['AUTH', options.user, options.password] : ['AUTH', options.password],
				);
			}
			if (options.database) await connection.command(['SELECT', options.database]);
		} catch (error) {
			connection.close();
			throw error;
		}
		return connection;
	}

	get usable(): boolean {
		return this.failure === undefined;
	}

	async command(args: Array<string | number>): Promise<RespReply> {
		if (this.failure) throw this.failure;
		return await new Promise<RespReply>((resolve, reject) => {
			this.pending.push({ resolve, reject });
			if (this.pending.length === 1) {
				this.socket.ref();
				this.armTimer();
			}
			this.socket.write(encodeCommand(args));
		});
	}

	close(): void {
		this.fail(new Error('Redis connection closed by the client'));
		this.socket.destroy();
	}

	private receive(chunk: Buffer): void {
		this.append(chunk);
		const unparsed = this.storage.subarray(this.start, this.end);
		let position = 0;
		for (;;) {
			let parsed: Parsed;
			try {
				parsed = parseReply(unparsed, position);
			} catch (error) {
				this.fail(error as Error);
				this.socket.destroy();
				return;
			}
			if (parsed === INCOMPLETE) break;
			position = parsed.end;
			const command = this.pending.shift();
			if (parsed.value instanceof RedisReplyError) command?.reject(parsed.value);
			else command?.resolve(parsed.value);
		}
		this.start += position;
		if (this.start === this.end) this.start = this.end = 0;
		if (this.pending.length === 0) {
			clearTimeout(this.timer);
			this.socket.unref();
		} else {
			this.armTimer();
		}
	}

	/** Copies a chunk in; parsed values are strings, so nothing keeps a view into storage. */
	private append(chunk: Buffer): void {
		const unparsed = this.end - this.start;
		if (this.end + chunk.length > this.storage.length) {
			const target =
				unparsed + chunk.length <= this.storage.length
					? this.storage
					: Buffer.allocUnsafe(Math.max(2 * this.storage.length, unparsed + chunk.length));
			this.storage.copy(target, 0, this.start, this.end);
			this.storage = target;
			this.start = 0;
			this.end = unparsed;
		}
		chunk.copy(this.storage, this.end);
		this.end += chunk.length;
	}

	private armTimer(): void {
		clearTimeout(this.timer);
		this.timer = setTimeout(() => {
			this.fail(new Error(`Redis did not answer within ${COMMAND_TIMEOUT_MS / 1000} s`));
			this.socket.destroy();
		}, COMMAND_TIMEOUT_MS);
	}

	private fail(error: Error): void {
		clearTimeout(this.timer);
		this.failure ??= error;
		for (const command of this.pending.splice(0)) command.reject(error);
	}
}

const connections = new Map<string, Promise<RedisConnection>>();

/** The process-wide connection for these options, opened on first use and replaced when it broke. */
export async function redisConnection(options: RedisConnectionOptions): Promise<RedisConnection> {
	// Keyed by a hash so the password is not kept as a map key in clear text.
	const key = createHash('sha256').update(JSON.stringify(options)).digest('hex');
	const existing = connections.get(key);
	if (existing) {
		const connection = await existing.catch(() => undefined);
		if (connection?.usable) return connection;
		if (connections.get(key) === existing) connections.delete(key);
		return await redisConnection(options);
	}
	const opening = RedisConnection.open(options);
	connections.set(key, opening);
	opening.catch(() => connections.delete(key));
	return await opening;
}

export const sha1 = (text: string) => createHash('sha1').update(text).digest('hex');

/** EVALSHA, loading the script with EVAL when this server has not seen it yet (or flushed its script cache). */
export async function evalScript(
	connection: RedisConnection,
	script: { source: string; sha: string },
	keys: string[],
	args: Array<string | number>,
): Promise<RespReply> {
	try {
		return await connection.command(['EVALSHA', script.sha, keys.length, ...keys, ...args]);
	} catch (error) {
		if (!(error instanceof RedisReplyError) || !error.message.startsWith('NOSCRIPT')) throw error;
		return await connection.command(['EVAL', script.source, keys.length, ...keys, ...args]);
	}
}
