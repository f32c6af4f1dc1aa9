import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { freePort } from '../../scripts/n8nHarness';
import { aptInstall, onPath, stopChild, waitForPort } from './services';

/**
 * An RTBH trigger router and a border router on loopback, as an operator runs them: Debian's
 * gobgpd (the node drives its gRPC API) in an iBGP session with Debian's BIRD 2, which null-routes
 * the discard next hops and keeps FlowSpec rules in its flow tables. Installed from Debian when
 * missing; every port is a free one on 127.0.0.1.
 */

export const ASN = 64512;

export interface BorderLab {
	/** gobgpd's gRPC API port on 127.0.0.1. */
	apiPort: number;
	/** BIRD's control socket, for `birdc -s`. */
	birdSocket: string;
	/** BIRD's view of a table, as `birdc show route ... all` prints it. */
	birdRoutes(table: 'master4' | 'master6' | 'flowtab4' | 'flowtab6'): string;
	/** gobgpd's and BIRD's logs, for a failed wait. */
	logs(): string;
	stop(): Promise<void>;
}

const gobgpdConfig = (bgpPort: number, birdPort: number) => `
[global.config]
  as = ${ASN}
  router-id = "192.0.2.254"
  port = ${bgpPort}
  local-address-list = ["127.0.0.1"]

[[neighbors]]
  [neighbors.config]
    neighbor-address = "127.0.0.1"
    peer-as = ${ASN}
  [neighbors.transport.config]
    remote-port = ${birdPort}
    passive-mode = true
${['ipv4-unicast', 'ipv6-unicast', 'ipv4-flowspec', 'ipv6-flowspec']
	.map(
		(family) => `  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "${family}"`,
	)
	.join('\n')}
`;

// The border router null-routes the discard next hops (RFC 5635 RTBH), so the blackhole routes
// resolve.
const birdConfig = (bgpPort: number, birdPort: number) => `
router id 192.0.2.253;
protocol device {}
protocol static discard4 { ipv4; route 192.0.2.1/32 blackhole; }
protocol static discard6 { ipv6; route 100::/64 blackhole; }
flow4 table flowtab4;
flow6 table flowtab6;
protocol bgp gobgpd {
  local 127.0.0.1 port ${birdPort} as ${ASN};
  neighbor 127.0.0.1 port ${bgpPort} as ${ASN};
  ipv4 { import all; export none; };
  ipv6 { import all; export none; };
  flow4 { table flowtab4; import all; export none; };
  flow6 { table flowtab6; import all; export none; };
}
`;

/** Ports that were free when picked can be taken before a daemon binds them (a busy CI machine's
 * outgoing connections): a daemon that exits at start gets fresh ports, up to three times. */
export async function startBorderLab(): Promise<BorderLab> {
	if (!onPath('gobgpd') || !onPath('bird')) aptInstall('gobgpd', 'bird2');
	for (let attempt = 1; ; attempt++) {
		try {
			return await startBorderLabOnce();
		} catch (error) {
			if (!(error instanceof DaemonExited) || attempt === 3) throw error;
		}
	}
}

class DaemonExited extends Error {}

async function startBorderLabOnce(): Promise<BorderLab> {
	const dir = mkdtempSync(join(tmpdir(), 'bgp-lab-'));
	const [apiPort, bgpPort, birdPort] = [await freePort(), await freePort(), await freePort()];
	writeFileSync(join(dir, 'gobgpd.toml'), gobgpdConfig(bgpPort, birdPort));
	writeFileSync(join(dir, 'bird.conf'), birdConfig(bgpPort, birdPort));
	const socket = join(dir, 'bird.ctl');
	const gobgpdLog = join(dir, 'gobgpd.log');
	const birdLog = join(dir, 'bird.log');

	const gobgpd = spawn(
		'gobgpd',
		['-f', join(dir, 'gobgpd.toml'), '-p', `--api-hosts=127.0.0.1:${apiPort}`, '--pprof-disable'],
		{ stdio: ['ignore', 'pipe', 'pipe'] },
	);
	const bird = spawn(
		'bird',
		['-f', '-c', join(dir, 'bird.conf'), '-s', socket, '-P', join(dir, 'bird.pid')],
		{ stdio: ['ignore', 'pipe', 'pipe'] },
	);
	const collect = (child: typeof gobgpd, file: string) => {
		writeFileSync(file, '');
		const append = (chunk: Buffer) => writeFileSync(file, chunk, { flag: 'a' });
		child.stdout?.on('data', append);
		child.stderr?.on('data', append);
	};
	collect(gobgpd, gobgpdLog);
	collect(bird, birdLog);

	const birdc = (...args: string[]) =>
		execFileSync('birdc', ['-s', socket, ...args], { encoding: 'utf8' });
	const lab: BorderLab = {
		apiPort,
		birdSocket: socket,
		birdRoutes: (table) => birdc('show', 'route', 'table', table, 'all'),
		logs: () =>
			`--- gobgpd\n${readFileSync(gobgpdLog, 'utf8').slice(-2000)}\n` +
			`--- bird\n${readFileSync(birdLog, 'utf8').slice(-2000)}`,
		async stop() {
			await stopChild(gobgpd);
			await stopChild(bird);
			rmSync(dir, { recursive: true, force: true });
		},
	};
	try {
		await waitForPort(apiPort, gobgpd, 'gobgpd').catch((error: Error) => {
			const message = `${error.message}\n${lab.logs()}`;
			throw gobgpd.exitCode === null ? new Error(message) : new DaemonExited(message);
		});
		const deadline = Date.now() + 60_000;
		const established = () => {
			try {
				return /Established/.test(birdc('show', 'protocols', 'gobgpd'));
			} catch {
				return false; // BIRD's control socket is not there yet
			}
		};
		while (!established()) {
			if (gobgpd.exitCode !== null || bird.exitCode !== null)
				throw new DaemonExited(`gobgpd or BIRD exited at start\n${lab.logs()}`);
			if (Date.now() > deadline)
				throw new Error(`the BGP session gobgpd - BIRD did not come up\n${lab.logs()}`);
			await new Promise((resolve) => setTimeout(resolve, 250));
		}
		return lab;
	} catch (error) {
		await lab.stop();
		throw error;
	}
}

export interface TlsGobgpd {
	apiPort: number;
	/** The self-signed certificate gobgpd presents, issued to `serverName` only. */
	certificate: string;
	serverName: string;
	stop(): Promise<void>;
}

/**
 * A gobgpd (no peers, no BGP listener) whose gRPC API only speaks TLS, with a fresh self-signed
 * certificate.
 */
export async function startTlsGobgpd(): Promise<TlsGobgpd> {
	if (!onPath('gobgpd')) aptInstall('gobgpd', 'bird2');
	if (!onPath('openssl')) aptInstall('openssl');
	const dir = mkdtempSync(join(tmpdir(), 'bgp-tls-'));
	const serverName = 'gobgpd.test';
	const [cert, key] = [join(dir, 'api.crt'), join(dir, 'api.key')];
	execFileSync(
		'openssl',
		[
			'req',
			'-x509',
			'-newkey',
			'rsa:2048',
			'-nodes',
			'-days',
			'1',
			'-subj',
			`/CN=${serverName}`,
			'-addext',
			`subjectAltName=DNS:${serverName}`,
			'-keyout',
			key,
			'-out',
			cert,
		],
		{ stdio: 'ignore' },
	);
	writeFileSync(
		join(dir, 'gobgpd.toml'),
		`[global.config]\n  as = ${ASN}\n  router-id = "192.0.2.252"\n  port = -1\n`,
	);
	const apiPort = await freePort();
	const gobgpd = spawn(
		'gobgpd',
		[
			'-f',
			join(dir, 'gobgpd.toml'),
			'-p',
			`--api-hosts=127.0.0.1:${apiPort}`,
			'--pprof-disable',
			'--tls',
			`--tls-cert-file=${cert}`,
			`--tls-key-file=${key}`,
		],
		{ stdio: 'ignore' },
	);
	const stop = async () => {
		await stopChild(gobgpd);
		rmSync(dir, { recursive: true, force: true });
	};
	try {
		await waitForPort(apiPort, gobgpd, 'gobgpd (TLS)');
	} catch (error) {
		await stop();
		throw error;
	}
	return { apiPort, certificate: readFileSync(cert, 'utf8'), serverName, stop };
}
