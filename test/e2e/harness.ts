import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import {
	N8nInstance,
	buildAndPack,
	installPackage,
	type N8nOptions,
} from '../../scripts/n8nHarness';
import { PACKAGE, postJson } from './workflows';

/** The owner account the tests log in with (n8n 2.x needs one for the REST API). */
export const OWNER = { email: 'operator@example.test', password: 'Local-test-1' };

/**
 * Where globalSetup leaves the tarball: the package is built and packed once per jest run, not once
 * per file.
 */
const TARBALL_VARIABLE = 'DDOS_E2E_TARBALL';

export function packedPackage(): string {
	const packed = process.env[TARBALL_VARIABLE];
	if (packed && existsSync(packed)) return packed;
	const tarball = buildAndPack(mkdtempSync(join(tmpdir(), 'ddos-pack-')));
	process.env[TARBALL_VARIABLE] = tarball;
	return tarball;
}

/**
 * A real n8n with the packed package installed as the Community Nodes screen would, `load` run on
 * it (import credentials and workflows), started. If it cannot start it is stopped here, since the
 * caller never gets it.
 */
export async function startN8nWith(
	options: N8nOptions,
	load: (n8n: N8nInstance) => void = () => {},
): Promise<N8nInstance> {
	const n8n = await new N8nInstance(options).prepare();
	try {
		installPackage(n8n.userFolder, packedPackage());
		load(n8n);
		await n8n.start();
		return n8n;
	} catch (error) {
		await stopN8n(n8n);
		throw error;
	}
}

/**
 * A real n8n (current version, with the owner account) with these credentials and workflows
 * imported.
 */
export async function startN8nWithWorkflows(
	credentials: Parameters<N8nInstance['importCredentials']>[0],
	workflows: unknown[],
): Promise<N8nInstance> {
	return await startN8nWith({ owner: OWNER }, (instance) => {
		instance.importCredentials(credentials);
		instance.importWorkflows(workflows);
	});
}

/**
 * Stops n8n and the simulators a test file started (after a failed start, those that did start).
 */
export async function stopAll(
	n8n: N8nInstance | undefined,
	...simulators: Array<{ stop(): Promise<void> } | undefined>
): Promise<void> {
	await stopN8n(n8n);
	for (const simulator of simulators) await simulator?.stop();
}

/**
 * Calls a workflow's production webhook (`/webhook/<path>`) and returns what it answers: the last
 * node's items. Any status but 200 fails the test, with the answer.
 */
export async function callWebhook(
	n8n: N8nInstance,
	path: string,
	body?: unknown,
): Promise<unknown> {
	const { status, json } = await postJson(`${n8n.url}/webhook/${path}`, body);
	if (status !== 200)
		throw new Error(`webhook ${path} answered ${status}: ${JSON.stringify(json)}`);
	return json;
}

/**
 * Stops n8n (and its workers) and removes its folder, unless KEEP_N8N=1 asks to keep it for a look.
 */
export async function stopN8n(n8n: N8nInstance | undefined): Promise<void> {
	await n8n?.stop();
	if (process.env.KEEP_N8N !== '1') n8n?.cleanup();
}

/**
 * Polls until `condition` holds; on timeout the error carries what `diagnostics` returns (e.g. an
 * n8n log tail).
 */
export async function waitUntil(
	what: string,
	condition: () => boolean | Promise<boolean>,
	timeoutMs = 60_000,
	diagnostics: () => string | Promise<string> = () => '',
): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	while (!(await condition())) {
		if (Date.now() > deadline)
			throw new Error(`timed out waiting until ${what}\n${await diagnostics()}`);
		await new Promise((resolve) => setTimeout(resolve, 250));
	}
}

/**
 * n8n's own credential test (the editor's "Test" button) for this credential with `data`: `{
 * status, message }`.
 */
export async function testCredential(
	n8n: N8nInstance,
	credential: { id: string; name: string; type: string },
	data: Record<string, unknown>,
): Promise<{ status: string; message: string }> {
	const api = await n8n.login();
	const response = await api('/rest/credentials/test', {
		method: 'POST',
		body: JSON.stringify({ credentials: { ...credential, data } }),
	});
	return ((await response.json()) as { data: { status: string; message: string } }).data;
}

/**
 * What a resource locator's "From List" shows in the editor: n8n's REST call for it, with the
 * node's other current parameters (a list can depend on them, e.g. a prefix's BGP prefixes) and its
 * credential.
 */
export async function listSearch(
	n8n: N8nInstance,
	request: {
		nodeType: string;
		parameter: string;
		methodName: string;
		credentials: Record<string, { id: string; name: string }>;
		parameters?: Record<string, unknown>;
		filter?: string;
	},
): Promise<Array<{ name: string; value: string; url?: string }>> {
	const api = await n8n.login();
	const response = await api('/rest/dynamic-node-parameters/resource-locator-results', {
		method: 'POST',
		body: JSON.stringify({
			nodeTypeAndVersion: { name: `${PACKAGE}.${request.nodeType}`, version: 1 },
			path: request.parameter,
			methodName: request.methodName,
			filter: request.filter,
			currentNodeParameters: request.parameters ?? {},
			credentials: request.credentials,
		}),
	});
	if (response.status !== 200)
		throw new Error(
			`list search ${request.methodName}: HTTP ${response.status} ${await response.text()}`,
		);
	return (
		(await response.json()) as {
			data: { results: Array<{ name: string; value: string; url?: string }> };
		}
	).data.results;
}
