export const N8N_VERSION: string;
export const REPO: string;
/**
 * Installs `n8nVersion` (default N8N_VERSION) into .cache/n8n-<version> once; 2.x runs on Node 24,
 * 1.x on this Node.
 */
export function ensureN8n(n8nVersion?: string): { node: string; n8n: string; modules: string };
export function buildAndPack(destination: string): string;
export function installPackage(userFolder: string, tarball: string): void;
export function freePort(): Promise<number>;

export interface N8nOptions {
	userFolder?: string;
	port?: number;
	env?: Record<string, string>;
	owner?: { email: string; password: string };
	logFile?: string;
	/** n8n version to run (default N8N_VERSION), e.g. the newest 1.x for the compatibility smoke. */
	n8nVersion?: string;
}

export class N8nInstance {
	constructor(options?: N8nOptions);
	readonly n8nVersion: string;
	readonly userFolder: string;
	readonly url: string;
	readonly logFile: string;
	/** The `n8n start` process while it runs (e.g. to read its memory from /proc). */
	readonly process?: import('node:child_process').ChildProcess;
	prepare(): Promise<this>;
	cli(args: string[]): string;
	importCredentials(
		credentials: Array<{ id: string; name: string; type: string; data: Record<string, unknown> }>,
	): void;
	importWorkflows(workflows: unknown[], options?: { publish?: boolean }): void;
	start(options?: { foreground?: boolean; timeoutMs?: number }): Promise<this>;
	/** Starts an `n8n worker` (queue mode) with this instance's environment; stop() stops it too. */
	startWorker(options?: {
		timeoutMs?: number;
	}): Promise<{ logFile: string; pid?: number; stop(): Promise<void> }>;
	stop(): Promise<void>;
	restart(): Promise<this>;
	/** Waits until production webhooks answer (n8n registers them after it reports ready). */
	waitForWebhooks(paths: string[], timeoutMs?: number): Promise<void>;
	logTail(lines?: number, file?: string): string;
	/**
	 * Signs in as the owner: a fetch that sends the session cookie, and the cookie (`name=value;
	 * ...`) itself.
	 */
	login(): Promise<((path: string, init?: RequestInit) => Promise<Response>) & { cookie: string }>;
	cleanup(): void;
}
