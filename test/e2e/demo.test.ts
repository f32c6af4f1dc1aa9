import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { REPO, freePort } from '../../scripts/n8nHarness';
import type { DemoState } from '../../scripts/demo/statusPage';
import { THREE_LAYERS_PACKAGES, threeLayersInstalled } from '../../scripts/demo/threeLayers';
import { waitUntil as until } from './harness';
import { aptInstall } from './services';

/**
 * `npm start -- --demo` as a newcomer runs it: started as a child process, driven only by the
 * commands it prints, and watched through its status page. Mitigation must go on once, stay on
 * through a second wave and the first resolve, and come off after the last resolve (after the
 * hold-down where the example has one); Ctrl-C must stop everything.
 */

const HOLD_DOWN_SECONDS = 20;
// Magic Transit (example 01), the FastNetMon lockdowns (example 03) and the three layers (example
// 04: its own Magic Transit prefix, RTBH at the border router, nftables on the server) hold down;
// example 02 withdraws at once.
const HELD_DOWN = [
	'Cloudflare',
	'DigitalOcean',
	'Vultr',
	'Linode',
	'Border router (BIRD)',
	'Attacked server (SSH)',
];
const MITIGATORS = [...HELD_DOWN, 'OVH', 'Hetzner Robot'];

const run = promisify(execFile);
const listening = (port: number) =>
	new Promise<boolean>((resolve) => {
		const socket = connect({ host: '127.0.0.1', port }, () => {
			socket.destroy();
			resolve(true);
		});
		socket.on('error', () => resolve(false));
	});
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let demo: ChildProcess;
let exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
let output = '';
let statusUrl: string;
let n8nUrl: string;
const userFolder = mkdtempSync(join(tmpdir(), 'ddos-demo-'));

/** Waits for something the demo does; a timeout shows its output. */
const waitUntil = (what: string, condition: () => boolean | Promise<boolean>, timeoutMs?: number) =>
	until(what, condition, timeoutMs, () => `demo output:\n${output.slice(-4000)}`);

const state = async () => (await (await fetch(`${statusUrl}state`)).json()) as DemoState;
const simulator = (s: DemoState, name: string) => s.simulators.find((sim) => sim.name === name)!;
const mitigating = async (names: string[]) => {
	const current = await state();
	return names.map((name) => simulator(current, name).mitigating);
};

beforeAll(async () => {
	// The demo runs example 04's BGP and server layers on these when installed; it never installs
	// them itself.
	if (!threeLayersInstalled()) aptInstall(...THREE_LAYERS_PACKAGES.split(' '));
	const [port, statusPort] = [await freePort(), await freePort()];
	n8nUrl = `http://127.0.0.1:${port}`;
	statusUrl = `http://127.0.0.1:${statusPort}/`;
	demo = spawn(process.execPath, ['scripts/start.js', '--demo'], {
		cwd: REPO,
		env: {
			...process.env,
			PORT: String(port),
			DEMO_PORT: String(statusPort),
			N8N_DDOS_DEMO_FOLDER: userFolder,
		},
		stdio: ['ignore', 'pipe', 'pipe'],
	});
	exited = new Promise((resolve) => demo.once('exit', (code, signal) => resolve({ code, signal })));
	demo.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
	demo.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
	// A fresh clone builds and packs first.
	await waitUntil(
		'the demo is ready',
		() => output.includes('Demo ready.') || demo.exitCode !== null,
		10 * 60_000,
	);
	if (demo.exitCode !== null) throw new Error(`the demo exited while starting:\n${output}`);
});

afterAll(async () => {
	if (demo.exitCode === null && demo.signalCode === null) {
		demo.kill('SIGINT');
		await exited;
	}
	rmSync(userFolder, { recursive: true, force: true });
});

describe('npm start -- --demo', () => {
	it('prints the login, the status page and the incident commands', () => {
		expect(output).toContain(`Open:      ${n8nUrl}`);
		expect(output).toContain(`Status page: ${statusUrl}`);
		for (const example of [
			'01-pagerduty-magic-transit.json',
			'03-fastnetmon-firewall-lockdown.json',
			'04-three-layers.json',
		])
			expect(output).toContain(example);
		expect(output).not.toContain('not imported');
		expect(output).toContain(`Hold-downs here are ${HOLD_DOWN_SECONDS} s`);
	});

	it('wires every example node to a credential named for its simulator', async () => {
		const [, email, password] = /Sign in: +(\S+) \/ (\S+)/.exec(output)!;
		const login = await fetch(`${n8nUrl}/rest/login`, {
			method: 'POST',
			headers: { 'content-type': 'application/json' },
			body: JSON.stringify({ emailOrLdapLoginId: email, password }),
		});
		expect(login.status).toBe(200);
		const cookie = login.headers
			.getSetCookie()
			.map((c) => c.split(';')[0])
			.join('; ');
		const rest = async <T>(path: string) =>
			(
				(await (await fetch(`${n8nUrl}/rest${path}`, { headers: { cookie } })).json()) as {
					data: T;
				}
			).data;

		const credentials = await rest<Array<{ name: string }>>('/credentials');
		expect(credentials.map((c) => c.name)).toEqual(
			expect.arrayContaining([
				'Cloudflare (demo simulator)',
				'PagerDuty (demo simulator)',
				'Detector secret (demo)',
			]),
		);
		const workflows = await rest<Array<{ id: string }>>('/workflows');
		expect(workflows.length).toBeGreaterThanOrEqual(2);
		const used = new Set<string>();
		for (const { id } of workflows) {
			const { nodes } = await rest<{
				nodes: Array<{ credentials?: Record<string, { name: string }> }>;
			}>(`/workflows/${id}`);
			for (const node of nodes)
				for (const { name } of Object.values(node.credentials ?? {})) used.add(name);
		}
		expect([...used]).toEqual(
			expect.arrayContaining([
				'Cloudflare (demo simulator)',
				'DigitalOcean (demo simulator)',
				'PagerDuty (demo simulator)',
			]),
		);
		expect(
			[...used].every(
				(name) => credentials.some((c) => c.name === name) && /\(demo( simulator)?\)$/.test(name),
			),
		).toBe(true);
	});

	it(
		'turns mitigation on once, keeps it through a second wave, ' +
			'and turns it off after the last resolve',
		async () => {
			const commands = [...output.matchAll(/^ {2}node (scripts\/demo-incident\.js .+)$/gm)].map(
				(match) => match[1].split(' '),
			);
			expect(commands.map((args) => args.slice(1, 3))).toEqual([
				['open', 'wave-1'],
				['open', 'wave-2'],
				['resolve', 'wave-1'],
				['resolve', 'wave-2'],
			]);
			const [openFirst, openSecond, resolveFirst, resolveSecond] = commands;
			const runPrinted = async (args: string[]) =>
				expect((await run(process.execPath, args, { cwd: REPO })).stdout).toContain('-> n8n 200');

			await runPrinted(openFirst);
			await waitUntil(
				'every provider mitigates',
				async () => (await mitigating(MITIGATORS)).every(Boolean),
				90_000,
			);
			const page = await (await fetch(statusUrl)).text();
			expect(page).toContain('MITIGATING');
			// what the border router received: the attacked address with the BLACKHOLE community
			expect(page).toMatch(
				/received from gobgpd: 192\.0\.2\.40\/32 blackhole communities \(65535,666\)/,
			);
			expect(page).toContain('nftables set inet ddos attacked: { 192.0.2.40 }');
			const writesWhenOn = (await state()).simulators.map((s) => s.writes);

			await runPrinted(openSecond);
			await runPrinted(resolveFirst);
			// past the hold-down: one incident is still open, so nothing may change
			await sleep((HOLD_DOWN_SECONDS + 8) * 1000);
			const held = await state();
			expect(await mitigating(MITIGATORS)).toEqual(MITIGATORS.map(() => true));
			expect(held.simulators.map((s) => s.writes)).toEqual(writesWhenOn);

			await runPrinted(resolveSecond);
			const resolvedAt = Date.parse((await state()).incidents.at(-1)!.at);
			await waitUntil(
				'every provider stops mitigating',
				async () => (await mitigating(MITIGATORS)).every((on) => !on),
				120_000,
			);

			const final = await state();
			for (const name of MITIGATORS)
				expect(simulator(final, name).changes.map((c) => c.mitigating)).toEqual([true, false]);
			for (const name of HELD_DOWN) {
				const offAt = Date.parse(simulator(final, name).changes[1].at);
				expect(offAt - resolvedAt).toBeGreaterThanOrEqual(HOLD_DOWN_SECONDS * 1000);
			}
			// One advertise, one withdraw, for each of the two Magic Transit prefixes (examples 01, 04).
			expect(simulator(final, 'Cloudflare').writes).toBe(4);
			// One route announced and withdrawn, one nft command each way.
			expect(simulator(final, 'Border router (BIRD)').writes).toBe(2);
			expect(simulator(final, 'Attacked server (SSH)').writes).toBe(2);
			expect(output).toMatch(/>>> Cloudflare mitigation ON[\s\S]*>>> Cloudflare mitigation OFF/);
		},
	);

	it('stops n8n and the simulators on Ctrl-C', async () => {
		const addresses = (await state()).simulators.map((s) => s.baseUrl);
		const simulatorUrls = addresses.filter((url) => url.startsWith('http'));
		// gobgpd's API and the SSH server, e.g. "gobgpd gRPC 127.0.0.1:41234"
		const daemonPorts = addresses
			.filter((address) => !address.startsWith('http'))
			.map((address) => Number(/127\.0\.0\.1:(\d+)/.exec(address)![1]));
		expect(daemonPorts).toHaveLength(2);
		demo.kill('SIGINT');
		expect(await exited).toEqual({ code: 0, signal: null });
		for (const url of [statusUrl, `${n8nUrl}/healthz`, ...simulatorUrls])
			await expect(fetch(url)).rejects.toThrow();
		for (const port of daemonPorts) expect(await listening(port)).toBe(false);
	});
});
