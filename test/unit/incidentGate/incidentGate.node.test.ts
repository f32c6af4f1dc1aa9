import type { IDataObject, INodeExecutionData, INodeType } from 'n8n-workflow';
import type { NodeOperationError } from 'n8n-workflow';

import { runNode } from '../../helpers/runNode';

const T0 = Date.parse('2030-01-01T00:00:00Z');
let workflowCounter = 0;

/**
 * A fresh copy of the node's modules: what a restarted n8n process loads (no state kept in memory).
 */
function loadNode(): INodeType {
	let node: INodeType | undefined;
	jest.isolateModules(() => {
		// eslint-disable-next-line @typescript-eslint/no-require-imports
		const { IncidentGate } = require('../../../nodes/IncidentGate/IncidentGate.node') as {
			IncidentGate: new () => INodeType;
		};
		node = new IncidentGate();
	});
	return node as INodeType;
}

/**
 * One workflow with the gate on the static-data store; each call of `run` is one execution with its
 * own snapshot.
 */
function gateWorkflow(parameters: Record<string, unknown> = {}, process = { node: loadNode() }) {
	const workflowId = `wf-${++workflowCounter}`;
	let persisted: IDataObject = {};
	let saves = 0;
	return {
		async run(
			items: IDataObject[],
			overrides: Record<string, unknown> = {},
			continueOnFail = false,
		) {
			// n8n hands each execution a copy of the saved static data and saves it back only if the
			// execution changed it (n8n's static data object notices assignments).
			let changed = false;
			const staticData = new Proxy(structuredClone(persisted), {
				set(target, key, value) {
					changed = true;
					return Reflect.set(target, key, value);
				},
			});
			const nodeParameters = { operation: 'event', ...parameters, ...overrides };
			const result = await runNode(process.node, {
				parameters: nodeParameters,
				itemParameters: items.map((json) => resolveJsonExpressions(nodeParameters, json)),
				items: items.map((json) => ({ json })),
				credentials: {},
				credentialTypes: [],
				staticData,
				continueOnFail,
				workflowId,
			});
			if (changed) {
				saves++;
				persisted = JSON.parse(JSON.stringify(staticData)) as IDataObject;
			}
			const [activate, withdraw, unchanged] = result.output;
			return {
				activate: jsonOf(activate),
				withdraw: jsonOf(withdraw),
				unchanged: jsonOf(unchanged),
				output: result.output,
			};
		},
		persisted: () => persisted,
		saves: () => saves,
		/** n8n restarted: the same workflow and its saved static data, a new process. */
		restart: () => {
			process.node = loadNode();
		},
	};
}

/**
 * Evaluates the `{{ $json.field }}` expressions the gate uses by default (runNode does not evaluate
 * expressions).
 */
function resolveJsonExpressions(
	parameters: Record<string, unknown>,
	json: IDataObject,
): Record<string, unknown> {
	const defaults = {
		action: '={{ $json.action }}',
		incidentId: '={{ $json.incidentId }}',
		title: '={{ $json.title }}',
		occurredAt: '={{ $json.occurredAt }}',
		active: '={{ $json.active }}',
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
const resolveEvent = (incidentId: string, extra: IDataObject = {}) => ({
	action: 'resolve',
	incidentId,
	source: 'test',
	...extra,
});

beforeEach(() => {
	jest.useFakeTimers({ now: T0 });
});

afterEach(() => {
	jest.useRealTimers();
	delete process.env.EXECUTIONS_MODE;
});

describe('Incident Gate node: routing events', () => {
	it('sends the first open to Activate with everything downstream nodes need', async () => {
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
				confirmed: false,
				activatedAt: '2030-01-01T00:00:00.000Z',
				withdrawDueAt: null,
				event,
			},
		]);
		expect(output[0][0].pairedItem).toEqual({ item: 0 });
	});

	it(
		'routes a batch item by item: Activate once, then Unchanged, then Withdraw at the last ' +
			'resolve',
		async () => {
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
					activatedAt: '2030-01-01T00:00:00.000Z',
				}),
			]);
			expect(output[1][0].pairedItem).toEqual({ item: 4 });
		},
	);

	it('treats open, resolve, open of one id in one batch as two waves', async () => {
		const { output } = await gateWorkflow().run([
			openEvent('c'),
			resolveEvent('c'),
			openEvent('c'),
		]);
		expect(output.map((items) => items.map((item) => item.pairedItem))).toEqual([
			[{ item: 0 }, { item: 2 }],
			[{ item: 1 }],
			[],
		]);
	});

	it('orders by Occurred At: an open from before its resolve is late, not a new wave', async () => {
		const gate = gateWorkflow();
		await gate.run([openEvent('a', { occurredAt: '2030-01-01T00:00:00Z' })]);
		await gate.run([resolveEvent('a', { occurredAt: '2030-01-01T00:05:00Z' })]);
		const late = await gate.run([openEvent('a', { occurredAt: '2030-01-01T00:00:00Z' })]);
		expect(late.unchanged[0]).toMatchObject({ reason: 'resolvedBeforeOpen' });
		const again = await gate.run([openEvent('a', { occurredAt: '2030-01-01T00:06:00Z' })]);
		expect(again.activate).toHaveLength(1);
	});

	it('keeps one mitigation per scope, whatever the spelling of the scope', async () => {
		const gate = gateWorkflow({ scope: '={{ $json.scope }}' });
		const spellings = ['2001:DB8::/32', '2001:0db8:0:0::/32 ', '2001:db8:ffff::/32'];
		const first = await gate.run([openEvent('a')], { scope: spellings[0] });
		const second = await gate.run([openEvent('b')], { scope: spellings[1] });
		const third = await gate.run([openEvent('c')], { scope: spellings[2] });
		expect(first.activate[0].scope).toBe('2001:db8::/32');
		expect(second.unchanged[0]).toMatchObject({ scope: '2001:db8::/32', openIncidents: 2 });
		expect(third.unchanged[0]).toMatchObject({ scope: '2001:db8::/32', openIncidents: 3 });
		const other = await gate.run([openEvent('d')], { scope: 'PEDGE01' });
		const same = await gate.run([openEvent('e')], { scope: 'pedge01' });
		expect(other.activate[0].scope).toBe('pedge01');
		expect(same.activate).toEqual([]);
	});

	it('resolves an incident in the scope it was opened in, whatever the resolve says', async () => {
		const gate = gateWorkflow({ scope: '={{ $json.scope }}' });
		await gate.run([openEvent('a')], { scope: '203.0.113.0/24' });
		const { withdraw } = await gate.run([resolveEvent('a')], { scope: 'global' });
		expect(withdraw).toEqual([
			expect.objectContaining({ scope: '203.0.113.0/24', requestedScope: 'global' }),
		]);
	});

	it('says when incidents beyond the per-scope cap are only counted', async () => {
		const gate = gateWorkflow({ options: { maxOpenIncidents: 1 } });
		const { unchanged } = await gate.run([openEvent('a'), openEvent('b')]);
		expect(unchanged).toEqual([
			expect.objectContaining({
				reason: 'openIncidentLimitReached',
				openIncidents: 2,
				untrackedIncidents: 1,
			}),
		]);
		expect((await gate.run([resolveEvent('a')])).withdraw).toEqual([]);
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
		const process = { node: loadNode() };
		await gateWorkflow({}, process).run([openEvent('a')]);
		const { activate } = await gateWorkflow({}, process).run([openEvent('a')]);
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
		[
			'an incident id too long to keep',
			{ action: 'open', incidentId: 'x'.repeat(513) },
			'The incident ID is 513 characters long; at most 512 are allowed',
		],
		[
			'an event time that is not a date',
			{ action: 'open', incidentId: 'x', occurredAt: 'yesterday' },
			'The event time "yesterday" is not a date',
		],
	])(
		'fails the node on %s, naming the item, and changes no state (not even for earlier good items)',
		async (_, bad, message) => {
			const gate = gateWorkflow();
			const error = await gate.run([openEvent('good'), bad]).catch((e: unknown) => e);
			expect(error).toMatchObject({ name: 'NodeOperationError' });
			expect((error as NodeOperationError).message).toBe(message);
			expect((error as NodeOperationError).context.itemIndex).toBe(1);
			const afterwards = await gate.run([openEvent('later')]);
			expect(afterwards.activate).toHaveLength(1);
		},
	);

	it(
		'with Continue On Fail, sends the bad item to Unchanged with the error and processes the ' +
			'others',
		async () => {
			const gate = gateWorkflow();
			const { activate, unchanged, output } = await gate.run(
				[{ action: 'open' }, openEvent('a')],
				{},
				true,
			);
			expect(unchanged).toEqual([
				{
					error: 'The incident has no ID',
					description: expect.stringContaining('Incident ID'),
					operation: 'event',
				},
			]);
			expect(output[2][0].pairedItem).toEqual({ item: 0 });
			expect(activate).toEqual([expect.objectContaining({ scope: 'global', openIncidents: 1 })]);
		},
	);
});

describe('Incident Gate node: hold-down and tick', () => {
	it('holds the withdraw for the withdraw delay; Tick releases it when due', async () => {
		const gate = gateWorkflow({ options: { withdrawDelaySeconds: 120 } });
		await gate.run([openEvent('a')]);
		await gate.run([{ scope: 'global', active: true }], { operation: 'confirm' });
		const resolved = await gate.run([resolveEvent('a')]);
		expect(resolved.unchanged[0]).toMatchObject({
			reason: 'withdrawScheduled',
			mitigation: 'withdrawPending',
			withdrawDueAt: '2030-01-01T00:02:00.000Z',
		});

		jest.advanceTimersByTime(60_000);
		expect(await gate.run([{}], { operation: 'tick' })).toMatchObject({
			activate: [],
			withdraw: [],
			unchanged: [],
		});
		jest.advanceTimersByTime(60_000);
		const due = await gate.run([{}], { operation: 'tick' });
		expect(due.withdraw).toEqual([
			expect.objectContaining({
				scope: 'global',
				reason: 'withdrawDue',
				activatedAt: '2030-01-01T00:00:00.000Z',
			}),
		]);
	});

	it(
		'Tick expires incidents not seen for the maximum age, once per execution whatever the ' +
			'number of input items',
		async () => {
			const gate = gateWorkflow({ options: { maxIncidentAgeMinutes: 30 } });
			await gate.run([openEvent('a')]);
			jest.advanceTimersByTime(30 * 60_000);
			const { withdraw } = await gate.run([{}, {}], { operation: 'tick' });
			expect(withdraw).toEqual([
				expect.objectContaining({ reason: 'incidentsExpired', expiredIncidentIds: ['a'] }),
			]);
		},
	);

	it('is not fooled by the system clock stepping forward', async () => {
		const gate = gateWorkflow({ options: { maxIncidentAgeMinutes: 30 } });
		await gate.run([openEvent('a')]);
		jest.setSystemTime(T0 + 60 * 60_000);
		expect((await gate.run([{}], { operation: 'tick' })).withdraw).toEqual([]);
	});
});

describe('Incident Gate node: re-emit and confirm', () => {
	it('emits Activate again at the next tick when the provider after it failed', async () => {
		const gate = gateWorkflow();
		await gate.run([openEvent('a')]);
		jest.advanceTimersByTime(60_000);
		const { activate, output } = await gate.run([{}], { operation: 'tick' });
		expect(activate).toEqual([
			expect.objectContaining({ scope: 'global', reason: 'reemit', confirmed: false }),
		]);
		expect(output[0][0].pairedItem).toEqual({ item: 0 });
	});

	it("stops once a Confirm step reports the provider's result", async () => {
		const gate = gateWorkflow();
		await gate.run([openEvent('a')]);
		const confirmed = await gate.run([{ scope: 'global', active: true, changed: true }], {
			operation: 'confirm',
			scope: '={{ $json.scope }}',
		});
		expect(confirmed.unchanged[0]).toMatchObject({ reason: 'confirmed', confirmed: true });
		jest.advanceTimersByTime(60_000);
		expect((await gate.run([{}], { operation: 'tick' })).activate).toEqual([]);
	});

	it('re-emits at once when the provider item carries an error instead of a result', async () => {
		const gate = gateWorkflow();
		await gate.run([openEvent('a')]);
		await gate.run([{ scope: 'global', error: 'HTTP 500' }], {
			operation: 'confirm',
			scope: '={{ $json.scope }}',
		});
		expect((await gate.run([{}], { operation: 'tick' })).activate).toHaveLength(1);
	});
});

describe('Incident Gate node: manual operations', () => {
	it('Get State lists every scope with its incidents', async () => {
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
						openedAt: '2030-01-01T00:00:00.000Z',
						lastSeen: '2030-01-01T00:00:00.000Z',
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

	it('saves its state in static data and continues from it after a restart', async () => {
		const gate = gateWorkflow({ gateKey: 'edge-gate' });
		await gate.run([openEvent('a'), openEvent('b')]);
		expect(gate.persisted()['incidentGate:edge-gate']).toMatchObject({
			v: 2,
			scopes: { global: { status: 'active', open: 2, incidents: { a: {}, b: {} } } },
		});

		gate.restart();
		expect((await gate.run([resolveEvent('a')])).unchanged[0]).toMatchObject({
			reason: 'incidentResolved',
			openIncidents: 1,
		});
		expect((await gate.run([resolveEvent('b')])).withdraw).toHaveLength(1);
	});

	it('writes nothing on an idle tick or Get State', async () => {
		const gate = gateWorkflow();
		await gate.run([openEvent('a')]);
		await gate.run([{ active: true }], { operation: 'confirm', scope: 'global' });
		const saves = gate.saves();
		await gate.run([{}], { operation: 'tick' });
		await gate.run([{}], { operation: 'getState' });
		expect(gate.saves()).toBe(saves);
	});

	it('refuses to run in queue mode, where each worker would keep its own copy', async () => {
		process.env.EXECUTIONS_MODE = 'queue';
		const error = await gateWorkflow()
			.run([openEvent('a')])
			.catch((e: unknown) => e);
		expect(error).toMatchObject({ name: 'NodeOperationError' });
		expect((error as NodeOperationError).message).toBe(
			'The Workflow Static Data store cannot work in queue mode',
		);
		expect((error as NodeOperationError).description).toContain('Set State Store to Redis');
	});

	it('with Continue On Fail, says so in every item instead', async () => {
		process.env.EXECUTIONS_MODE = 'queue';
		const { unchanged, output } = await gateWorkflow().run([openEvent('a')], {}, true);
		expect(unchanged).toEqual([
			{
				error: 'The Workflow Static Data store cannot work in queue mode',
				description: expect.stringContaining('Set State Store to Redis'),
				operation: 'event',
			},
		]);
		expect(output[2][0].pairedItem).toEqual({ item: 0 });
	});
});
