import {
	Client,
	Metadata,
	credentials as grpcCredentials,
	status,
	type ServiceError,
} from '@grpc/grpc-js';
import type { ICredentialDataDecryptedObject } from 'n8n-workflow';
import { setTimeout as sleep } from 'node:timers/promises';

import { ProviderError } from '../shared/errors';
import type { RetryPolicy } from '../shared/http';
import { SERVICE, decode, encode, type Generation } from './messages';
import {
	fromWirePath,
	toWirePath,
	type Family,
	type RibPath,
	type Route,
	type WirePath,
} from './routes';

export const PROVIDER = 'GoBGP';

/**
 * TableType and TableLookupPrefix numbers differ between generations (v4 added UNSPECIFIED = 0).
 */
const GLOBAL_TABLE: Record<Generation, number> = { v3: 0, v4: 1 };
const ADJ_OUT_TABLE: Record<Generation, number> = { v3: 3, v4: 4 };
/** PeerState.SessionState ESTABLISHED, the same number in both generations. */
const ESTABLISHED = 6;
const EXACT_MATCH: Record<Generation, number> = { v3: 0, v4: 1 };

export interface GobgpCredentials {
	host: string;
	port: number;
	tls: boolean;
	caCertificate?: string;
	serverName?: string;
}

export function readCredentials(data: ICredentialDataDecryptedObject): GobgpCredentials {
	return {
		host: String(data.host ?? '').trim() || '127.0.0.1',
		port: Number(data.port) || 50051,
		tls: data.tls === true,
		caCertificate: formatPem(String(data.caCertificate ?? '')),
		serverName: String(data.serverName ?? '').trim() || undefined,
	};
}

/**
 * A PEM pasted into a one-line field loses its line breaks; OpenSSL needs them back (one base64
 * body per block).
 */
export function formatPem(value: string): string | undefined {
	const blocks = [...value.matchAll(/-----BEGIN ([A-Z ]+)-----([\s\S]*?)-----END \1-----/g)];
	if (!blocks.length) return value.trim() || undefined;
	return blocks
		.map(([, label, body]) => {
			const base64 = body.replace(/\s+/g, '');
			const lines = base64.match(/.{1,64}/g) ?? [];
			return [`-----BEGIN ${label}-----`, ...lines, `-----END ${label}-----`].join('\n');
		})
		.join('\n')
		.concat('\n');
}

/** What the server said about itself when the client found its API generation. */
export interface Speaker {
	generation: Generation;
	asn: number;
	routerId: string;
}

const RETRYABLE = new Set([
	status.UNAVAILABLE,
	status.DEADLINE_EXCEEDED,
	status.RESOURCE_EXHAUSTED,
]);

/**
 * gobgpd's gRPC API, in whichever generation the server speaks: v4 (api.GoBgpService) is asked
 * first and v3 (apipb.GobgpApi) when the server answers UNIMPLEMENTED for it. Calls are retried
 * with backoff on UNAVAILABLE and deadline errors, as ProviderClient does for HTTP.
 */
export class GobgpClient {
	private speaker?: Speaker;

	constructor(
		private readonly client: Client,
		readonly address: string,
		private readonly tls: boolean,
		private readonly retry: RetryPolicy,
	) {}

	static open(credentials: GobgpCredentials, retry: RetryPolicy): GobgpClient {
		const host = credentials.host.includes(':') ? `[${credentials.host}]` : credentials.host;
		const address = `${host}:${credentials.port}`;
		const channel = credentials.tls
			? grpcCredentials.createSsl(
					credentials.caCertificate ? Buffer.from(credentials.caCertificate) : null,
				)
			: grpcCredentials.createInsecure();
		const options = credentials.serverName
			? { 'grpc.ssl_target_name_override': credentials.serverName }
			: {};
		return new GobgpClient(new Client(address, channel, options), address, credentials.tls, retry);
	}

	close(): void {
		this.client.close();
	}

	/** Finds the API generation once per client (GetBgp exists in both). */
	async identify(): Promise<Speaker> {
		if (this.speaker) return this.speaker;
		for (const generation of ['v4', 'v3'] as const) {
			try {
				const reply = await this.unary<{ global?: { asn?: number; routerId?: string } }>(
					generation,
					'GetBgp',
					'GetBgpRequest',
					{},
					'GetBgpResponse',
				);
				this.speaker = {
					generation,
					asn: reply.global?.asn ?? 0,
					routerId: reply.global?.routerId ?? '',
				};
				return this.speaker;
			} catch (error) {
				if (!(error instanceof GrpcFailure) || error.code !== status.UNIMPLEMENTED) throw error;
			}
		}
		throw new ProviderError(
			`The gRPC server at ${this.address} is not gobgpd: it knows neither ${SERVICE.v4} nor ` +
				`${SERVICE.v3}`,
			{
				provider: PROVIDER,
				hint:
					"Point the credential's Host and Port at gobgpd's API (gobgpd --api-hosts, " +
					'default port 50051); this node speaks GoBGP v3 and v4.',
			},
		);
	}

	/** Addresses of the peers whose BGP session is up. */
	async establishedPeers(): Promise<string[]> {
		const { generation } = await this.identify();
		const replies = await this.stream<{
			peer?: { conf?: { neighborAddress?: string }; state?: { sessionState?: number } };
		}>(generation, 'ListPeer', 'ListPeerRequest', {}, 'ListPeerResponse');
		return replies
			.filter((reply) => reply.peer?.state?.sessionState === ESTABLISHED)
			.map((reply) => reply.peer?.conf?.neighborAddress ?? '')
			.filter(Boolean);
	}

	/**
	 * Paths of one family, for one exact prefix when given: in the global RIB, or in what gobgpd
	 * sends one peer (its Adj-RIB-Out) when `peer` is given.
	 */
	async listPaths(family: Family, prefix?: string, peer?: string): Promise<RibPath[]> {
		const { generation } = await this.identify();
		const request = {
			tableType: peer ? ADJ_OUT_TABLE[generation] : GLOBAL_TABLE[generation],
			name: peer ?? '',
			family,
			prefixes: prefix ? [{ prefix, type: EXACT_MATCH[generation] }] : [],
		};
		const replies = await this.stream<{ destination?: { paths?: object[] } }>(
			generation,
			'ListPath',
			'ListPathRequest',
			request,
			'ListPathResponse',
		);
		return replies.flatMap((reply) =>
			(reply.destination?.paths ?? []).map((path) => fromWirePath(path as WirePath, generation)),
		);
	}

	async addPath(route: Route): Promise<void> {
		const { generation } = await this.identify();
		const path = toWirePath(route, generation);
		await this.unary(
			generation,
			'AddPath',
			'AddPathRequest',
			{ tableType: GLOBAL_TABLE[generation], path },
			'AddPathResponse',
		);
	}

	/**
	 * Withdraws exactly this locally added path: the listed path goes back with its own NLRI, family
	 * and path id. (A DeletePath without a path would withdraw every local path gobgpd has: never
	 * sent.)
	 */
	async deletePath(path: RibPath): Promise<void> {
		const { generation } = await this.identify();
		const { nlri, pattrs, family, identifier } = path.raw;
		await this.unary(
			generation,
			'DeletePath',
			'DeletePathRequest',
			{
				tableType: GLOBAL_TABLE[generation],
				family,
				path: { nlri, pattrs, family, identifier, isWithdraw: true },
			},
			generation === 'v4' ? 'DeletePathResponse' : 'Empty',
		);
	}

	private async unary<T>(
		generation: Generation,
		method: string,
		requestType: string,
		request: object,
		responseType: string,
	): Promise<T> {
		return await this.withRetry(
			method,
			() =>
				new Promise<T>((resolve, reject) => {
					this.client.makeUnaryRequest(
						...this.call<T>(generation, method, requestType, request, responseType),
						(error: ServiceError | null, reply?: T) =>
							error ? reject(new GrpcFailure(error)) : resolve(reply as T),
					);
				}),
		);
	}

	private async stream<T>(
		generation: Generation,
		method: string,
		requestType: string,
		request: object,
		responseType: string,
	): Promise<T[]> {
		return await this.withRetry(
			method,
			() =>
				new Promise<T[]>((resolve, reject) => {
					const replies: T[] = [];
					const call = this.client.makeServerStreamRequest(
						...this.call<T>(generation, method, requestType, request, responseType),
					);
					call.on('data', (reply: T) => replies.push(reply));
					call.on('error', (error: ServiceError) => reject(new GrpcFailure(error)));
					call.on('end', () => resolve(replies));
				}),
		);
	}

	/** What starts a call of `method` in the API of `generation`, unary or streaming alike. */
	private call<T>(
		generation: Generation,
		method: string,
		requestType: string,
		request: object,
		responseType: string,
	) {
		return [
			`/${SERVICE[generation]}/${method}`,
			(value: object) => encode(generation, requestType, value),
			(bytes: Buffer) => decode<T>(generation, responseType, bytes),
			request,
			new Metadata(),
			{ deadline: Date.now() + this.retry.timeoutMs },
		] as const;
	}

	private async withRetry<T>(method: string, call: () => Promise<T>): Promise<T> {
		const started = Date.now();
		for (let attempt = 1; ; attempt++) {
			try {
				return await call();
			} catch (error) {
				if (!(error instanceof GrpcFailure)) throw error;
				const waitMs = Math.min(
					this.retry.maxDelayMs,
					this.retry.baseDelayMs * 2 ** (attempt - 1) * (0.5 + Math.random() / 2),
				);
				const giveUp =
					!RETRYABLE.has(error.code) ||
					attempt >= this.retry.maxAttempts ||
					Date.now() - started + waitMs > this.retry.maxRetryTimeMs;
				// UNIMPLEMENTED is how the generation is found: it must reach identify() unchanged.
				if (error.code === status.UNIMPLEMENTED && method === 'GetBgp') throw error;
				if (giveUp) throw this.describe(method, error, attempt);
				await sleep(waitMs);
			}
		}
	}

	private describe(method: string, error: GrpcFailure, attempts: number): ProviderError {
		const said = error.details || error.message;
		const tries = attempts > 1 ? ` (gave up after ${attempts} attempts)` : '';
		const base = { provider: PROVIDER, providerCode: status[error.code], providerMessage: said };
		if (error.code === status.UNAVAILABLE) {
			const tlsProblem = /ssl|tls|handshake|certificate|wrong_version|self.signed/i.test(said);
			if (tlsProblem)
				return new ProviderError(`TLS with gobgpd at ${this.address} failed: ${said}`, {
					...base,
					hint: this.tls
						? 'gobgpd must run with --tls --tls-cert-file --tls-key-file; put the CA that signed ' +
							'its certificate in CA Certificate and, if the name differs from Host, set ' +
							"'Server Name'."
						: "gobgpd expects TLS here: turn on 'Use TLS' in the credential.",
				});
			// The channel's own words ("connect ECONNREFUSED ...") stay in providerMessage: n8n would
			// replace a message containing them with a generic "service refused the connection".
			return new ProviderError(`gobgpd is not answering at ${this.address}${tries}`, {
				...base,
				hint:
					'Start gobgpd, or set the credential to where its gRPC API listens: gobgpd --api-hosts ' +
					'(default :50051; bind it to 127.0.0.1 or a management address). A server that only ' +
					"speaks TLS also shows as unavailable without 'Use TLS'.",
			});
		}
		if (error.code === status.DEADLINE_EXCEEDED)
			return new ProviderError(
				`gobgpd at ${this.address} did not answer ${method} in time${tries}`,
				{
					...base,
					hint: 'Raise Request Timeout under Options, or check that gobgpd is not overloaded.',
				},
			);
		if (error.code === status.UNIMPLEMENTED)
			return new ProviderError(`gobgpd at ${this.address} does not implement ${method}`, {
				...base,
				hint: 'This node speaks the GoBGP v3 and v4 APIs; upgrade gobgpd to 3.x or later.',
			});
		return new ProviderError(`gobgpd refused ${method}: ${said}`, {
			...base,
			hint:
				'gobgpd checks the route against its configuration: the address family must be enabled ' +
				'for the global RIB and the peers (afi-safis), and the next hop must be valid for it.',
		});
	}
}

/** A gRPC status from the server or the channel, before it is described for the user. */
class GrpcFailure extends Error {
	readonly code: status;
	readonly details: string;

	constructor(error: ServiceError) {
		super(error.message);
		this.code = error.code;
		this.details = error.details;
	}
}
