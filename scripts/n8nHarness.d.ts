export const N8N_VERSION: string;
export const REPO: string;
export function ensureN8n(): { node: string; n8n: string; modules: string };
export function buildAndPack(destination: string): string;
export function installPackage(userFolder: string, tarball: string): void;
export function freePort(): Promise<number>;

export interface N8nOptions {
	userFolder?: string;
	port?: number;
	env?: Record<string, string>;
	owner?: { email: string; password: string };
	logFile?: string;
}

export class N8nInstance {
	constructor(options?: N8nOptions);
	readonly userFolder: string;
	readonly url: string;
	readonly logFile: string;
	prepare(): Promise<this>;
	cli(args: string[]): string;
	importCredentials(credentials: Array<{ id: string; name: string; type: string; data: Record<string, unknown> }>): void;
	importWorkflows(workflows: unknown[], options?: { publish?: boolean }): void;
	start(options?: { foreground?: boolean; timeoutMs?: number }): Promise<this>;
	stop(): Promise<void>;
	restart(): Promise<this>;
	logTail(lines?: number): string;
	login(): Promise<(path: string, init?: RequestInit) => Promise<Response>>;
	cleanup(): void;
}
