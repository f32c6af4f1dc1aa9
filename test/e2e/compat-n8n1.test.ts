import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';

import type { N8nInstance } from '../../scripts/n8nHarness';
import type { CloudflareSimulator } from '../simulators/cloudflare';
import { startCloudflare } from '../unit/cloudflare/fixture';
import {
	cloudflareCredential,
	cloudflareCredentialData,
	expectCloudflareActivation,
	expectCloudflareWithdrawal,
	importCloudflareMitigation,
} from './cloudflareWorkflow';
import { OWNER, callWebhook, startN8nWith, stopAll } from './harness';
import { PACKAGE } from './workflows';

/** The newest n8n 1.x on the npm registry (`npm view n8n versions`); it runs on Node 20. */
const N8N_1_VERSION = '1.123.81';

let sim: CloudflareSimulator;
let n8n: N8nInstance;

beforeAll(async () => {
	sim = await startCloudflare();
	n8n = await startN8nWith({ owner: OWNER, n8nVersion: N8N_1_VERSION }, (instance) => {
		importCloudflareMitigation(instance, sim);
	});
});

afterAll(async () => await stopAll(n8n, sim));

/**
 * Type names n8n gives the installed package's nodes and credentials: the file name, lower camel
 * case.
 */
function installedTypeNames(kind: 'nodes' | 'credentials'): string[] {
	const manifest = join(n8n.userFolder, '.n8n', 'nodes', 'node_modules', PACKAGE, 'package.json');
	const files = (
		JSON.parse(readFileSync(manifest, 'utf8')) as { n8n: Record<typeof kind, string[]> }
	).n8n[kind];
	return files.map((file) => {
		const name = basename(file).split('.')[0];
		return name[0].toLowerCase() + name.slice(1);
	});
}

describe(`the package on n8n ${N8N_1_VERSION}`, () => {
	it('loads every node and credential of the package and tests a credential', async () => {
		const api = await n8n.login();
		const nodeTypes = (
			(await (await api('/types/nodes.json')).json()) as Array<{ name: string }>
		).map((t) => t.name);
		expect(nodeTypes).toEqual(
			expect.arrayContaining(installedTypeNames('nodes').map((name) => `${PACKAGE}.${name}`)),
		);
		const credentialTypes = (
			(await (await api('/types/credentials.json')).json()) as Array<{ name: string }>
		).map((t) => t.name);
		expect(credentialTypes).toEqual(expect.arrayContaining(installedTypeNames('credentials')));

		const response = await api('/rest/credentials/test', {
			method: 'POST',
			body: JSON.stringify({
				credentials: { ...cloudflareCredential, data: cloudflareCredentialData(sim) },
			}),
		});
		expect(await response.json()).toMatchObject({ data: { status: 'OK' } });
	});

	it('advertises the prefix and turns Under Attack on from a webhook', async () => {
		await expectCloudflareActivation(n8n, sim);
	});

	it('after a restart, restores the level it found; a repeat writes nothing', async () => {
		await n8n.restart();
		await expectCloudflareWithdrawal(n8n, sim);

		const writes = sim.writes().length;
		expect(await callWebhook(n8n, 'cf-withdraw')).toEqual([
			expect.objectContaining({ active: false, changed: false }),
		]);
		expect(sim.writes()).toHaveLength(writes);
	});
});
