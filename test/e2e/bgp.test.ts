import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { BgpMitigation } from '../../nodes/Bgp/BgpMitigation.node';
import type { N8nInstance } from '../../scripts/n8nHarness';
import { jsonOf, runNode } from '../helpers/runNode';
import type { CloudflareSimulator } from '../simulators/cloudflare';
import {
	ACCOUNT,
	PREFIX,
	TOKEN as CLOUDFLARE_TOKEN,
	startCloudflare,
} from '../unit/cloudflare/fixture';
import { gobgpRun } from '../unit/bgp/fixture';
import { startBorderLab, startTlsGobgpd, type BorderLab, type TlsGobgpd } from './bgpRouters';
import { startRecordingSshd, type RecordingSshd } from './recordingSshd';
import { callWebhook, startN8nWithWorkflows, stopAll, testCredential, waitUntil } from './harness';
import { locator, packageNode, webhook, workflow } from './workflows';

/**
 * The BGP Mitigation node against Debian's gobgpd 3.10 (GoBGP v3 API: the node falls back to it
 * from v4) in an iBGP session with BIRD 2 as the border router: what counts is what the border
 * router RECEIVED.
 */

let lab: BorderLab;
let n8n: N8nInstance | undefined;
let cloudflare: CloudflareSimulator | undefined;
let sshd: RecordingSshd | undefined;

beforeAll(async () => {
	lab = await startBorderLab();
});
afterAll(async () => await stopAll(n8n, lab, cloudflare, sshd));

const node = new BgpMitigation();
const run = async (parameters: Record<string, unknown>) =>
	jsonOf(await runNode(node, gobgpRun({ port: lab.apiPort }, parameters)))[0];

/** BIRD's entry for one route or FlowSpec rule, with its attributes; '' when it has none. */
const received = (table: Parameters<BorderLab['birdRoutes']>[0], start: string) => {
	const lines = lab.birdRoutes(table).split('\n');
	const from = lines.findIndex((line) => line.startsWith(start));
	if (from < 0) return '';
	const to = lines.findIndex((line, i) => i > from && !/^\s/.test(line));
	return lines.slice(from, to < 0 ? undefined : to).join('\n');
};
const eventually = (what: string, condition: () => boolean) =>
	waitUntil(what, condition, 15_000, () => lab.logs());

describe('RTBH through gobgpd 3.10 to a BIRD border router', () => {
	const rtbh = (operation: string, extra: Record<string, unknown> = {}) =>
		run({ operation, method: 'blackhole', prefix: '203.0.113.10/32', ...extra });

	it('BIRD receives the blackhole route with its communities, loses it on withdraw', async () => {
		expect(await rtbh('getStatus')).toMatchObject({ active: false, gobgp: { api: 'v3' } });

		const activated = await rtbh('activate', { blackhole: { communities: '65001:666' } });
		expect(activated).toMatchObject({ active: true, changed: true, gobgp: { api: 'v3' } });
		await eventually(
			'BIRD has 203.0.113.10/32',
			() => received('master4', '203.0.113.10/32') !== '',
		);
		const route = received('master4', '203.0.113.10/32');
		// Resolved through the null-routed next hop:
		expect(route).toMatch(/^203\.0\.113\.10\/32\s+blackhole/);
		expect(route).toContain('BGP.next_hop: 192.0.2.1');
		expect(route).toContain('BGP.community: (65535,666) (65535,65281) (65001,666) (64512,666)');
		expect(await rtbh('getStatus')).toMatchObject({ active: true, advertisedTo: ['127.0.0.1'] });

		expect(await rtbh('activate', { blackhole: { communities: '65001:666' } })).toMatchObject({
			active: true,
			changed: false,
		});

		expect(await rtbh('withdraw')).toMatchObject({ active: false, changed: true });
		await eventually(
			'BIRD lost 203.0.113.10/32',
			() => received('master4', '203.0.113.10/32') === '',
		);
		expect(await rtbh('withdraw')).toMatchObject({ active: false, changed: false });
	});

	it('IPv6: the route reaches the border router with the 100::1 discard next hop', async () => {
		const prefix = '2001:db8::10/128';
		await rtbh('activate', { prefix });
		await eventually('BIRD has 2001:db8::10/128', () => received('master6', prefix) !== '');
		expect(received('master6', prefix)).toContain('BGP.next_hop: 100::1');
		await rtbh('withdraw', { prefix });
		await eventually('BIRD lost 2001:db8::10/128', () => received('master6', prefix) === '');
	});

	it("never replaces or withdraws a path added by someone else (gobgp's CLI)", async () => {
		const prefix = '198.51.100.0/24';
		execFileSync('gobgp', [
			'-p',
			String(lab.apiPort),
			'global',
			'rib',
			'add',
			prefix,
			'nexthop',
			'10.0.0.1',
		]);
		await eventually('BIRD has the operator route', () => received('master4', prefix) !== '');

		await expect(rtbh('activate', { prefix })).rejects.toThrow(
			/already originates 198.51.100.0\/24/,
		);
		expect(await rtbh('withdraw', { prefix })).toMatchObject({ active: false, changed: false });
		expect(await rtbh('getStatus', { prefix })).toMatchObject({
			active: false,
			otherPaths: [{ from: 'local', nextHop: '10.0.0.1' }],
		});
		expect(received('master4', prefix)).toContain('BGP.next_hop: 10.0.0.1');
	});
});

describe('FlowSpec through gobgpd 3.10 to a BIRD border router', () => {
	it('BIRD receives the rule, its match and discard action; loses it on withdraw', async () => {
		const flowspec = { protocol: 'udp', sourcePorts: '53', destinationPorts: '0, 1024-65535' };
		const out = await run({
			operation: 'activate',
			method: 'flowspec',
			prefix: '203.0.113.10',
			flowspec,
		});
		expect(out).toMatchObject({ active: true, changed: true, method: 'flowspec' });

		const rule = 'flow4 { dst 203.0.113.10/32; proto 17; dport 0,1024..65535; sport 53; }';
		await eventually('BIRD has the FlowSpec rule', () => received('flowtab4', rule) !== '');
		// traffic-rate 0 (RFC 8955 7.3): BIRD prints the extended community it does not name.
		expect(received('flowtab4', rule)).toContain('BGP.ext_community: (generic, 0x80060000, 0x0)');
		expect(received('flowtab4', rule)).toContain('BGP.community: (64512,666)');
		const status = await run({
			operation: 'getStatus',
			method: 'flowspec',
			prefix: '203.0.113.10',
		});
		expect(status).toMatchObject({
			active: true,
			advertisedTo: ['127.0.0.1'],
			paths: [{ rule: expect.stringContaining('dst 203.0.113.10/32'), action: 'discard' }],
		});

		const withdrawn = await run({
			operation: 'withdraw',
			method: 'flowspec',
			prefix: '203.0.113.10',
		});
		expect(withdrawn).toMatchObject({ active: false, changed: true });
		await eventually('BIRD lost the FlowSpec rule', () => received('flowtab4', rule) === '');
	});

	it('a rate limit travels as traffic-rate in bytes per second', async () => {
		const flowspec = { protocol: 'tcp', action: 'rateLimit', rateLimit: 125000 };
		await run({ operation: 'activate', method: 'flowspec', prefix: '203.0.113.20/32', flowspec });
		const rule = 'flow4 { dst 203.0.113.20/32; proto 6; }';
		await eventually('BIRD has the rate-limit rule', () => received('flowtab4', rule) !== '');
		// 125000 as an IEEE 754 float is 0x47f42400.
		expect(received('flowtab4', rule)).toContain('(generic, 0x80060000, 0x47f42400)');
		await run({ operation: 'withdraw', method: 'flowspec', prefix: '203.0.113.20/32' });
		await eventually('BIRD lost the rate-limit rule', () => received('flowtab4', rule) === '');
	});
});

const DETECTOR_SECRET = 'example-detector-secret-0123456789';

type Example = {
	id: string;
	nodes: Array<{ type: string; name: string; parameters: Record<string, unknown> }>;
};

/**
 * examples/04-three-layers.json as a user imports it, with what a user adapts anyway (the Magic
 * Transit prefix) and timings of seconds instead of minutes (hold-down 2 s, Re-Emit Interval 1 s,
 * Tick every second).
 */
function threeLayersExample(): Example {
	const file = join(__dirname, '../../examples/04-three-layers.json');
	const example = {
		...(JSON.parse(readFileSync(file, 'utf8')) as Example),
		id: 'example04layers1',
	};
	for (const node of example.nodes) {
		if (node.type.endsWith('.cloudflareMagicTransit'))
			Object.assign(node.parameters, { accountId: locator(ACCOUNT), prefixId: locator(PREFIX) });
		if (node.type.endsWith('.incidentGate'))
			Object.assign(node.parameters.options as object, {
				withdrawDelaySeconds: 2,
				reemitIntervalSeconds: 1,
			});
		if (node.type === 'n8n-nodes-base.scheduleTrigger')
			node.parameters.rule = { interval: [{ field: 'seconds', secondsInterval: 1 }] };
	}
	return example;
}

describe('BGP Mitigation node inside a real n8n', () => {
	const credential = { id: 'gobgplab000001', name: 'gobgpd (lab)', type: 'gobgpApi' };
	const bgpNode = (operation: string) =>
		packageNode(
			`BGP ${operation}`,
			'bgpMitigation',
			{
				operation,
				method: 'blackhole',
				prefix: '={{ $json.body.attacked }}/32',
				blackhole: { communities: '65001:666' },
			},
			{ gobgpApi: { id: credential.id, name: credential.name } },
		);

	beforeAll(async () => {
		cloudflare = await startCloudflare();
		sshd = await startRecordingSshd();
		const example = threeLayersExample();
		n8n = await startN8nWithWorkflows(
			[
				{ ...credential, data: { host: '127.0.0.1', port: lab.apiPort, tls: false } },
				// The example's own credential ids, as a user picks theirs after importing it.
				{
					id: 'exampleGobgp',
					name: 'gobgpd',
					type: 'gobgpApi',
					data: { host: '127.0.0.1', port: lab.apiPort },
				},
				{
					id: 'exampleCloudflare',
					name: 'Cloudflare',
					type: 'cloudflareMitigationApi',
					data: { apiToken: CLOUDFLARE_TOKEN, baseUrl: cloudflare?.baseUrl, accountId: '' },
				},
				{
					id: 'exampleDetectorSecret',
					name: 'Detector secret',
					type: 'incidentWebhookSecretApi',
					data: { secret: DETECTOR_SECRET },
				},
				{
					id: 'exampleSshKey',
					name: 'Attacked server (SSH)',
					type: 'sshPrivateKey',
					data: {
						host: '127.0.0.1',
						port: sshd?.port,
						username: sshd?.username,
						privateKey: sshd?.privateKey,
						passphrase: '',
					},
				},
			],
			[
				example,
				workflow('bgpActivate0001', 'RTBH on', [
					[webhook('Activate', 'bgp-on'), bgpNode('activate')],
				]),
				workflow('bgpWithdraw0001', 'RTBH off', [
					[webhook('Withdraw', 'bgp-off'), bgpNode('withdraw')],
				]),
			],
		);
	});

	it("tests the credential through n8n: gobgpd's API answers, a closed port does not", async () => {
		const test = (port: number) =>
			testCredential(n8n as N8nInstance, credential, { host: '127.0.0.1', port, tls: false });
		expect(await test(lab.apiPort)).toMatchObject({
			status: 'OK',
			message: expect.stringContaining('API v3, AS 64512'),
		});
		expect(await test(1)).toMatchObject({
			status: 'Error',
			message: expect.stringContaining('gobgpd is not answering at 127.0.0.1:1'),
		});
	});

	it('an alert turns RTBH on for the attacked address in BIRD, withdraw removes it', async () => {
		const prefix = '203.0.113.99/32';
		const attack = { attacked: '203.0.113.99' };
		expect(await callWebhook(n8n as N8nInstance, 'bgp-on', attack)).toEqual([
			expect.objectContaining({
				provider: 'bgpMitigation',
				target: prefix,
				active: true,
				changed: true,
			}),
		]);
		await eventually('BIRD has the route n8n announced', () => received('master4', prefix) !== '');
		expect(received('master4', prefix)).toContain('(65535,666) (65535,65281) (65001,666)');

		expect(await callWebhook(n8n as N8nInstance, 'bgp-off', attack)).toEqual([
			expect.objectContaining({ provider: 'bgpMitigation', active: false, changed: true }),
		]);
		await eventually('BIRD lost the route', () => received('master4', prefix) === '');
	});

	it('example 04: one ban turns all three layers on, the unban turns them off', async () => {
		const url = `${(n8n as N8nInstance).url}/webhook/5b0c6a4e-1d0e-4d52-9a51-0d1f6b1e0a04/incident`;
		const fastNetMon = (fixture: string) =>
			fetch(url, {
				method: 'POST',
				headers: { 'content-type': 'application/json', authorization: `Bearer ${DETECTOR_SECRET}` },
				body: readFileSync(join(__dirname, '../fixtures', fixture), 'utf8'),
			});
		const advertised = () => cloudflare?.accounts.get(ACCOUNT)?.prefixes.get(PREFIX)?.advertised;
		const nftOn = "nft add element inet ddos attacked '{ 203.0.113.10 }'";
		const nftOff = `${nftOn} && nft delete element inet ddos attacked '{ 203.0.113.10 }'`;
		// n8n's SSH node sends `cd <Working Directory> ; <command>`.
		const runs = (command: string) =>
			sshd?.commands().filter((c) => c === `cd / ; ${command}`).length ?? 0;
		const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
		const wait = (what: string, condition: () => boolean) =>
			waitUntil(
				what,
				condition,
				60_000,
				() => `${lab.logs()}\n${(n8n as N8nInstance).logTail(40)}`,
			);

		// Published workflows go live shortly after n8n reports ready.
		await waitUntil(
			'the FastNetMon webhook listens',
			async () => (await fastNetMon('fastnetmon-ban.json')).status === 200,
		);
		await wait(
			'all three layers are on',
			() =>
				advertised() === true && received('master4', '203.0.113.10/32') !== '' && runs(nftOn) >= 1,
		);
		expect(received('master4', '203.0.113.10/32')).toContain(
			'(65535,666) (65535,65281) (64512,666)',
		);
		// All three layers reported on, so Confirm recorded the Activate: the Ticks that follow
		// (every second, Re-Emit Interval 1 s) do not emit it again.
		const cloudflareRequests = cloudflare?.log.length;
		await sleep(3_500);
		expect(runs(nftOn)).toBe(1);
		expect(cloudflare?.log.length).toBe(cloudflareRequests);

		expect((await fastNetMon('fastnetmon-unban.json')).status).toBe(200);
		await wait(
			'all three layers are off after the hold-down',
			() =>
				advertised() === false &&
				received('master4', '203.0.113.10/32') === '' &&
				runs(nftOff) >= 1,
		);
		await sleep(3_500); // the confirmed Withdraw is not emitted again either
		expect(runs(nftOff)).toBe(1);
		expect(runs(nftOn)).toBe(1);
	});
});

describe("gobgpd's gRPC API over TLS", () => {
	let tls: TlsGobgpd;
	beforeAll(async () => {
		tls = await startTlsGobgpd();
	});
	afterAll(async () => {
		await tls?.stop();
	});

	const status = (credential: Record<string, unknown>) =>
		runNode(
			node,
			gobgpRun(
				{ port: tls.apiPort, ...credential },
				{ operation: 'getStatus', method: 'blackhole', prefix: '203.0.113.10' },
			),
		).then(
			(result) => jsonOf(result)[0],
			(error: { message: string; description?: string }) => ({ error }),
		);

	it('connects with the CA certificate and the name in it, even pasted on one line', async () => {
		const trusted = { tls: true, caCertificate: tls.certificate, serverName: tls.serverName };
		expect(await status(trusted)).toMatchObject({ active: false, gobgp: { api: 'v3' } });
		const oneLine = tls.certificate.replace(/\n/g, ' ');
		expect(await status({ ...trusted, caCertificate: oneLine })).toMatchObject({ active: false });
	});

	it('says what to fix when the name does not match or TLS is off', async () => {
		const mismatch = await status({ tls: true, caCertificate: tls.certificate });
		expect(mismatch).toMatchObject({
			error: { message: expect.stringMatching(/^TLS with gobgpd/) },
		});
		expect((mismatch as { error: { description: string } }).error.description).toMatch(
			/Server Name/,
		);

		const plain = await status({ tls: false });
		expect((plain as { error: { description: string } }).error.description).toMatch(/Use TLS/);
	});
});
