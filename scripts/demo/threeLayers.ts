import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';

import { startBorderLab, type BorderLab } from '../../test/e2e/bgpRouters';
import { startRecordingSshd, type RecordingSshd } from '../../test/e2e/recordingSshd';
import { onPath } from '../../test/e2e/services';
import type { DemoSimulator, WatchedLog } from './simulators';

/**
 * What example 04 needs besides a cloud provider, as real programs on loopback: the BGP layer is
 * Debian's gobgpd (the trigger router the node drives) in a session with BIRD 2 (the border router,
 * whose received routes the status page shows), the server layer an OpenSSH server that records
 * the `nft` commands n8n's SSH node sends instead of running them. The demo uses them when they are
 * installed and never installs system packages itself.
 */

export const THREE_LAYERS_PACKAGES = 'gobgpd bird2 openssh-server';
const POLL_MS = 500;

const run = promisify(execFile);

/** Whether this machine has the programs example 04's BGP and server layers run. */
export function threeLayersInstalled(): boolean {
	return (
		['gobgpd', 'bird', 'birdc', 'ssh-keygen'].every((binary) => onPath(binary)) &&
		existsSync('/usr/sbin/sshd')
	);
}

/** A log that only grows, as the demo reads new entries from where it stopped. */
function growingLog(): WatchedLog & { push(entry: WatchedLog['log'][number]): void } {
	const log: WatchedLog['log'] = [];
	return { log, writes: () => log, push: (entry) => log.push(entry) };
}

/**
 * Each route or FlowSpec rule BIRD received from gobgpd, with its communities, one line each: what
 * an operator checks on the border router (`birdc show route table all protocol gobgpd all`), e.g.
 * "192.0.2.40/32 blackhole communities (65535,666)".
 */
export function receivedRoutes(birdcOutput: string): string[] {
	const routes: string[] = [];
	for (const line of birdcOutput.split('\n')) {
		// "192.0.2.40/32        blackhole [gobgpd ..." or "flow4 { dst 192.0.2.40/32; }  [gobgpd ..."
		const route = /^(?!BIRD |Table )(\S.*?)\s+(?:(\w+)\s+)?\[/.exec(line);
		if (route) routes.push(route[2] ? `${route[1]} ${route[2]}` : route[1]);
		const communities = /^\s+BGP\.(?:ext_)?community: (.+)$/.exec(line);
		if (communities && routes.length > 0)
			routes[routes.length - 1] += ` communities ${communities[1].trim()}`;
	}
	return routes;
}

/** The elements of each nftables set after these `nft add/delete element` commands, in order. */
export function nftSets(commands: string[]): Map<string, Set<string>> {
	const sets = new Map<string, Set<string>>();
	const element = /nft (add|delete) element (\S+ \S+ \S+) '\{ ([^}]*) \}'/g;
	for (const command of commands) {
		for (const [, verb, set, elements] of command.matchAll(element)) {
			const members = sets.get(set) ?? new Set<string>();
			for (const member of elements.split(',').map((e) => e.trim()))
				if (verb === 'add') members.add(member);
				else members.delete(member);
			sets.set(set, members);
		}
	}
	return sets;
}

/**
 * The border router and the attacked server as two watched entries of the demo, or why example 04
 * cannot run here (the rest of the demo runs without it).
 */
export async function startThreeLayers(): Promise<
	{ simulators: DemoSimulator[] } | { unavailable: string }
> {
	if (!threeLayersInstalled())
		return {
			unavailable:
				`its BGP and server layers run this machine's ${THREE_LAYERS_PACKAGES}: ` +
				`apt-get install ${THREE_LAYERS_PACKAGES}, then start the demo again`,
		};
	const notStarted = (error: unknown) => ({
		unavailable: `not started: ${(error as Error).message.split('\n')[0]}`,
	});
	let lab: BorderLab;
	let sshd: RecordingSshd;
	try {
		lab = await startBorderLab();
	} catch (error) {
		return notStarted(error);
	}
	try {
		sshd = await startRecordingSshd();
	} catch (error) {
		await lab.stop();
		return notStarted(error);
	}

	const bgp = growingLog();
	let routes: string[] = [];
	const ssh = growingLog();
	let commands: string[] = [];
	const refresh = async () => {
		const { stdout } = await run('birdc', [
			'-s',
			lab.birdSocket,
			...['show', 'route', 'table', 'all', 'protocol', 'gobgpd', 'all'],
		]);
		const now = receivedRoutes(stdout);
		for (const route of now.filter((r) => !routes.includes(r)))
			bgp.push({ method: 'UPDATE', path: route, status: 'received' });
		for (const route of routes.filter((r) => !now.includes(r)))
			bgp.push({ method: 'WITHDRAW', path: route, status: 'received' });
		routes = now;
		const recorded = sshd.commands();
		for (const command of recorded.slice(commands.length))
			ssh.push({ method: 'SSH', path: command, status: 'recorded, not run' });
		commands = recorded;
	};
	let refreshing = Promise.resolve();
	const poll = setInterval(() => {
		refreshing = refresh().catch(() => undefined); // BIRD restarting: the next poll reads it
	}, POLL_MS);
	poll.unref();
	await refresh();

	return {
		simulators: [
			{
				name: 'Border router (BIRD)',
				sim: {
					...bgp,
					baseUrl: `gobgpd gRPC 127.0.0.1:${lab.apiPort}`,
					async stop() {
						clearInterval(poll);
						await refreshing;
						await lab.stop();
					},
				},
				credential: {
					type: 'gobgpApi',
					name: 'gobgpd trigger router (demo)',
					data: { host: '127.0.0.1', port: lab.apiPort, tls: false },
				},
				targets: {},
				state: () => ({
					mitigating: routes.length > 0,
					resources: routes.length
						? routes.map((route) => `received from gobgpd: ${route}`)
						: ['no route received from gobgpd'],
				}),
			},
			{
				name: 'Attacked server (SSH)',
				sim: { ...ssh, baseUrl: `ssh://${sshd.username}@127.0.0.1:${sshd.port}`, stop: sshd.stop },
				credential: {
					type: 'sshPrivateKey',
					name: 'Attacked server over SSH (demo)',
					data: {
						host: '127.0.0.1',
						port: sshd.port,
						username: sshd.username,
						privateKey: sshd.privateKey,
						passphrase: '',
					},
				},
				targets: {},
				state: () => {
					const sets = [...nftSets(commands)];
					return {
						mitigating: sets.some(([, members]) => members.size > 0),
						resources: sets.length
							? sets.map(
									([set, members]) =>
										`nftables set ${set}: ` +
										(members.size ? `{ ${[...members].join(', ')} }` : 'empty'),
								)
							: ['no nft command received yet'],
					};
				},
			},
		],
	};
}
