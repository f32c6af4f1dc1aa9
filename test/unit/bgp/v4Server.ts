import {
	Server,
	ServerCredentials,
	status,
	type UntypedServiceImplementation,
} from '@grpc/grpc-js';

import { decode, encode } from '../../../nodes/Bgp/messages';

/**
 * A stand-in for a GoBGP v4 gobgpd (service api.GoBgpService) on a free loopback port, built from
 * the node's own v4 message definitions: it keeps a global RIB of the paths it is sent, answers
 * ListPath from it, and records every request so tests can check what the node sent on the wire.
 */

export interface V4Path {
	nlri?: {
		prefix?: { prefixLen?: number; prefix?: string };
		flowSpec?: { rules?: object[] };
	};
	pattrs?: Array<Record<string, unknown>>;
	family?: { afi?: number; safi?: number };
	neighborIp?: string;
	identifier?: number;
}

export interface V4Gobgpd {
	port: number;
	requests: Array<{ method: string; body: Record<string, unknown> }>;
	/** The RIB: paths keyed by family and NLRI, as gobgpd keeps one path per source and NLRI. */
	rib: Map<string, V4Path>;
	/** Peers and whether their session is up; an established peer is sent every path in the RIB. */
	peers: Map<string, boolean>;
	stop(): Promise<void>;
}

const keyOf = (path: V4Path) =>
	JSON.stringify([path.family, path.nlri, path.neighborIp ?? '', path.identifier ?? 0]);

const prefixOf = (path: V4Path) =>
	path.nlri?.prefix ? `${path.nlri.prefix.prefix}/${path.nlri.prefix.prefixLen}` : undefined;

const method = (name: string, request: string, response: string, responseStream = false) => ({
	path: `/api.GoBgpService/${name}`,
	requestStream: false,
	responseStream,
	requestSerialize: (value: object) => encode('v4', request, value),
	requestDeserialize: (bytes: Buffer) => decode('v4', request, bytes),
	responseSerialize: (value: object) => encode('v4', response, value),
	responseDeserialize: (bytes: Buffer) => decode('v4', response, bytes),
});

export async function startV4Gobgpd(port = 0): Promise<V4Gobgpd> {
	const server = new Server();
	const requests: V4Gobgpd['requests'] = [];
	const rib = new Map<string, V4Path>();
	const peers = new Map([
		['10.0.0.1', true],
		['10.0.0.9', false],
	]);
	const record = (name: string, body: unknown) =>
		requests.push({ method: name, body: body as Record<string, unknown> });

	const implementation: UntypedServiceImplementation = {
		GetBgp: (call: { request: unknown }, callback: (e: null, r: object) => void) => {
			record('GetBgp', call.request);
			callback(null, { global: { asn: 64512, routerId: '192.0.2.254', listenPort: 179 } });
		},
		AddPath: (
			call: { request: { tableType: number; path: V4Path } },
			callback: (e: { code: number; details: string } | null, r?: object) => void,
		) => {
			record('AddPath', call.request);
			const { path } = call.request;
			if (call.request.tableType !== 1)
				return callback({ code: status.INVALID_ARGUMENT, details: 'table type must be GLOBAL' });
			if (!path.nlri || !path.family)
				return callback({ code: status.INVALID_ARGUMENT, details: 'nlri not found' });
			rib.set(keyOf(path), path);
			callback(null, { uuid: Buffer.alloc(16, 1) });
		},
		DeletePath: (
			call: { request: { path?: V4Path } },
			callback: (e: { code: number; details: string } | null, r?: object) => void,
		) => {
			record('DeletePath', call.request);
			const { path } = call.request;
			// Without a path, real gobgpd withdraws every local path: the node must never send that.
			if (!path) return callback({ code: status.FAILED_PRECONDITION, details: 'no path given' });
			rib.delete(keyOf({ ...path, neighborIp: '' }));
			callback(null, {});
		},
		ListPeer: (call: { request: unknown; write: (r: object) => void; end: () => void }) => {
			record('ListPeer', call.request);
			const peer = (address: string, sessionState: number) => ({
				peer: {
					conf: { neighborAddress: address },
					state: { neighborAddress: address, sessionState },
				},
			});
			for (const [address, up] of peers) call.write(peer(address, up ? 6 : 3));
			call.end();
		},
		ListPath: (call: {
			request: {
				tableType: number;
				name: string;
				family: V4Path['family'];
				prefixes?: Array<{ prefix: string; type: number }>;
			};
			write: (r: object) => void;
			end: () => void;
		}) => {
			record('ListPath', call.request);
			// An established peer's Adj-RIB-Out holds the global RIB; any other peer's is empty.
			if (call.request.tableType === 4 && !peers.get(call.request.name)) return call.end();
			const wanted = call.request.prefixes?.map((p) => p.prefix) ?? [];
			for (const path of rib.values()) {
				if (JSON.stringify(path.family) !== JSON.stringify(call.request.family)) continue;
				const prefix = prefixOf(path);
				if (wanted.length && (!prefix || !wanted.includes(prefix))) continue;
				const listed = { ...path, neighborIp: path.neighborIp || '<nil>', best: true };
				call.write({ destination: { prefix: prefix ?? '', paths: [listed] } });
			}
			call.end();
		},
	};

	server.addService(
		{
			GetBgp: method('GetBgp', 'GetBgpRequest', 'GetBgpResponse'),
			AddPath: method('AddPath', 'AddPathRequest', 'AddPathResponse'),
			DeletePath: method('DeletePath', 'DeletePathRequest', 'DeletePathResponse'),
			ListPath: method('ListPath', 'ListPathRequest', 'ListPathResponse', true),
			ListPeer: method('ListPeer', 'ListPeerRequest', 'ListPeerResponse', true),
		},
		implementation,
	);
	const bound = await new Promise<number>((resolve, reject) =>
		server.bindAsync(`127.0.0.1:${port}`, ServerCredentials.createInsecure(), (error, bound) =>
			error ? reject(error) : resolve(bound),
		),
	);
	return {
		port: bound,
		requests,
		rib,
		peers,
		stop: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
	};
}
