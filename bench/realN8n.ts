import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { N8nInstance, buildAndPack, installPackage, type N8nOptions } from '../scripts/n8nHarness';
import { waitForWebhook } from '../test/e2e/incidentGateFixture';
import { PACKAGE, type WorkflowNode } from '../test/e2e/workflows';

/**
 * What the real-n8n sections share: one n8n per section with the package installed, incident
 * senders, /proc memory.
 */

let tarball: string | undefined;

/**
 * Starts an n8n with the package (built and packed once per bench run) after `setUp` imported what
 * it needs.
 */
export async function startN8nWithPackage(
	setUp: (n8n: N8nInstance) => void,
	options: N8nOptions = {},
): Promise<N8nInstance> {
	tarball ??= buildAndPack(mkdtempSync(join(tmpdir(), 'ddos-bench-pack-')));
	const n8n = await new N8nInstance(options).prepare();
	try {
		installPackage(n8n.userFolder, tarball);
		setUp(n8n);
		await n8n.start();
	} catch (error) {
		await stopN8n(n8n);
		throw error;
	}
	return n8n;
}

export async function stopN8n(n8n: N8nInstance): Promise<void> {
	await n8n.stop();
	if (process.env.KEEP_N8N !== '1') n8n.cleanup();
}

/** The shared secret detectors send as "Authorization: Bearer <secret>". */
export const SENDER_SECRET = 'bench-sender-secret-0123456789abcdef0123456789abcdef';
export const senderSecretCredential = { id: 'benchsecret00001', name: 'Detector secret' };

export function importSenderSecret(n8n: N8nInstance): void {
	n8n.importCredentials([
		{
			...senderSecretCredential,
			type: 'incidentWebhookSecretApi',
			data: { secret: SENDER_SECRET, previousSecret: '' },
		},
	]);
}

/**
 * An Incident Webhook Trigger taking normalized events with the Bearer secret; `webhookId` makes
 * its URL.
 */
export const incidentTrigger = (webhookId: string): WorkflowNode => ({
	name: 'Incident Webhook Trigger',
	type: `${PACKAGE}.incidentWebhookTrigger`,
	typeVersion: 1,
	webhookId,
	parameters: { authentication: 'bearerSecret', format: 'normalized' },
	credentials: { incidentWebhookSecretApi: senderSecretCredential },
});

/**
 * n8n's own Webhook node answering on receipt, as the Incident Webhook Trigger does; with Header
 * Auth when given a credential (the detector's Bearer secret), as a user's hand-built path has.
 */
export const onReceiptWebhook = (
	path: string,
	headerAuth?: { id: string; name: string },
): WorkflowNode => ({
	name: 'Webhook',
	type: 'n8n-nodes-base.webhook',
	typeVersion: 2,
	parameters: {
		httpMethod: 'POST',
		path,
		...(headerAuth ? { authentication: 'headerAuth' } : {}),
		responseMode: 'onReceived',
		options: {},
	},
	...(headerAuth ? { credentials: { httpHeaderAuth: headerAuth } } : {}),
});

export const newWebhookId = () => randomUUID();
export const triggerUrl = (n8n: N8nInstance, webhookId: string) =>
	`${n8n.url}/webhook/${webhookId}/incident`;

/**
 * Waits until every URL has a live webhook (a trigger refuses the unauthenticated probe with 401
 * once it listens).
 */
export async function waitForWebhooks(urls: string[]): Promise<void> {
	for (const url of urls) await waitForWebhook(url);
}

export interface IncidentEvent {
	action: 'open' | 'resolve';
	incidentId: string;
	scope: string;
}

/**
 * POSTs one event as a detector would; `answer` is the response text, or why the request itself
 * failed (status 0).
 */
export async function sendEvent(
	url: string,
	event: IncidentEvent,
): Promise<{ status: number; answer: string }> {
	try {
		const response = await fetch(url, {
			method: 'POST',
			headers: { 'content-type': 'application/json', authorization: `Bearer ${SENDER_SECRET}` },
			body: JSON.stringify(event),
		});
		return { status: response.status, answer: await response.text() };
	} catch (error) {
		return { status: 0, answer: String(error) };
	}
}

/** Resident memory of a process and all its descendants (n8n's task runners), from /proc. */
export function processTreeRssBytes(rootPid: number): number {
	const children = new Map<number, number[]>();
	for (const entry of readdirSync('/proc')) {
		if (!/^\d+$/.test(entry)) continue;
		try {
			// The command name (field 2) may hold spaces and parentheses; the parent pid is the second
			// field after it.
			const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
			const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
			children.set(parent, [...(children.get(parent) ?? []), Number(entry)]);
		} catch {
			// the process ended meanwhile
		}
	}
	let total = 0;
	const pending = [rootPid];
	for (let pid = pending.pop(); pid !== undefined; pid = pending.pop()) {
		try {
			const rss = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
			total += Number(rss?.[1] ?? 0) * 1024;
		} catch {
			continue;
		}
		pending.push(...(children.get(pid) ?? []));
	}
	return total;
}

/** The value below which `fraction` of the sorted values lie (nearest rank). */
export function percentile(sorted: number[], fraction: number): number {
	return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1))];
}

export const sleep = async (ms: number) => await new Promise((resolve) => setTimeout(resolve, ms));
