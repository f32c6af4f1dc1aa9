import { Server, ServerCredentials } from '@grpc/grpc-js';
import net from 'node:net';

import { BgpMitigation } from '../../../nodes/Bgp/BgpMitigation.node';
import { BLACKHOLE, NO_EXPORT } from '../../../nodes/Bgp/input';
import { simulatorPerTest } from '../../helpers/fixture';
import { failureOf, jsonOf, runNode } from '../../helpers/runNode';
import { gobgpRun } from './fixture';
import { startV4Gobgpd, type V4Gobgpd, type V4Path } from './v4Server';

const node = new BgpMitigation();
const MARKER = 64512 * 65536 + 666;
let gobgpd: V4Gobgpd;

// Stops the gobgpd running at the end of the test: one test restarts it on the same port.
simulatorPerTest(async () => {
	gobgpd = await startV4Gobgpd();
	return { stop: () => gobgpd.stop() };
});

const run = async (parameters: Record<string, unknown>, port = gobgpd.port) =>
	jsonOf(await runNode(node, gobgpRun({ port }, parameters)))[0];
const failure = (parameters: Record<string, unknown>, port = gobgpd.port) =>
	failureOf(node, gobgpRun({ port }, parameters));
const READS = ['GetBgp', 'ListPath', 'ListPeer'];
const writes = () => gobgpd.requests.filter((r) => !READS.includes(r.method));
const rtbh = (operation: string, extra: Record<string, unknown> = {}) => ({
	operation,
	method: 'blackhole',
	prefix: '203.0.113.10/32',
	...extra,
});

describe('RTBH against a GoBGP v4 API (api.GoBgpService)', () => {
	it('announces BLACKHOLE, NO_EXPORT, the upstream community and the marker', async () => {
		const out = await run(rtbh('activate', { blackhole: { communities: '65001:666' } }));

		expect(out).toMatchObject({
			provider: 'bgpMitigation',
			target: '203.0.113.10/32',
			operation: 'activate',
			active: true,
			changed: true,
			gobgp: { api: 'v4', routerId: '192.0.2.254' },
		});
		const [add] = writes();
		expect(add.method).toBe('AddPath');
		expect(add.body).toEqual({
			tableType: 1,
			path: {
				family: { afi: 1, safi: 1 },
				nlri: { prefix: { prefixLen: 32, prefix: '203.0.113.10' } },
				pattrs: [
					{ origin: { origin: 0 } },
					{ nextHop: { nextHop: '192.0.2.1' } },
					{ communities: { communities: [BLACKHOLE, NO_EXPORT, 65001 * 65536 + 666, MARKER] } },
				],
			},
		});
		expect((out.paths as Array<{ communities: string[] }>)[0].communities).toEqual([
			'65535:666',
			'65535:65281',
			'65001:666',
			'64512:666',
		]);
	});

	it('is idempotent: a second Activate and a second Withdraw write nothing', async () => {
		await run(rtbh('activate'));
		expect(await run(rtbh('activate'))).toMatchObject({ active: true, changed: false });
		expect(writes().map((w) => w.method)).toEqual(['AddPath']);

		expect(await run(rtbh('withdraw'))).toMatchObject({ active: false, changed: true });
		expect(gobgpd.rib.size).toBe(0);
		expect(await run(rtbh('withdraw'))).toMatchObject({ active: false, changed: false });
		expect(writes().map((w) => w.method)).toEqual(['AddPath', 'DeletePath']);
	});

	it('withdraws exactly the path it added, by its NLRI, never a bare DeletePath', async () => {
		await run(rtbh('activate'));
		await run(rtbh('withdraw'));
		const remove = writes()[1];
		expect(remove.body).toMatchObject({
			tableType: 1,
			family: { afi: 1, safi: 1 },
			path: { nlri: { prefix: { prefixLen: 32, prefix: '203.0.113.10' } }, isWithdraw: true },
		});
	});

	it('reads its own path from the RIB, and the other paths for the prefix', async () => {
		const peers: V4Path = {
			family: { afi: 1, safi: 1 },
			nlri: { prefix: { prefixLen: 32, prefix: '203.0.113.10' } },
			pattrs: [{ nextHop: { nextHop: '10.0.0.2' } }],
			neighborIp: '10.0.0.2',
		};
		gobgpd.rib.set('peer', peers);
		expect(await run(rtbh('getStatus'))).toMatchObject({ active: false, paths: [] });

		await run(rtbh('activate', { blackhole: { nextHop: '10.66.66.66', noExport: false } }));
		const status = await run(rtbh('getStatus'));
		expect(status).toMatchObject({
			active: true,
			changed: false,
			advertisedTo: ['10.0.0.1'],
			paths: [{ from: 'local', nextHop: '10.66.66.66', communities: ['65535:666', '64512:666'] }],
			otherPaths: [{ from: '10.0.0.2', nextHop: '10.0.0.2' }],
		});
		await run(rtbh('withdraw'));
		expect([...gobgpd.rib.values()]).toEqual([peers]);
	});

	it('reports a path gobgpd holds but sends to no peer (the border session is down)', async () => {
		await run(rtbh('activate'));
		gobgpd.peers.set('10.0.0.1', false);
		expect(await run(rtbh('getStatus'))).toMatchObject({ active: true, advertisedTo: [] });
	});

	it('never replaces a local path it did not add; withdraw leaves it alone', async () => {
		const operators: V4Path = {
			family: { afi: 1, safi: 1 },
			nlri: { prefix: { prefixLen: 24, prefix: '203.0.113.0' } },
			pattrs: [{ nextHop: { nextHop: '10.0.0.1' } }, { communities: { communities: [BLACKHOLE] } }],
		};
		gobgpd.rib.set('operator', operators);
		const prefix = '203.0.113.0/24';
		const error = await failure(rtbh('activate', { prefix }));
		expect(error.message).toMatch(/already originates 203.0.113.0\/24 without the marker/);
		expect(await run(rtbh('withdraw', { prefix }))).toMatchObject({
			active: false,
			changed: false,
		});
		expect(writes()).toEqual([]);
		expect([...gobgpd.rib.values()]).toEqual([operators]);
	});

	it('announces IPv6 through MP_REACH_NLRI with the IPv6 discard next hop', async () => {
		await run(rtbh('activate', { prefix: '2001:db8::10' }));
		const path = writes()[0].body.path as V4Path;
		expect(path.family).toEqual({ afi: 2, safi: 1 });
		expect(path.pattrs?.[1]).toEqual({
			mpReach: {
				family: { afi: 2, safi: 1 },
				nextHops: ['100::1'],
				nlris: [{ prefix: { prefixLen: 128, prefix: '2001:db8::10' } }],
			},
		});
	});
});

describe('FlowSpec against a GoBGP v4 API', () => {
	const flow = (operation: string, flowspec: Record<string, unknown> = {}) => ({
		operation,
		method: 'flowspec',
		prefix: '203.0.113.10/32',
		flowspec,
	});

	it('sends the match as typed rules and the action as traffic-rate', async () => {
		const out = await run(
			flow('activate', {
				protocol: 'udp',
				sourcePorts: '53',
				destinationPorts: '1000-2000',
				sourcePrefix: '198.51.100.0/24',
				action: 'rateLimit',
				rateLimit: 125000,
			}),
		);
		expect(out).toMatchObject({ active: true, changed: true, method: 'flowspec' });
		const path = writes()[0].body.path as V4Path;
		const rules = [
			{ ipPrefix: { type: 1, prefixLen: 32, prefix: '203.0.113.10' } },
			{ ipPrefix: { type: 2, prefixLen: 24, prefix: '198.51.100.0' } },
			{ component: { type: 3, items: [{ op: 1, value: 17 }] } },
			{
				component: {
					type: 5,
					items: [
						{ op: 3, value: 1000 },
						{ op: 0x45, value: 2000 },
					],
				},
			},
			{ component: { type: 6, items: [{ op: 1, value: 53 }] } },
		];
		expect(path.family).toEqual({ afi: 1, safi: 133 });
		expect(path.nlri).toEqual({ flowSpec: { rules } });
		expect(path.pattrs).toEqual([
			{ origin: { origin: 0 } },
			{
				mpReach: {
					family: { afi: 1, safi: 133 },
					nextHops: ['0.0.0.0'],
					nlris: [{ flowSpec: { rules } }],
				},
			},
			{ communities: { communities: [MARKER] } },
			{ extendedCommunities: { communities: [{ trafficRate: { asn: 0, rate: 125000 } }] } },
		]);
		expect(out.paths).toMatchObject([{ action: 'rateLimit', rateLimit: 125000 }]);
	});

	it('replaces its own rule for the prefix when the match changes, and withdraws it', async () => {
		await run(flow('activate', { protocol: 'udp' }));
		expect(await run(flow('activate', { protocol: 'udp' }))).toMatchObject({ changed: false });
		expect(await run(flow('activate', { protocol: 'tcp' }))).toMatchObject({ changed: true });
		expect(writes().map((w) => w.method)).toEqual(['AddPath', 'AddPath', 'DeletePath']);
		expect(gobgpd.rib.size).toBe(1);
		expect(await run(flow('withdraw'))).toMatchObject({ active: false, changed: true });
		expect(gobgpd.rib.size).toBe(0);
	});
});

describe('bad input is refused before any call', () => {
	it.each([
		[rtbh('activate', { prefix: '203.0.112.0/23' }), /wider than \/24/],
		[rtbh('activate', { prefix: '2001:db8::/32' }), /wider than \/48/],
		[rtbh('activate', { blackhole: { communities: '65001:66666' } }), /not a BGP community/],
		[rtbh('activate', { blackhole: { nextHop: '192.0.2.256' } }), /not an IPv4 address/],
		[rtbh('getStatus', { markerCommunity: 'mine' }), /Marker Community/],
		[
			{
				operation: 'activate',
				method: 'flowspec',
				prefix: '203.0.113.10',
				flowspec: { destinationPorts: '65536' },
			},
			/not a port \(0-65535\)/,
		],
		[rtbh('withdraw', { prefix: 'www.example.com' }), /not an IPv4 or IPv6 prefix/],
	])('%j', async (parameters, message) => {
		expect((await failure(parameters)).message).toMatch(message);
		expect(gobgpd.requests).toEqual([]);
	});

	it('but a wide RTBH prefix is accepted when explicitly allowed', async () => {
		const prefix = '203.0.112.0/23';
		await run(rtbh('activate', { prefix, blackhole: { allowWidePrefix: true } }));
		expect(writes()).toHaveLength(1);
	});
});

describe('errors say what to fix', () => {
	it('gobgpd not listening', async () => {
		const closed = await new Promise<number>((resolve) => {
			const probe = net.createServer().listen(0, '127.0.0.1', () => {
				const { port } = probe.address() as net.AddressInfo;
				probe.close(() => resolve(port));
			});
		});
		const error = await failure(rtbh('getStatus'), closed);
		expect(error.message).toMatch(`gobgpd is not answering at 127.0.0.1:${closed}`);
		expect(error.description).toMatch(/--api-hosts/);
	});

	it('gobgpd starting up: the call is retried until it answers', async () => {
		const port = gobgpd.port;
		await gobgpd.stop();
		const late = new Promise<V4Gobgpd>((resolve) =>
			setTimeout(() => resolve(startV4Gobgpd(port)), 1_500),
		);
		try {
			const out = await run(rtbh('getStatus', { requestOptions: { maxAttempts: 5 } }), port);
			expect(out).toMatchObject({ active: false, gobgp: { api: 'v4' } });
		} finally {
			gobgpd = await late;
		}
	});

	it('a gRPC server that is not gobgpd', async () => {
		const other = new Server();
		const port = await new Promise<number>((resolve, reject) =>
			other.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) =>
				error ? reject(error) : resolve(bound),
			),
		);
		try {
			const error = await failure(rtbh('getStatus'), port);
			expect(error.message).toMatch(/knows neither api.GoBgpService nor apipb.GobgpApi/);
		} finally {
			other.forceShutdown();
		}
	});

	it('continueOnFail puts the error in the item with provider, target and operation', async () => {
		const out = jsonOf(
			await runNode(
				node,
				gobgpRun({ port: gobgpd.port }, rtbh('activate', { prefix: '203.0.112.0/23' }), {
					continueOnFail: true,
				}),
			),
		)[0];
		expect(out.error).toMatch(/wider than \/24/);
	});
});
