import { snapshotLabel } from '../../nodes/Linode/operations';
import type { N8nInstance } from '../../scripts/n8nHarness';
import type { LinodeSimulator, SimFirewall } from '../simulators/linode';
import { TOKEN, snapshot, startLinode } from '../unit/linode/fixture';
import { callWebhook, listSearch, startN8nWithWorkflows, stopAll, testCredential } from './harness';
import { locator, lockdownAndRestore, packageNode, simulatorCredential } from './workflows';
import { rateLimited } from '../helpers/fixture';

const { credential, credentials } = simulatorCredential(
	'linodeMitigationApi',
	'lnsim000000001',
	'Linode',
);
let sim: LinodeSimulator;
let web: SimFirewall;
let n8n: N8nInstance;
let before: ReturnType<typeof snapshot>;

const firewallNode = (operation: string, extra: Record<string, unknown> = {}) =>
	packageNode(
		`Linode ${operation}`,
		'linodeFirewall',
		{ operation, firewallId: locator(String(web.id)), ...extra },
		credentials,
	);

beforeAll(async () => {
	({ sim, web } = await startLinode());
	before = snapshot(sim);
	n8n = await startN8nWithWorkflows(
		[{ ...credential, data: { accessToken: TOKEN, baseUrl: sim.baseUrl } }],
		// Only the copy kept at Linode connects the two.
		lockdownAndRestore(
			'ln',
			'Linode',
			firewallNode,
			firewallNode('activate', { managementSources: '203.0.113.0/24, 2001:db8:1::/48' }),
		),
	);
});

afterAll(async () => await stopAll(n8n, sim));

describe('Linode Cloud Firewall node inside a real n8n', () => {
	it('tests the credential through n8n', async () => {
		const test = (accessToken: string) =>
			testCredential(n8n, credential, { accessToken, baseUrl: sim.baseUrl });
		expect(await test(TOKEN)).toMatchObject({ status: 'OK' });
		expect(await test('wrong-token')).toMatchObject({ status: 'Error' });
	});

	it('locks down from one workflow and keeps the original rules at Linode', async () => {
		expect(await callWebhook(n8n, 'ln-activate')).toEqual([
			expect.objectContaining({ provider: 'linodeFirewall', active: true, changed: true }),
		]);
		expect(web.rules).toMatchObject({
			inbound_policy: 'DROP',
			inbound: [
				expect.objectContaining({
					addresses: { ipv4: ['203.0.113.0/24'], ipv6: ['2001:db8:1::/48'] },
				}),
			],
		});
		expect([...sim.firewalls.values()].some((f) => f.label === snapshotLabel(web.id))).toBe(true);
	});

	it('withdraws in another workflow through a rate limit: rules and policy back', async () => {
		sim.inject(rateLimited('PUT', { errors: [{ reason: 'Too many requests' }] }, '1'));
		expect(await callWebhook(n8n, 'ln-withdraw')).toEqual([
			expect.objectContaining({ provider: 'linodeFirewall', active: false, changed: true }),
		]);
		expect(snapshot(sim)).toEqual(before);
	});

	it(
		"lists the account's firewalls for the editor's Firewall " +
			'picker, filtered by what the user types',
		async () => {
			const search = (filter?: string) =>
				listSearch(n8n, {
					nodeType: 'linodeFirewall',
					methodName: 'searchFirewalls',
					parameter: 'firewallId',
					credentials,
					filter,
				});
			expect((await search()).map((f) => f.value)).toContain(String(web.id));
			expect(await search('web-pr')).toEqual([expect.objectContaining({ value: String(web.id) })]);
		},
	);
});
