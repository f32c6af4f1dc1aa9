import type {
	ICredentialDataDecryptedObject,
	IDataObject,
	IExecuteFunctions,
	INodeExecutionData,
} from 'n8n-workflow';

import { InputError, toNodeError } from '../shared/errors';
import { splitList } from '../shared/validation';
import {
	decide,
	type Decision,
	type GateEvent,
	type GateSettings,
	type ScopeState,
} from './stateMachine';
import type { GateStore } from './store/gateStore';
import { RedisStore } from './store/redisStore';
import { redisConnection, type RedisConnectionOptions } from './store/respClient';
import { StaticDataStore } from './store/staticDataStore';

type Operation = 'event' | 'tick' | 'getState' | 'hold' | 'release' | 'reset';

const OUTPUT = { activate: 0, withdraw: 1, none: 2 } as const;
/** Output items list at most this many open incident ids, so one huge scope cannot bloat every item. */
const MAX_LISTED_IDS = 100;

export const QUEUE_MODE_WARNING =
	'n8n runs in queue mode: the Workflow Static Data store is exact only within one process, and each worker has its own copy. Use the Redis store.';

interface GateOptions {
	openActions?: string;
	resolveActions?: string;
	updateActions?: string;
	minActiveSeconds?: number;
	withdrawDelaySeconds?: number;
	maxIncidentAgeMinutes?: number;
	resolveMemoryMinutes?: number;
	maxOpenIncidents?: number;
	maxRememberedResolves?: number;
}

function readSettings(options: GateOptions): GateSettings {
	return {
		minActiveMs: (options.minActiveSeconds ?? 0) * 1000,
		withdrawDelayMs: (options.withdrawDelaySeconds ?? 0) * 1000,
		maxIncidentAgeMs: (options.maxIncidentAgeMinutes ?? 0) * 60_000,
		resolveMemoryMs: (options.resolveMemoryMinutes ?? 5) * 60_000,
		maxOpenIncidents: options.maxOpenIncidents ?? 1000,
		maxRememberedResolves: options.maxRememberedResolves ?? 1000,
	};
}

export function redisOptionsFromCredential(
	credential: ICredentialDataDecryptedObject,
): RedisConnectionOptions {
	return {
		host: String(credential.host || 'localhost'),
		port: Number(credential.port || 6379),
		user: credential.user ? String(credential.user) : undefined,
		password: credential.password ? String(credential.password) : undefined,
		database: Number(credential.database || 0),
		ssl: credential.ssl === true,
		disableTlsVerification: credential.disableTlsVerification === true,
	};
}

async function openStore(ctx: IExecuteFunctions, gateKey: string): Promise<GateStore> {
	if (ctx.getNodeParameter('store', 0) === 'redis') {
		const credential = await ctx.getCredentials('redis');
		return new RedisStore(await redisConnection(redisOptionsFromCredential(credential)), gateKey);
	}
	const workflowId = ctx.getWorkflow().id ?? 'unsaved';
	// n8n itself reads EXECUTIONS_MODE from the environment, so every main and worker of a queue-mode setup has it.
	const queueMode = process.env.EXECUTIONS_MODE === 'queue';
	return new StaticDataStore(
		ctx.getWorkflowStaticData('global'),
		workflowId,
		gateKey,
		Date.now,
		queueMode ? QUEUE_MODE_WARNING : undefined,
	);
}

/** Turns one input item into a gate event, or says what is wrong with it; never touches state. */
function readEvent(
	ctx: IExecuteFunctions,
	itemIndex: number,
	actionWords: Record<'open' | 'update' | 'resolve', string[]>,
) {
	const rawAction = ctx.getNodeParameter('action', itemIndex, '') as unknown;
	const action = typeof rawAction === 'string' ? rawAction.trim().toLowerCase() : '';
	const type = (['open', 'update', 'resolve'] as const).find((candidate) =>
		actionWords[candidate].includes(action),
	);
	if (!type) {
		const accepted = `The action must be one of: open (${actionWords.open.join(', ')}), update (${actionWords.update.join(', ')}), resolve (${actionWords.resolve.join(', ')}). Map other words under Options > Action Words.`;
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
	const title = ctx.getNodeParameter('title', itemIndex, '') as unknown;
	const event: GateEvent =
		type === 'resolve'
			? { type, incidentId }
			: {
					type,
					incidentId,
					...(typeof title === 'string' && title.trim() ? { title: title.trim() } : {}),
				};
	return { event, scope: readScope(ctx, itemIndex) };
}

function readScope(ctx: IExecuteFunctions, itemIndex: number): string {
	const scope = ctx.getNodeParameter('scope', itemIndex, 'global') as unknown;
	if (scope === undefined || scope === null || scope === '') return 'global';
	if (typeof scope !== 'string' && typeof scope !== 'number') {
		throw new InputError(`The scope must be text, not ${JSON.stringify(scope)}`);
	}
	return String(scope).trim() || 'global';
}

const iso = (time: number | undefined) =>
	time === undefined ? null : new Date(time).toISOString();

/** What every output item says about a scope, so downstream nodes need no extra look-ups. */
function describeScope(
	scope: string,
	state: ScopeState | undefined,
	activatedAt: number | undefined,
): IDataObject {
	const open = state?.open ?? [];
	return {
		scope,
		mitigation: state?.status ?? 'idle',
		openIncidents: open.length,
		openIncidentIds: open.slice(0, MAX_LISTED_IDS).map((incident) => incident.id),
		activatedAt: iso(activatedAt),
		withdrawDueAt: iso(state?.withdrawDueAt),
	};
}

function describeDecision(
	scope: string,
	previous: ScopeState | undefined,
	decision: Decision,
): IDataObject {
	return {
		transition: decision.transition,
		reason: decision.reason,
		// A withdraw item still says when the mitigation it ends was activated.
		...describeScope(scope, decision.state, decision.state?.activatedAt ?? previous?.activatedAt),
		...(decision.expiredIncidentIds ? { expiredIncidentIds: decision.expiredIncidentIds } : {}),
	};
}

async function decideOnStore(
	store: GateStore,
	scope: string,
	event: GateEvent,
	settings: GateSettings,
) {
	return await store.update(scope, (previous, now) => {
		const decision = decide(previous, event, now, settings);
		return { state: decision.state, result: describeDecision(scope, previous, decision) };
	});
}

export async function runGate(ctx: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	const items = ctx.getInputData();
	const outputs: INodeExecutionData[][] = [[], [], []];
	const operation = ctx.getNodeParameter('operation', 0) as Operation;
	const options = ctx.getNodeParameter('options', 0, {}) as GateOptions;
	const settings = readSettings(options);
	const gateKey =
		String(ctx.getNodeParameter('gateKey', 0, 'incident-gate')).trim() || 'incident-gate';

	let store: GateStore;
	try {
		store = await openStore(ctx, gateKey);
	} catch (error) {
		throw toNodeError(ctx, error, 0);
	}
	const withWarning = (json: IDataObject): IDataObject =>
		store.warning ? { ...json, storeWarning: store.warning } : json;
	const emit = (json: IDataObject, itemIndex: number) => {
		const output = OUTPUT[json.transition as keyof typeof OUTPUT] ?? OUTPUT.none;
		outputs[output].push({ json: withWarning(json), pairedItem: { item: itemIndex } });
	};

	// Scope-wide operations run once per execution, not once per input item (a Schedule Trigger sends one item).
	if (operation === 'tick' || operation === 'getState') {
		try {
			const allScopes =
				operation === 'tick' || (ctx.getNodeParameter('allScopes', 0, true) as boolean);
			const scopes = allScopes ? await store.scopes() : [readScope(ctx, 0)];
			for (const scope of scopes) {
				if (operation === 'tick') {
					emit(await decideOnStore(store, scope, { type: 'tick' }, settings), 0);
				} else {
					emit(
						{
							transition: 'none',
							reason: 'state',
							...describeState(scope, await store.read(scope)),
						},
						0,
					);
				}
			}
		} catch (error) {
			const nodeError = toNodeError(ctx, error, 0);
			if (!ctx.continueOnFail()) throw nodeError;
			outputs[OUTPUT.none].push({ json: { error: nodeError.message }, pairedItem: { item: 0 } });
		}
		return outputs;
	}

	const actionWords = {
		open: splitList((options.openActions ?? 'open').toLowerCase()),
		update: splitList((options.updateActions ?? 'update').toLowerCase()),
		resolve: splitList((options.resolveActions ?? 'resolve').toLowerCase()),
	};
	// Read and check every item before deciding on any: without continueOnFail a bad item fails the node, and the
	// good items before it must not have changed state whose transitions nobody downstream would then see.
	const requests = items.map((item, itemIndex) => {
		try {
			if (operation === 'event')
				return { ...readEvent(ctx, itemIndex, actionWords), input: item.json };
			return {
				event: { type: operation } as GateEvent,
				scope: readScope(ctx, itemIndex),
				input: undefined,
			};
		} catch (error) {
			const nodeError = toNodeError(ctx, error, itemIndex);
			if (!ctx.continueOnFail()) throw nodeError;
			return nodeError;
		}
	});

	for (const [itemIndex, request] of requests.entries()) {
		try {
			if (request instanceof Error) throw request;
			const result = await decideOnStore(store, request.scope, request.event, settings);
			emit(request.input === undefined ? result : { ...result, event: request.input }, itemIndex);
		} catch (error) {
			const nodeError = toNodeError(ctx, error, itemIndex);
			if (!ctx.continueOnFail()) throw nodeError;
			outputs[OUTPUT.none].push({
				json: withWarning({
					error: nodeError.message,
					...(nodeError.description ? { hint: nodeError.description } : {}),
				}),
				pairedItem: { item: itemIndex },
			});
		}
	}
	return outputs;
}

/** The full picture of a scope for Get State: every open incident with its times, and the hold-down. */
function describeState(scope: string, state: ScopeState | undefined): IDataObject {
	return {
		...describeScope(scope, state, state?.activatedAt),
		incidents: (state?.open ?? []).slice(0, MAX_LISTED_IDS).map((incident) => ({
			id: incident.id,
			title: incident.title ?? null,
			openedAt: iso(incident.openedAt),
			lastSeen: iso(incident.lastSeen),
		})),
		rememberedResolves: state?.recentResolves.length ?? 0,
	};
}
