import { snapshotLabel } from '../../nodes/Linode/operations';
import { lockdownDescription } from '../../nodes/Vultr/operations';
import type { N8nInstance } from '../../scripts/n8nHarness';
import type { LinodeSimulator, SimFirewall } from '../simulators/linode';
import type { VultrSimulator } from '../simulators/vultr';
import { TOKEN, snapshot as linodeSnapshot, startLinode } from '../unit/linode/fixture';
import { KEY, snapshot as vultrSnapshot, startVultr } from '../unit/vultr/fixture';
import { OWNER, startN8nWith, stopN8n } from './harness';
import { PACKAGE, locator, postJson, webhook, workflow, type WorkflowNode } from './workflows';

/**
 * Inside a real n8n: an operator edits a Linode firewall during the lockdown and a withdraw from another workflow
 * after a restart still restores the original exactly; a Vultr create whose reply is lost makes no second
 * lockdown group.
 */
const credentials = {
	linodeMitigationApi: { id: 'lnsim000000002', name: 'Linode (simulator)' },
	vultrMitigationApi: { id: 'vtsim000000002', name: 'Vultr (simulator)' },
};
let linode: LinodeSimulator;
let web: SimFirewall;
let vultr: VultrSimulator;
let vultrGroup: string;
let n8n: N8nInstance;

const linodeNode = (operation: string): WorkflowNode => ({
	name: `Linode ${operation}`,
	type: `${PACKAGE}.linodeFirewall`,
	parameters: { operation, firewallId: locator(String(web.id)), requestOptions: {} },
	credentials: { linodeMitigationApi: credentials.linodeMitigationApi },
});
const vultrNode = (operation: string): WorkflowNode => ({
	name: `Vultr ${operation}`,
	type: `${PACKAGE}.vultrFirewall`,
	parameters: { operation, firewallGroupId: locator(vultrGroup), requestOptions: {} },
	credentials: { vultrMitigationApi: credentials.vultrMitigationApi },
});

beforeAll(async () => {
	({ sim: linode, web } = await startLinode());
	const started = await startVultr();
	vultr = started.sim;
	vultrGroup = started.web.id;
	n8n = await startN8nWith({ owner: OWNER }, (instance) => {
		instance.importCredentials([
			{
				...credentials.linodeMitigationApi,
				type: 'linodeMitigationApi',
				data: { accessToken: TOKEN, baseUrl: linode.baseUrl },
			},
			{
				...credentials.vultrMitigationApi,
				type: 'vultrMitigationApi',
				data: { apiKey: KEY, baseUrl: vultr.baseUrl },
			},
		]);
		instance.importWorkflows([
			workflow('nlLinodeOn00001', 'Linode lockdown', [
				[webhook('Activate', 'nl-ln-activate'), linodeNode('activate')],
			]),
			workflow('nlLinodeOff0001', 'Linode restore', [
				[webhook('Withdraw', 'nl-ln-withdraw'), linodeNode('withdraw')],
			]),
			workflow('nlVultrOn000001', 'Vultr lockdown', [
				[webhook('Activate', 'nl-vt-activate'), vultrNode('activate')],
			]),
			workflow('nlVultrOff00001', 'Vultr restore', [
				[webhook('Withdraw', 'nl-vt-withdraw'), vultrNode('withdraw')],
			]),
		]);
	});
});

afterAll(async () => {
	await stopN8n(n8n);
	await linode?.stop();
	await vultr?.stop();
});

describe('nothing lost, nothing duplicated, inside a real n8n', () => {
	it('Linode: a rule added during the lockdown does not stop a withdraw elsewhere, after a restart, from restoring the original', async () => {
		const before = linodeSnapshot(linode);
		const on = await postJson(`${n8n.url}/webhook/nl-ln-activate`);
		expect(on.json).toEqual([
			expect.objectContaining({
				active: true,
				changed: true,
				managementAccess: expect.objectContaining({
					sources: ['203.0.113.0/24', '2001:db8:1::/48'],
				}),
			}),
		]);
		// The operator lets a monitoring probe in while the lockdown lasts.
		web.rules.inbound = [
			...web.rules.inbound!,
			{
				action: 'ACCEPT',
				protocol: 'TCP',
				ports: '9100',
				addresses: { ipv4: ['192.0.2.50/32'] },
				label: 'monitoring-probe',
			},
		];
		await n8n.restart();
		const off = await postJson(`${n8n.url}/webhook/nl-ln-withdraw`);
		expect(off.json).toEqual([
			expect.objectContaining({
				active: false,
				changed: true,
				restoredFrom: `saved copy '${snapshotLabel(web.id)}'`,
			}),
		]);
		expect(linodeSnapshot(linode)).toEqual(before);
	});

	it('Vultr: the lockdown group is created once though the reply to its create was lost', async () => {
		const before = vultrSnapshot(vultr);
		vultr.inject({
			method: 'POST',
			path: /^\/firewalls$/,
			afterHandler: true,
			response: { status: 502, body: '<html>502 Bad Gateway</html>' },
		});
		const on = await postJson(`${n8n.url}/webhook/nl-vt-activate`);
		expect(on.json).toEqual([expect.objectContaining({ active: true, changed: true })]);
		const groups = () =>
			[...vultr.groups.values()].filter((g) => g.description === lockdownDescription(vultrGroup));
		expect(groups()).toHaveLength(1);
		const off = await postJson(`${n8n.url}/webhook/nl-vt-withdraw`);
		expect(off.json).toEqual([expect.objectContaining({ active: false, changed: true })]);
		expect(groups()).toHaveLength(0);
		expect(vultrSnapshot(vultr)).toEqual(before);
	});
});
