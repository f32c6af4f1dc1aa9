import type { IDataObject, INodeExecutionData } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import { IncidentGate } from '../../../nodes/IncidentGate/IncidentGate.node';
import { QUEUE_MODE_WARNING } from '../../../nodes/IncidentGate/gate';
import {
	forgetProcessCopies,
	staticDataField,
} from '../../../nodes/IncidentGate/store/staticDataStore';
import { runNode } from '../../helpers/runNode';

const node = new IncidentGate();
let workflowCounter = 0;

/** One workflow with the gate on the static-data store; each call of `run` is one execution with its own snapshot. */
function gateWorkflow(parameters: Record<string, unknown> = {}) {
	const workflowId = `wf-${++workflowCounter}`;
	let persisted: IDataObject = {};
	return {
		async run(
			items: IDataObject[],
			overrides: Record<string, unknown> = {},
			continueOnFail = false,
		) {
			// n8n hands each execution a copy of the saved static data and saves it back when the execution ends.
			const staticData = structuredClone(persisted);
			const nodeParameters = { operation: 'event', ...parameters, ...overrides };
			const result = await runNode(node, {
				parameters: nodeParameters,
				itemParameters: items.map((json) => resolveJsonExpressions(nodeParameters, json)),
				items: items.map((json) => ({ json })),
				credentials: {},
				credentialTypes: [],
				staticData,
				continueOnFail,
				workflowId,
			});
			persisted = JSON.parse(JSON.stringify(staticData)) as IDataObject;
			const [activate, withdraw, unchanged] = result.output;
			return {
				activate: jsonOf(activate),
				withdraw: jsonOf(withdraw),
				unchanged: jsonOf(unchanged),
				output: result.output,
			};
		},
		persisted: () => persisted,
	};
}

/** Evaluates the `{{ $json.field }}` expressions the gate uses by default (runNode does not evaluate expressions). */
function resolveJsonExpressions(
	parameters: Record<string, unknown>,
	json: IDataObject,
): Record<string, unknown> {
	const defaults = {
		action: '={{ $json.action }}',
		incidentId: '={{ $json.incidentId }}',
		title: '={{ $json.title }}',
	};
	const resolved: Record<string, unknown> = {};
	for (const [name, value] of Object.entries({ ...defaults, ...parameters })) {
		const field =
			typeof value === 'string' ? /^=\{\{ \$json\.(\w+) \}\}$/.exec(value)?.[1] : undefined;
		if (field) resolved[name] = json[field];
	}
	return resolved;
}

const jsonOf = (items: INodeExecutionData[]) => items.map((item) => item.json);
const openEvent = (incidentId: string, extra: IDataObject = {}) => ({
	action: 'open',
	incidentId,
	source: 'test',
	...extra,
});
const resolveEvent = (incidentId: string) => ({ action: 'resolve', incidentId, source: 'test' });

afterEach(() => {
	jest.restoreAllMocks();
	delete process.env.EXECUTIONS_MODE;
});

describe('Incident Gate node: routing events', () => {
	it('sends the first open to Activate with everything downstream nodes need', async () => {
		jest.spyOn(Date, 'now').mockReturnValue(Date.parse('2030-01-01T00:00:00Z'));
		const gate = gateWorkflow();
		const event = openEvent('INC-1', { scope: 'ignored-unless-mapped', title: 'SYN flood' });
		const { activate, withdraw, unchanged, output } = await gate.run([event]);
		expect(withdraw).toEqual([]);
		expect(unchanged).toEqual([]);
		expect(activate).toEqual([
			{
				scope: 'global',
				transition: 'activate',
				reason: 'activated',
				mitigation: 'active',
				openIncidents: 1,
				openIncidentIds: ['INC-1'],
				activatedAt: '2030-01-01T00:00:00.000Z',
				withdrawDueAt: null,
				event,
			},
		]);
		expect(output[0][0].pairedItem).toEqual({ item: 0 });
	});

	it('routes a batch item by item: Activate once, then Unchanged, then Withdraw at the last resolve', async () => {
		const gate = gateWorkflow();
		const { activate, unchanged, withdraw, output } = await gate.run([
			openEvent('a'),
			openEvent('b'),
			{ action: 'update', incidentId: 'a' },
			resolveEvent('a'),
			resolveEvent('b'),
		]);
		expect(activate.map((item) => item.reason)).toEqual(['activated']);
		expect(unchanged.map((item) => item.reason)).toEqual([
			'incidentOpened',
			'incidentUpdated',
			'incidentResolved',
		]);
		expect(withdraw).toEqual([
			expect.objectContaining({
				transition: 'withdraw',
				reason: 'allIncidentsResolved',
				openIncidents: 0,
			}),
		]);
		expect(withdraw[0].activatedAt).toEqual(expect.any(String));
		expect(output[2].map((item) => item.pairedItem)).toEqual([
			{ item: 1 },
			{ item: 2 },
			{ item: 3 },
		]);
		expect(output[1][0].pairedItem).toEqual({ item: 4 });
	});

	it('keeps one mitigation per scope', async () => {
		const gate = gateWorkflow({ scope: '={{ $json.scope }}' });
		const { activate } = await gate.run([openEvent('a')], { scope: 'prefix-1' });
		const second = await gate.run([openEvent('b')], { scope: 'prefix-2' });
		const third = await gate.run([openEvent('c')], { scope: 'prefix-1' });
		expect(activate[0].scope).toBe('prefix-1');
		expect(second.activate[0].scope).toBe('prefix-2');
		expect(third.unchanged[0]).toMatchObject({ scope: 'prefix-1', openIncidents: 2 });
	});

	it('treats an empty scope as "global"', async () => {
		const { activate } = await gateWorkflow({ scope: '' }).run([openEvent('a')]);
		expect(activate[0].scope).toBe('global');
	});

	it("maps the detector's own action words", async () => {
		const gate = gateWorkflow({
			options: { openActions: 'open, Triggered', resolveActions: 'resolve,OK' },
		});
		const { activate, withdraw } = await gate.run([
			{ action: 'triggered', incidentId: 'a' },
			{ action: 'ok', incidentId: 'a' },
		]);
		expect(activate).toHaveLength(1);
		expect(withdraw).toHaveLength(1);
	});

	it('keeps gates of different workflows apart', async () => {
		await gateWorkflow().run([openEvent('a')]);
		const { activate } = await gateWorkflow().run([openEvent('a')]);
		expect(activate).toHaveLength(1);
	});
});

describe('Incident Gate node: bad input', () => {
	it.each([
		['a missing incident id', { action: 'open' }, 'The incident has no ID'],
		['an empty incident id', { action: 'open', incidentId: '  ' }, 'The incident has no ID'],
		[
			'an unknown action',
			{ action: 'acknowledge', incidentId: 'x' },
			'Unknown incident action "acknowledge"',
		],
		['a missing action', { incidentId: 'x' }, 'The incident has no action'],
	])(
		'fails the node on %s, naming the item, and changes no state (not even for earlier good items)',
		async (_, bad, message) => {
			const gate = gateWorkflow();
			const error = await gate.run([openEvent('good'), bad]).catch((e: unknown) => e);
			expect(error).toBeInstanceOf(NodeOperationError);
			expect((error as NodeOperationError).message).toBe(message);
			expect((error as NodeOperationError).context.itemIndex).toBe(1);
			const afterwards = await gate.run([openEvent('later')]);
			expect(afterwards.activate).toHaveLength(1);
		},
	);

	it('with Continue On Fail, sends the bad item to Unchanged with the error and processes the others', async () => {
		const gate = gateWorkflow();
		const { activate, unchanged, output } = await gate.run(
			[{ action: 'open' }, openEvent('a')],
			{},
			true,
		);
		expect(unchanged).toEqual([
			expect.objectContaining({
				error: 'The incident has no ID',
				hint: expect.stringContaining('Incident ID'),
			}),
		]);
		expect(output[2][0].pairedItem).toEqual({ item: 0 });
		expect(activate).toEqual([expect.objectContaining({ openIncidentIds: ['a'] })]);
	});
});

describe('Incident Gate node: hold-down and tick', () => {
	it('holds the withdraw for the withdraw delay; Tick releases it when due', async () => {
		const now = jest.spyOn(Date, 'now').mockReturnValue(0);
		const gate = gateWorkflow({ options: { withdrawDelaySeconds: 120 } });
		await gate.run([openEvent('a')]);
		const resolved = await gate.run([resolveEvent('a')]);
		expect(resolved.unchanged[0]).toMatchObject({
			reason: 'withdrawScheduled',
			mitigation: 'withdrawPending',
			withdrawDueAt: '1970-01-01T00:02:00.000Z',
		});

		now.mockReturnValue(60_000);
		expect((await gate.run([{}], { operation: 'tick' })).unchanged[0]).toMatchObject({
			reason: 'nothingDue',
		});
		now.mockReturnValue(120_000);
		const due = await gate.run([{}], { operation: 'tick' });
		expect(due.withdraw).toEqual([
			expect.objectContaining({
				scope: 'global',
				reason: 'withdrawDue',
				activatedAt: '1970-01-01T00:00:00.000Z',
			}),
		]);
	});

	it('Tick expires incidents not seen for the maximum age, once per execution whatever the number of input items', async () => {
		const now = jest.spyOn(Date, 'now').mockReturnValue(0);
		const gate = gateWorkflow({ options: { maxIncidentAgeMinutes: 30 } });
		await gate.run([openEvent('a')]);
		now.mockReturnValue(30 * 60_000);
		const { withdraw } = await gate.run([{}, {}], { operation: 'tick' });
		expect(withdraw).toEqual([
			expect.objectContaining({ reason: 'incidentsExpired', expiredIncidentIds: ['a'] }),
		]);
	});
});

describe('Incident Gate node: manual operations', () => {
	it('Get State lists every scope with its incidents', async () => {
		jest.spyOn(Date, 'now').mockReturnValue(0);
		const gate = gateWorkflow({ scope: '={{ $json.scope }}' });
		await gate.run([openEvent('a', { title: 'UDP flood' })], { scope: 'edge' });
		const { unchanged } = await gate.run([{}], { operation: 'getState' });
		expect(unchanged).toEqual([
			expect.objectContaining({
				scope: 'edge',
				mitigation: 'active',
				incidents: [
					{
						id: 'a',
						title: 'UDP flood',
						openedAt: '1970-01-01T00:00:00.000Z',
						lastSeen: '1970-01-01T00:00:00.000Z',
					},
				],
			}),
		]);
		const single = await gate.run([{}], {
			operation: 'getState',
			allScopes: false,
			scope: 'elsewhere',
		});
		expect(single.unchanged).toEqual([
			expect.objectContaining({ scope: 'elsewhere', mitigation: 'idle', openIncidents: 0 }),
		]);
	});

	it('Hold activates and survives the last resolve; Release withdraws; Reset forgets', async () => {
		const gate = gateWorkflow();
		expect((await gate.run([{}], { operation: 'hold' })).activate[0]).toMatchObject({
			reason: 'held',
			mitigation: 'held',
		});
		await gate.run([openEvent('a')]);
		expect((await gate.run([resolveEvent('a')])).unchanged[0]).toMatchObject({
			reason: 'keptByHold',
		});
		expect((await gate.run([{}], { operation: 'release' })).withdraw[0]).toMatchObject({
			reason: 'released',
		});
		await gate.run([openEvent('b')]);
		expect((await gate.run([{}], { operation: 'reset' })).withdraw[0]).toMatchObject({
			reason: 'reset',
			mitigation: 'idle',
		});
		expect((await gate.run([{}], { operation: 'getState' })).unchanged).toEqual([]);
	});
});

describe('Incident Gate node: static-data store', () => {
	it('stays exact when executions overlap, each on its own static data snapshot', async () => {
		const gate = gateWorkflow();
		const opens = await Promise.all(
			Array.from({ length: 50 }, (_, i) => gate.run([openEvent(`inc-${i}`)])),
		);
		expect(opens.flatMap((r) => r.activate)).toHaveLength(1);
		const resolves = await Promise.all(
			Array.from({ length: 50 }, (_, i) => gate.run([resolveEvent(`inc-${i}`)])),
		);
		expect(resolves.flatMap((r) => r.withdraw)).toHaveLength(1);
	});

	it('saves the whole state in static data and reloads it after a restart', async () => {
		const gate = gateWorkflow({ gateKey: 'edge-gate' });
		await gate.run([openEvent('a'), openEvent('b')]);
		expect(gate.persisted()[staticDataField('edge-gate')]).toMatchObject({
			scopes: { global: { status: 'active', open: [{ id: 'a' }, { id: 'b' }] } },
		});

		forgetProcessCopies();
		expect((await gate.run([resolveEvent('a')])).unchanged[0]).toMatchObject({
			reason: 'incidentResolved',
			openIncidents: 1,
		});
		expect((await gate.run([resolveEvent('b')])).withdraw).toHaveLength(1);
	});

	it('says in every item that it is not exact across queue-mode workers', async () => {
		process.env.EXECUTIONS_MODE = 'queue';
		const { activate } = await gateWorkflow().run([openEvent('a')]);
		expect(activate[0].storeWarning).toBe(QUEUE_MODE_WARNING);
	});
});
