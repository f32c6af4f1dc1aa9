import { execFileSync, spawn } from 'node:child_process';
import {
	chmodSync,
	existsSync,
	mkdirSync,
	mkdtempSync,
	readFileSync,
	rmSync,
	writeFileSync,
} from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';

import { freePort } from '../../scripts/n8nHarness';
import { aptInstall, stopChild, waitForPort, type Service } from './services';

export interface RecordingSshd extends Service {
	/** The login and its private key (PEM) for n8n's SSH credential. */
	username: string;
	privateKey: string;
	/** Every command a client asked to run, in order; none of them is run. */
	commands(): string[];
}

/**
 * An OpenSSH server on loopback that accepts one generated key and records the commands it is asked
 * to run instead of running them (ForceCommand), so a workflow's `nft ...` can be checked without
 * touching this machine's firewall.
 */
export async function startRecordingSshd(): Promise<RecordingSshd> {
	if (!existsSync('/usr/sbin/sshd')) aptInstall('openssh-server');
	const dir = mkdtempSync(join(tmpdir(), 'sshd-'));
	const keygen = (file: string) =>
		execFileSync('ssh-keygen', [
			'-q',
			'-t',
			'rsa',
			'-b',
			'2048',
			'-m',
			'PEM',
			'-N',
			'',
			'-f',
			file,
		]);
	keygen(join(dir, 'host_key'));
	keygen(join(dir, 'client_key'));
	writeFileSync(join(dir, 'authorized_keys'), readFileSync(join(dir, 'client_key.pub')));
	const log = join(dir, 'commands.log');
	writeFileSync(log, '');
	writeFileSync(
		join(dir, 'record.sh'),
		`#!/bin/sh\nprintf '%s\\n' "$SSH_ORIGINAL_COMMAND" >> ${log}\n`,
	);
	chmodSync(join(dir, 'record.sh'), 0o755);
	const port = await freePort();
	writeFileSync(
		join(dir, 'sshd_config'),
		[
			`Port ${port}`,
			'ListenAddress 127.0.0.1',
			`HostKey ${join(dir, 'host_key')}`,
			`AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
			`PidFile ${join(dir, 'sshd.pid')}`,
			`ForceCommand ${join(dir, 'record.sh')}`,
			'PasswordAuthentication no',
			'KbdInteractiveAuthentication no',
			'PermitRootLogin prohibit-password',
			'UsePAM no',
			'StrictModes no',
		].join('\n') + '\n',
	);
	// sshd started as root wants its privilege separation directory.
	if (process.getuid?.() === 0) mkdirSync('/run/sshd', { recursive: true });
	const child = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', join(dir, 'sshd_config')], {
		stdio: 'ignore',
	});
	await waitForPort(port, child, 'sshd');
	return {
		port,
		username: userInfo().username,
		privateKey: readFileSync(join(dir, 'client_key'), 'utf8'),
		commands: () => readFileSync(log, 'utf8').split('\n').filter(Boolean),
		async stop() {
			await stopChild(child);
			rmSync(dir, { recursive: true, force: true });
		},
	};
}
