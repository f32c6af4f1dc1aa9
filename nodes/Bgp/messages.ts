import { Root, type INamespace, type Type } from 'protobufjs';

/**
 * The few gobgpd gRPC messages this node uses, written from GoBGP's published API definitions
 * (osrg/gobgp, api/ in v3 and proto/api/ in v4). Only the fields read or written here are declared;
 * protobufjs skips the others on the wire. Enum fields are declared as int32: the wire encoding is
 * the same varint.
 */

const field = (type: string, id: number, repeated = false) =>
	repeated ? { type, id, rule: 'repeated' } : { type, id };

/** Messages whose shape is the same in both generations (field numbers included). */
const common: INamespace['nested'] = {
	Family: { fields: { afi: field('int32', 1), safi: field('int32', 2) } },
	TableLookupPrefix: { fields: { prefix: field('string', 1), type: field('int32', 2) } },
	ListPathRequest: {
		fields: {
			tableType: field('int32', 1),
			name: field('string', 2),
			family: field('Family', 3),
			prefixes: field('TableLookupPrefix', 4, true),
		},
	},
	ListPathResponse: { fields: { destination: field('Destination', 1) } },
	Destination: { fields: { prefix: field('string', 1), paths: field('Path', 2, true) } },
	AddPathRequest: { fields: { tableType: field('int32', 1), path: field('Path', 3) } },
	AddPathResponse: { fields: { uuid: field('bytes', 1) } },
	DeletePathRequest: {
		fields: { tableType: field('int32', 1), family: field('Family', 3), path: field('Path', 4) },
	},
	ListPeerRequest: { fields: { address: field('string', 1) } },
	ListPeerResponse: { fields: { peer: field('Peer', 1) } },
	Peer: { fields: { conf: field('PeerConf', 2), state: field('PeerState', 5) } },
	PeerConf: { fields: { neighborAddress: field('string', 4) } },
	PeerState: {
		fields: { neighborAddress: field('string', 5), sessionState: field('int32', 13) },
	},
	Empty: { fields: {} },
	GetBgpRequest: { fields: {} },
	GetBgpResponse: { fields: { global: field('Global', 1) } },
	Global: {
		fields: {
			asn: field('uint32', 1),
			routerId: field('string', 2),
			listenPort: field('int32', 3),
		},
	},
	OriginAttribute: { fields: { origin: field('uint32', 1) } },
	NextHopAttribute: { fields: { nextHop: field('string', 1) } },
	CommunitiesAttribute: { fields: { communities: field('uint32', 1, true) } },
	LargeCommunity: {
		fields: {
			globalAdmin: field('uint32', 1),
			localData1: field('uint32', 2),
			localData2: field('uint32', 3),
		},
	},
	LargeCommunitiesAttribute: { fields: { communities: field('LargeCommunity', 1, true) } },
	IPAddressPrefix: { fields: { prefixLen: field('uint32', 1), prefix: field('string', 2) } },
	FlowSpecIPPrefix: {
		fields: {
			type: field('uint32', 1),
			prefixLen: field('uint32', 2),
			prefix: field('string', 3),
			offset: field('uint32', 4),
		},
	},
	FlowSpecComponentItem: { fields: { op: field('uint32', 1), value: field('uint64', 2) } },
	FlowSpecComponent: {
		fields: { type: field('uint32', 1), items: field('FlowSpecComponentItem', 2, true) },
	},
	TrafficRateExtended: { fields: { asn: field('uint32', 1), rate: field('float', 2) } },
};

const pathFields = {
	age: field('Timestamp', 3),
	best: field('bool', 4),
	isWithdraw: field('bool', 5),
	family: field('Family', 9),
	sourceAsn: field('uint32', 10),
	sourceId: field('string', 11),
	isFromExternal: field('bool', 14),
	neighborIp: field('string', 15),
	uuid: field('bytes', 16),
	identifier: field('uint32', 18),
};

const timestamp = { fields: { seconds: field('int64', 1), nanos: field('int32', 2) } };

/** v3 (package apipb, service GobgpApi): NLRI and attributes travel as google.protobuf.Any. */
const v3: INamespace = {
	nested: {
		google: {
			nested: {
				protobuf: {
					nested: {
						Any: { fields: { typeUrl: field('string', 1), value: field('bytes', 2) } },
						Timestamp: timestamp,
					},
				},
			},
		},
		apipb: {
			nested: {
				...common,
				Timestamp: timestamp,
				Path: {
					fields: {
						nlri: field('google.protobuf.Any', 1),
						pattrs: field('google.protobuf.Any', 2, true),
						...pathFields,
					},
				},
				MpReachNLRIAttribute: {
					fields: {
						family: field('Family', 1),
						nextHops: field('string', 2, true),
						nlris: field('google.protobuf.Any', 3, true),
					},
				},
				FlowSpecNLRI: { fields: { rules: field('google.protobuf.Any', 1, true) } },
				ExtendedCommunitiesAttribute: {
					fields: { communities: field('google.protobuf.Any', 1, true) },
				},
			},
		},
	},
};

/** v4 (package api, service GoBgpService, since GoBGP 4.0.0): typed oneofs instead of Any. */
const v4: INamespace = {
	nested: {
		api: {
			nested: {
				...common,
				Timestamp: timestamp,
				Path: {
					fields: { nlri: field('NLRI', 1), pattrs: field('Attribute', 2, true), ...pathFields },
				},
				NLRI: {
					oneofs: { nlri: { oneof: ['prefix', 'flowSpec'] } },
					fields: { prefix: field('IPAddressPrefix', 1), flowSpec: field('FlowSpecNLRI', 13) },
				},
				Attribute: {
					oneofs: {
						attr: {
							oneof: [
								'origin',
								'nextHop',
								'communities',
								'mpReach',
								'extendedCommunities',
								'largeCommunities',
							],
						},
					},
					fields: {
						origin: field('OriginAttribute', 2),
						nextHop: field('NextHopAttribute', 4),
						communities: field('CommunitiesAttribute', 9),
						mpReach: field('MpReachNLRIAttribute', 12),
						extendedCommunities: field('ExtendedCommunitiesAttribute', 14),
						largeCommunities: field('LargeCommunitiesAttribute', 21),
					},
				},
				MpReachNLRIAttribute: {
					fields: {
						family: field('Family', 1),
						nextHops: field('string', 2, true),
						nlris: field('NLRI', 3, true),
					},
				},
				FlowSpecRule: {
					oneofs: { rule: { oneof: ['ipPrefix', 'component'] } },
					fields: {
						ipPrefix: field('FlowSpecIPPrefix', 1),
						component: field('FlowSpecComponent', 3),
					},
				},
				FlowSpecNLRI: { fields: { rules: field('FlowSpecRule', 1, true) } },
				ExtendedCommunity: {
					oneofs: { extcom: { oneof: ['trafficRate'] } },
					fields: { trafficRate: field('TrafficRateExtended', 15) },
				},
				ExtendedCommunitiesAttribute: {
					fields: { communities: field('ExtendedCommunity', 1, true) },
				},
				DeletePathResponse: { fields: {} },
			},
		},
	},
};

export type Generation = 'v3' | 'v4';

const roots: Record<Generation, Root> = { v3: Root.fromJSON(v3), v4: Root.fromJSON(v4) };

/** gRPC service path of each generation. */
export const SERVICE: Record<Generation, string> = {
	v3: 'apipb.GobgpApi',
	v4: 'api.GoBgpService',
};

const PACKAGE: Record<Generation, string> = { v3: 'apipb', v4: 'api' };

export function messageType(generation: Generation, name: string): Type {
	return roots[generation].lookupType(`${PACKAGE[generation]}.${name}`);
}

/**
 * Plain object in, wire bytes out (unknown keys are ignored, missing ones take proto3 defaults).
 */
export function encode(generation: Generation, name: string, value: object): Buffer {
	const type = messageType(generation, name);
	return Buffer.from(type.encode(type.fromObject(value)).finish());
}

/** Wire bytes in, plain object out: 64-bit integers as numbers, oneof members as set. */
export function decode<T>(generation: Generation, name: string, bytes: Uint8Array): T {
	const type = messageType(generation, name);
	return type.toObject(type.decode(bytes), { longs: Number, arrays: true }) as T;
}

/**
 * v3 only: wrap a message into google.protobuf.Any as gobgpd resolves it
 * (type.googleapis.com/apipb.<Name>).
 */
export function packAny(name: string, value: object): { typeUrl: string; value: Buffer } {
	return { typeUrl: `type.googleapis.com/apipb.${name}`, value: encode('v3', name, value) };
}

/** v3 only: the message name inside an Any and its decoded content. */
export function unpackAny<T>(any: { typeUrl?: string; value?: Uint8Array }): {
	name: string;
	value: T | undefined;
} {
	const name =
		(any.typeUrl ?? '')
			.split('/')
			.pop()
			?.replace(/^apipb\./, '') ?? '';
	const known = name ? roots.v3.lookup(`apipb.${name}`) : null;
	return {
		name,
		value: known ? decode<T>('v3', name, any.value ?? Buffer.alloc(0)) : undefined,
	};
}
