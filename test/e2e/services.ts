import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { freePort } from '../../scripts/n8nHarness';

/**
 * Throwaway Redis and PostgreSQL servers for the end-to-end tests: installed from Debian when
 * missing, started on free loopback ports in temporary folders, and stopped (with their data
 * removed) afterwards.
 */

export interface Service {
	port: number;
	stop(): Promise<void>;
}

export function onPath(binary: string): boolean {
	try {
		execFileSync('sh', ['-c', `command -v ${binary}`], { stdio: 'ignore' });
		return true;
	} catch {
		return false;
	}
}

export function aptInstall(...packages: string[]): void {
	const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
	execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
	execFileSync('apt-get', ['install', '-y', '-qq', ...packages], { stdio: 'inherit', env });
}

export async function waitForPort(
	port: number,
	child: ChildProcess,
	what: string,
	timeoutMs = 60_000,
): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	while (Date.now() < deadline) {
		if (child.exitCode !== null) throw new Error(`${what} exited with code ${child.exitCode}`);
		const open = await new Promise<boolean>((resolve) => {
			const socket = net.connect({ host: '127.0.0.1', port }, () => {
				socket.destroy();
				resolve(true);
			});
			socket.on('error', () => resolve(false));
		});
		if (open) return;
		await new Promise((resolve) => setTimeout(resolve, 100));
	}
	throw new Error(`${what} did not listen on port ${port} within ${timeoutMs / 1000} s`);
}

export async function stopChild(child: ChildProcess): Promise<void> {
	if (child.exitCode !== null || child.signalCode !== null) return;
	const exited = new Promise((resolve) => child.once('exit', resolve));
	child.kill('SIGTERM');
	const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
	await exited;
	clearTimeout(killer);
}

export async function startRedis(): Promise<Service> {
	if (!onPath('redis-server')) aptInstall('redis-server');
	const dir = mkdtempSync(join(tmpdir(), 'gate-redis-'));
	const port = await freePort();
	const child = spawn(
		'redis-server',
		[
			'--port',
			String(port),
			'--bind',
			'127.0.0.1',
			'--dir',
			dir,
			'--save',
			'',
			'--appendonly',
			'no',
			'--daemonize',
			'no',
		],
		{ stdio: 'ignore' },
	);
	await waitForPort(port, child, 'redis-server');
	return {
		port,
		async stop() {
			await stopChild(child);
			rmSync(dir, { recursive: true, force: true });
		},
	};
}

function postgresBin(): string {
	const root = '/usr/lib/postgresql';
	const find = () =>
		existsSync(root)
			? readdirSync(root)
					.sort((a, b) => Number(b) - Number(a))
					.map((version) => join(root, version, 'bin'))
					.find((bin) => existsSync(join(bin, 'initdb')))
			: undefined;
	const found = find() ?? (aptInstall('postgresql'), find());
	if (!found) throw new Error('PostgreSQL is not installed and apt-get did not install it');
	return found;
}

export interface Postgres extends Service {
	user: string;
	database: string;
}

/**
 * A fresh cluster with trust authentication on loopback; PostgreSQL refuses to run as root, so it
 * runs as `postgres`.
 */
export async function startPostgres(database = 'n8n'): Promise<Postgres> {
	const bin = postgresBin();
	const dir = mkdtempSync(join(tmpdir(), 'gate-pg-'));
	const asRoot = process.getuid?.() === 0;
	if (asRoot) {
		const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
		const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
		chownSync(dir, uid, gid);
	}
	const asPostgres = (command: string, args: string[]) =>
		asRoot
			? (['runuser', ['-u', 'postgres', '--', command, ...args]] as const)
			: ([command, args] as const);
	const data = join(dir, 'data');
	const [initCommand, initArgs] = asPostgres(join(bin, 'initdb'), [
		'-D',
		data,
		'-U',
		'postgres',
		'--auth=trust',
		'-E',
		'UTF8',
	]);
	execFileSync(initCommand, [...initArgs], { stdio: 'ignore' });
	const port = await freePort();
	const [command, args] = asPostgres(join(bin, 'postgres'), [
		'-D',
		data,
		'-p',
		String(port),
		'-k',
		dir,
		'-c',
		'listen_addresses=127.0.0.1',
		'-c',
		'max_connections=200',
		'-c',
		'fsync=off',
	]);
	const child = spawn(command, [...args], { stdio: 'ignore' });
	await waitForPort(port, child, 'postgres');
	const [psqlCommand, psqlArgs] = asPostgres(join(bin, 'psql'), [
		'-h',
		'127.0.0.1',
		'-p',
		String(port),
		'-U',
		'postgres',
		'-c',
		`CREATE DATABASE ${database}`,
	]);
	// The port opens slightly before the server accepts connections.
	for (let attempt = 1; ; attempt++) {
		try {
			execFileSync(psqlCommand, [...psqlArgs], { stdio: 'pipe' });
			break;
		} catch (error) {
			if (attempt >= 50) throw error;
			await new Promise((resolve) => setTimeout(resolve, 200));
		}
	}
	return {
		port,
		user: 'postgres',
		database,
		async stop() {
			await stopChild(child);
			rmSync(dir, { recursive: true, force: true });
		},
	};
}

/**
 * n8n's environment for queue mode on these services: PostgreSQL as its database, Redis as its
 * queue, production executions unlimited (the workers' concurrency bounds them).
 */
export function queueModeEnv(postgres: Postgres, redis: Service): Record<string, string> {
	return {
		EXECUTIONS_MODE: 'queue',
		QUEUE_BULL_REDIS_HOST: '127.0.0.1',
		QUEUE_BULL_REDIS_PORT: String(redis.port),
		DB_TYPE: 'postgresdb',
		DB_POSTGRESDB_HOST: '127.0.0.1',
		DB_POSTGRESDB_PORT: String(postgres.port),
		DB_POSTGRESDB_USER: postgres.user,
		DB_POSTGRESDB_PASSWORD: '',
		DB_POSTGRESDB_DATABASE: postgres.database,
		N8N_CONCURRENCY_PRODUCTION_LIMIT: '-1',
	};
}

/** n8n's `redis` credential for this server (the gate's store uses database 2, apart from the queue). */
export function redisCredentialData(redis: Service): Record<string, unknown> {
	return { host: '127.0.0.1', port: redis.port, password: '', user: '', database: 2, ssl: false };
}
