import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A small HTTP server that plays a provider's API on 127.0.0.1 for tests: routes with state, exact
 * auth checks in the provider's subclass, a request log, and fault injection (status + headers +
 * body, delays, malformed bodies).
 */

export interface SimRequest {
	method: string;
	/** Path as sent, still percent-encoded (providers such as OVH sign it). */
	rawPath: string;
	/** Path after the simulator's prefix, decoded segment by segment. */
	path: string;
	query: URLSearchParams;
	headers: Record<string, string>;
	rawBody: string;
	/** JSON or form body, parsed by content type; undefined when empty. */
	body: unknown;
	params: Record<string, string>;
}

export interface SimResponse {
	status: number;
	headers?: Record<string, string>;
	/** Serialized as JSON unless it is a string. */
	body?: unknown;
}

export type Handler = (req: SimRequest) => SimResponse | Promise<SimResponse>;

export interface Fault {
	method?: string;
	/** Matched against the decoded path. */
	path?: RegExp;
	/** Any other condition, e.g. the operation named in a header. */
	when?: (request: SimRequest) => boolean;
	/** How many matching requests it applies to. */
	times?: number;
	/** Answer with this instead of the real handler. */
	response?: SimResponse;
	/** Send a body that is not JSON, with this status (default 200). */
	malformed?: boolean;
	/** Wait before answering (or before running the handler when there is no response). */
	delayMs?: number;
	/** Run the real handler (the change happens), then answer with `response`: a lost reply. */
	afterHandler?: boolean;
	/**
	 * Close the connection without answering (after the real handler ran when `afterHandler` is set).
	 */
	drop?: boolean;
}

/** Logged status of a request whose connection was closed without an answer. */
export const DROPPED = 0;

interface Route {
	method: string;
	pattern: RegExp;
	names: string[];
	handler: Handler;
}

export interface LoggedRequest {
	method: string;
	path: string;
	status: number;
}

export abstract class Simulator {
	readonly log: LoggedRequest[] = [];
	/**
	 * Called with each request once its body has arrived, before it is answered: e.g. to time when a
	 * write reached the provider.
	 */
	onRequest?: (request: SimRequest) => void;
	/**
	 * A network round trip added to every request, as a real provider is 100-300 ms away: half before
	 * the request reaches the provider (onRequest, the handler), half before the answer is back.
	 */
	latencyMs = 0;
	private readonly routes: Route[] = [];
	private faults: Array<Fault & { remaining: number }> = [];
	private server?: Server;
	private port = 0;

	/** Path prefix of the API root, e.g. "/client/v4". */
	protected abstract readonly prefix: string;

	get baseUrl(): string {
		return `http://127.0.0.1:${this.port}${this.prefix}`;
	}

	async start(port = 0): Promise<string> {
		this.server = createServer((req, res) => void this.dispatch(req, res));
		await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
		this.port = (this.server.address() as AddressInfo).port;
		return this.baseUrl;
	}

	async stop(): Promise<void> {
		if (!this.server) return;
		this.server.closeAllConnections();
		await new Promise<void>((resolve) => this.server!.close(() => resolve()));
		this.server = undefined;
	}

	inject(fault: Fault): void {
		this.faults.push({ ...fault, remaining: fault.times ?? 1 });
	}

	clearFaults(): void {
		this.faults = [];
	}

	/** Requests that changed state (anything but GET/HEAD) and succeeded. */
	writes(): LoggedRequest[] {
		return this.log.filter((r) => r.method !== 'GET' && r.method !== 'HEAD' && r.status < 400);
	}

	/** `route('GET', '/zones/:zoneId/settings/security_level', handler)` */
	protected route(method: string, path: string, handler: Handler): void {
		const names: string[] = [];
		const pattern = new RegExp(
			'^' +
				path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/:(\w+)/g, (_, name: string) => {
					names.push(name);
					return '([^/]+)';
				}) +
				'/?$',
		);
		this.routes.push({ method, pattern, names, handler });
	}

	/** Checks authentication; returns an error response to send, or undefined to go on. */
	protected abstract authenticate(req: SimRequest): SimResponse | undefined;

	protected abstract notFound(req: SimRequest): SimResponse;

	private async dispatch(req: IncomingMessage, res: ServerResponse): Promise<void> {
		const chunks: Buffer[] = [];
		for await (const chunk of req) chunks.push(chunk as Buffer);
		const rawBody = Buffer.concat(chunks).toString('utf8');
		const url = new URL(req.url ?? '/', 'http://127.0.0.1');
		const rawPath = url.pathname;
		const relative = rawPath.startsWith(this.prefix)
			? rawPath.slice(this.prefix.length) || '/'
			: rawPath;
		const headers: Record<string, string> = {};
		for (const [name, value] of Object.entries(req.headers)) {
			headers[name] = Array.isArray(value) ? value.join(', ') : (value ?? '');
		}
		const request: SimRequest = {
			method: req.method ?? 'GET',
			rawPath: rawPath + url.search,
			path: relative.split('/').map(safeDecode).join('/'),
			query: url.searchParams,
			headers,
			rawBody,
			body: parseBody(rawBody, headers['content-type']),
			params: {},
		};
		await oneWayDelay(this.latencyMs);
		this.onRequest?.(request);

		const fault = this.takeFault(request);
		let response: SimResponse;
		try {
			response = await this.answer(request, fault);
		} catch (error) {
			response = { status: 500, body: { simulatorError: String(error) } };
		}
		this.log.push({ method: request.method, path: request.path, status: response.status });
		await oneWayDelay(this.latencyMs);
		if (response.status === DROPPED) {
			req.socket.destroy();
			return;
		}
		const isText = typeof response.body === 'string';
		res.writeHead(response.status, {
			'content-type': isText ? 'text/html' : 'application/json',
			...response.headers,
		});
		res.end(
			response.body === undefined
				? ''
				: isText
					? (response.body as string)
					: JSON.stringify(response.body),
		);
	}

	private async answer(request: SimRequest, fault: Fault | undefined): Promise<SimResponse> {
		if (fault?.delayMs) await new Promise((resolve) => setTimeout(resolve, fault.delayMs));
		if (fault?.malformed)
			return { status: fault.response?.status ?? 200, body: '<html>upstream error</html' };
		if (fault?.drop && !fault.afterHandler) return { status: DROPPED };
		if (fault?.response && !fault.afterHandler) return fault.response;

		const denied = this.authenticate(request);
		if (denied) return denied;
		let result: SimResponse | undefined;
		for (const route of this.routes) {
			if (route.method !== request.method) continue;
			const match = route.pattern.exec(request.path);
			if (!match) continue;
			route.names.forEach((name, i) => (request.params[name] = match[i + 1]));
			result = await route.handler(request);
			break;
		}
		result ??= this.notFound(request);
		if (fault?.drop) return { status: DROPPED };
		return fault?.response && fault.afterHandler ? fault.response : result;
	}

	private takeFault(request: SimRequest): Fault | undefined {
		const fault = this.faults.find(
			(f) =>
				f.remaining > 0 &&
				(f.method === undefined || f.method === request.method) &&
				(f.path === undefined || f.path.test(request.path)) &&
				(f.when === undefined || f.when(request)),
		);
		if (fault) fault.remaining--;
		return fault;
	}
}

async function oneWayDelay(roundTripMs: number): Promise<void> {
	if (roundTripMs > 0) await new Promise((resolve) => setTimeout(resolve, roundTripMs / 2));
}

function safeDecode(segment: string): string {
	try {
		return decodeURIComponent(segment);
	} catch {
		return segment;
	}
}

function parseBody(raw: string, contentType = ''): unknown {
	if (raw === '') return undefined;
	if (contentType.includes('application/x-www-form-urlencoded')) return new URLSearchParams(raw);
	try {
		return JSON.parse(raw);
	} catch {
		return raw;
	}
}
