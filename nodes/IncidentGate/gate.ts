import type { IDataObject, IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';

import { InputError, toNodeError } from '../shared/errors';
import { processMemory } from '../shared/processMemory';
import { redisOptionsFromCredential } from '../shared/redisConnection';
import { splitList } from '../shared/validation';
import { isQueueMode } from './queueMode';
import { checkLength, normalizeScope } from './scope';
import {
	DEFAULTS,
	type GateEvent,
	type GateSettings,
	type ScopeState,
	isOpen,
	unresolved,
} from './stateMachine';
import { monotonicNow } from './store/clock';
import type { Applied, GateStore } from './store/gateStore';
import { gateClient, RedisStore } from './store/redisStore';
import { StaticDataStore } from './store/staticDataStore';

type Operation = 'event' | 'confirm' | 'tick' | 'getState' | 'hold' | 'release' | 'reset';

const OUTPUT = { activate: 0, withdraw: 1, none: 2 } as const;
/**
 * Get State lists at most this many incidents per scope, so one huge scope cannot bloat the output.
 */
const MAX_LISTED_INCIDENTS = 100;

export const QUEUE_MODE_ERROR = 'The Workflow Static Data store cannot work in queue mode';
const QUEUE_MODE_HINT =
	'Each n8n worker keeps its own copy of static data, so workers would decide on different ' +
	'states (double Activate, Withdraw under attack). Set State Store to Redis.';
const UNTRACKED_HINT =
	'More incidents are open than Max Open Incidents per Scope: the extra ones are counted, not ' +
	'tracked by ID, and keep mitigation on until they expire (Max Incident Age). Raise the limit.';

interface GateOptions {
	openActions?: string;
	resolveActions?: string;
	updateActions?: string;
	minActiveSeconds?: number;
	withdrawDelaySeconds?: number;
	maxIncidentAgeMinutes?: number;
	resolveMemoryMinutes?: number;
	maxOpenIncidents?: number;
	reemitIntervalSeconds?: number;
	maxReemits?: number;
}

function readSettings(options: GateOptions): GateSettings {
	return {
		minActiveMs: (options.minActiveSeconds ?? DEFAULTS.minActiveSeconds) * 1000,
		withdrawDelayMs: (options.withdrawDelaySeconds ?? DEFAULTS.withdrawDelaySeconds) * 1000,
		maxIncidentAgeMs: (options.maxIncidentAgeMinutes ?? DEFAULTS.maxIncidentAgeMinutes) * 60_000,
		resolveMemoryMs: (options.resolveMemoryMinutes ?? DEFAULTS.resolveMemoryMinutes) * 60_000,
		maxOpenIncidents: options.maxOpenIncidents ?? DEFAULTS.maxOpenIncidents,
		reemitIntervalMs: (options.reemitIntervalSeconds ?? DEFAULTS.reemitIntervalSeconds) * 1000,
		maxReemits: options.maxReemits ?? DEFAULTS.maxReemits,
	};
}

async function openStore(ctx: IExecuteFunctions, gateKey: string): Promise<GateStore> {
	if (ctx.getNodeParameter('store', 0) === 'redis') {
		const credential = await ctx.getCredentials('redis');
		return new RedisStore(await gateClient(redisOptionsFromCredential(credential)), gateKey);
	}
	if (isQueueMode()) throw new InputError(QUEUE_MODE_ERROR, QUEUE_MODE_HINT);
	return new StaticDataStore(
		ctx.getWorkflowStaticData('global'),
		ctx.getWorkflow().id ?? 'unsaved',
		gateKey,
		monotonicNow,
	);
}

type ActionWords = Record<'open' | 'update' | 'resolve', string[]>;

/** Turns one input item into a gate event, or says what is wrong with it; never touches state. */
function readEvent(ctx: IExecuteFunctions, itemIndex: number, actionWords: ActionWords): GateEvent {
	const rawAction = ctx.getNodeParameter('action', itemIndex, '') as unknown;
	const action = typeof rawAction === 'string' ? rawAction.trim().toLowerCase() : '';
	const type = (['open', 'update', 'resolve'] as const).find((candidate) =>
		actionWords[candidate].includes(action),
	);
	if (!type) {
		const accepted =
			`The action must be one of: open (${actionWords.open.join(', ')}), ` +
			`update (${actionWords.update.join(', ')}), resolve (${actionWords.resolve.join(', ')}). ` +
			'Map other words under Options > Action Words.';
		throw new InputError(
			action
				? `Unknown incident action ${JSON.stringify(rawAction)}`
				: 'The incident has no action',
			accepted,
		);
	}
	const rawId = ctx.getNodeParameter('incidentId', itemIndex, '') as unknown;
	const incidentId =
		typeof rawId === 'number' ? String(rawId) : typeof rawId === 'string' ? rawId.trim() : '';
	if (!incidentId) {
		throw new InputError(
			'The incident has no ID',
			"Set Incident ID to an expression that yields the incident's ID, e.g. {{ $json.incidentId }}",
		);
	}
	checkLength('incidentId', 'incident ID', incidentId);
	const at = readOccurredAt(ctx, itemIndex);
	if (type === 'resolve') return { type, incidentId, at };
	const rawTitle = ctx.getNodeParameter('title', itemIndex, '') as unknown;
	const title = typeof rawTitle === 'string' ? checkLength('title', 'title', rawTitle.trim()) : '';
	return { type, incidentId, at, ...(title ? { title } : {}) };
}

/**
 * The time an event without its own time is received; strictly increasing, so a batch keeps its
 * order.
 */
function receiptTime(): number {
	processMemory.gateLastReceipt = Math.max(Date.now(), processMemory.gateLastReceipt + 0.001);
	return processMemory.gateLastReceipt;
}

/** The sender's event time; the gate's receipt time when there is none. */
function readOccurredAt(ctx: IExecuteFunctions, itemIndex: number): number {
	const raw = ctx.getNodeParameter('occurredAt', itemIndex, '') as unknown;
	if (raw === undefined || raw === null || raw === '') return receiptTime();
	const time =
		typeof raw === 'number'
			? raw
			: raw instanceof Date
				? raw.getTime()
				: typeof raw === 'string'
					? Date.parse(raw.trim())
					: Number.NaN;
	if (!Number.isFinite(time)) {
		throw new InputError(
			`The event time ${JSON.stringify(raw)} is not a date`,
			'Set Occurred At to an ISO 8601 time (e.g. 2030-01-01T12:00:00Z), milliseconds since ' +
				'1970, or leave it empty to use the time the gate receives the event',
		);
	}
	return time;
}

function readScope(ctx: IExecuteFunctions, itemIndex: number): string {
	const scope = ctx.getNodeParameter('scope', itemIndex, 'global') as unknown;
	if (scope === undefined || scope === null || scope === '') return 'global';
	if (typeof scope !== 'string' && typeof scope !== 'number') {
		throw new InputError(`The scope must be text, not ${JSON.stringify(scope)}`);
	}
	return checkLength('scope', 'scope', normalizeScope(String(scope))) || 'global';
}

function readConfirm(ctx: IExecuteFunctions, itemIndex: number): GateEvent {
	const active = ctx.getNodeParameter('active', itemIndex, undefined) as unknown;
	// Anything but a boolean (a failed provider item carries `error`, not `active`) asks for a
	// re-emit.
	return { type: 'confirm', active: typeof active === 'boolean' ? active : undefined };
}

const iso = (time: number | undefined) =>
	time === undefined ? null : new Date(time).toISOString();

/** What every output item says about a scope, so downstream nodes need no extra look-ups. */
function describeScope(
	scope: string,
	state: ScopeState | undefined,
	activatedAt: number | undefined,
): IDataObject {
	return {
		scope,
		mitigation: state?.status ?? 'idle',
		openIncidents: unresolved(state),
		...(state?.overflow ? { untrackedIncidents: state.overflow } : {}),
		confirmed: !state?.pending,
		activatedAt: iso(activatedAt),
		withdrawDueAt: iso(state?.withdrawDueAt),
	};
}

function describeApplied({ scope, decision, activatedAt }: Applied): IDataObject {
	return {
		transition: decision.transition,
		reason: decision.reason,
		...describeScope(scope, decision.state, activatedAt),
		...(decision.expiredIncidentIds ? { expiredIncidentIds: decision.expiredIncidentIds } : {}),
	};
}

/**
 * The full picture of a scope for Get State: open incidents with their times, and the hold-down.
 */
function describeState(scope: string, state: ScopeState | undefined): IDataObject {
	const incidents: IDataObject[] = [];
	for (const id in state?.incidents ?? {}) {
		const record = state!.incidents[id];
		if (!isOpen(record)) continue;
		if (incidents.length === MAX_LISTED_INCIDENTS) break;
		incidents.push({
			id,
			title: record.t ?? null,
			openedAt: iso(record.o),
			lastSeen: iso(record.s),
		});
	}
	return {
		...describeScope(scope, state, state?.activatedAt),
		incidents,
		rememberedResolves: state?.remembered ?? 0,
	};
}

export async function runGate(ctx: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	const outputs: INodeExecutionData[][] = [[], [], []];
	const operation = ctx.getNodeParameter('operation', 0) as Operation;
	const settings = readSettings(ctx.getNodeParameter('options', 0, {}) as GateOptions);
	const gateKey =
		String(ctx.getNodeParameter('gateKey', 0, 'incident-gate')).trim() || 'incident-gate';
	let untracked = false;
	const emit = (json: IDataObject, itemIndex: number) => {
		const output = OUTPUT[json.transition as keyof typeof OUTPUT] ?? OUTPUT.none;
		if (json.untrackedIncidents) untracked = true;
		outputs[output].push({ json, pairedItem: { item: itemIndex } });
	};
	const failed = (error: unknown, itemIndex: number) => {
		const nodeError = toNodeError(ctx, error, itemIndex);
		if (!ctx.continueOnFail()) throw nodeError;
		outputs[OUTPUT.none].push({
			json: {
				error: nodeError.message,
				description: nodeError.description ?? null,
				operation,
			},
			pairedItem: { item: itemIndex },
		});
	};

	let store: GateStore;
	try {
		store = await openStore(ctx, gateKey);
	} catch (error) {
		// No item can be decided without a store: with Continue On Fail each one says why.
		ctx.getInputData().forEach((_, itemIndex) => failed(error, itemIndex));
		return outputs;
	}
	// Scope-wide operations run once per execution, not once per input item (a Schedule Trigger sends
	// one item).
	if (operation === 'tick') {
		try {
			// Only scopes with a transition: a tick that changes nothing outputs nothing.
			for (const applied of await store.tick(settings))
				if (applied.decision.transition !== 'none') emit(describeApplied(applied), 0);
		} catch (error) {
			failed(error, 0);
		}
	} else if (operation === 'getState') {
		try {
			const allScopes = ctx.getNodeParameter('allScopes', 0, true) as boolean;
			const scopes = allScopes ? await store.scopes() : [readScope(ctx, 0)];
			for (const scope of scopes)
				emit(
					{ transition: 'none', reason: 'state', ...describeState(scope, await store.read(scope)) },
					0,
				);
		} catch (error) {
			failed(error, 0);
		}
	} else {
		await decideItems(ctx, store, operation, settings, emit, failed);
	}
	if (untracked) ctx.addExecutionHints?.({ message: UNTRACKED_HINT, location: 'outputPane' });
	return outputs;
}

async function decideItems(
	ctx: IExecuteFunctions,
	store: GateStore,
	operation: Operation,
	settings: GateSettings,
	emit: (json: IDataObject, itemIndex: number) => void,
	failed: (error: unknown, itemIndex: number) => void,
): Promise<void> {
	const options = ctx.getNodeParameter('options', 0, {}) as GateOptions;
	const actionWords: ActionWords = {
		open: splitList((options.openActions ?? 'open').toLowerCase()),
		update: splitList((options.updateActions ?? 'update').toLowerCase()),
		resolve: splitList((options.resolveActions ?? 'resolve').toLowerCase()),
	};
	// Read and check every item before deciding on any: without continueOnFail a bad item fails the
	// node, and the good items before it must not have changed state whose transitions nobody
	// downstream would then see.
	const requests = ctx.getInputData().map((item, itemIndex) => {
		try {
			const scope = readScope(ctx, itemIndex);
			if (operation === 'event')
				return { event: readEvent(ctx, itemIndex, actionWords), scope, input: item.json };
			if (operation === 'confirm') return { event: readConfirm(ctx, itemIndex), scope };
			return { event: { type: operation } as GateEvent, scope };
		} catch (error) {
			failed(error, itemIndex);
			return undefined;
		}
	});
	for (const [itemIndex, request] of requests.entries()) {
		if (!request) continue;
		try {
			const applied = await store.apply(request.scope, request.event, settings);
			emit(
				{
					...describeApplied(applied),
					...(applied.scope !== request.scope ? { requestedScope: request.scope } : {}),
					...(request.input ? { event: request.input } : {}),
				},
				itemIndex,
			);
		} catch (error) {
			failed(error, itemIndex);
		}
	}
}
