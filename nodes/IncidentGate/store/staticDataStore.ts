import type { IDataObject } from 'n8n-workflow';

import { processMemory } from '../../shared/processMemory';

import {
	decide,
	hydrate,
	isOpen,
	nextDueAt,
	type Decision,
	type GateEvent,
	type GateSettings,
	type ScopeState,
} from '../stateMachine';
import { DueIndex } from './dueIndex';
import { incidentOf, type Applied, type GateStore } from './gateStore';

/**
 * What static data holds: every scope's state, and the gate clock's last reading (it never goes
 * back).
 */
interface GateDocument {
	v: 2;
	clock: number;
	scopes: Record<string, ScopeState>;
}

/** A gate as one process holds it: the document plus indexes rebuilt on load. */
export interface LiveGate {
	document: GateDocument;
	/** Open incident id -> the scope it was opened in. */
	owners: Map<string, string>;
	due: DueIndex;
	/**
	 * Added to the process clock so the gate clock continues from the saved reading after a restart.
	 */
	offset: number;
	/** The settings the due index was computed with; a change rebuilds it. */
	settingsKey: string;
}

const liveGates = processMemory.liveGates;

export const staticDataField = (gateKey: string) => `incidentGate:${gateKey}`;

export class StaticDataStore implements GateStore {
	private readonly copyKey: string;
	private readonly field: string;

	constructor(
		private readonly staticData: IDataObject,
		workflowId: string,
		gateKey: string,
		private readonly clock: () => number,
	) {
		this.copyKey = JSON.stringify([workflowId, gateKey]);
		this.field = staticDataField(gateKey);
	}

	async apply(scope: string, event: GateEvent, settings: GateSettings): Promise<Applied> {
		// No await from here to the write: this is the critical section.
		const gate = this.live(settings);
		const now = this.now(gate);
		const id = incidentOf(event);
		const target = (id !== undefined && gate.owners.get(id)) || scope;
		const activatedAt = gate.document.scopes[target]?.activatedAt;
		const decision = decide(gate.document.scopes[target], event, now, settings);
		this.commit(gate, target, decision, now, settings, id);
		return { scope: target, decision, activatedAt: decision.state?.activatedAt ?? activatedAt };
	}

	async tick(settings: GateSettings): Promise<Applied[]> {
		const gate = this.live(settings);
		const now = this.now(gate);
		const applied: Applied[] = [];
		for (const scope of gate.due.takeDue(now)) {
			const activatedAt = gate.document.scopes[scope]?.activatedAt;
			const decision = decide(gate.document.scopes[scope], { type: 'tick' }, now, settings);
			this.commit(gate, scope, decision, now, settings, undefined);
			applied.push({ scope, decision, activatedAt: decision.state?.activatedAt ?? activatedAt });
		}
		return applied;
	}

	async read(scope: string): Promise<ScopeState | undefined> {
		return this.live().document.scopes[scope];
	}

	async scopes(): Promise<string[]> {
		return Object.keys(this.live().document.scopes).sort();
	}

	private now(gate: LiveGate): number {
		return Math.max(this.clock() + gate.offset, gate.document.clock);
	}

	private commit(
		gate: LiveGate,
		scope: string,
		decision: Decision,
		now: number,
		settings: GateSettings,
		id: string | undefined,
	): void {
		const { scopes } = gate.document;
		const state = decision.state;
		gate.due.set(scope, state && nextDueAt(state, settings));
		if (!decision.changed) return;
		const previous = scopes[scope];
		if (state) scopes[scope] = state;
		else delete scopes[scope];
		if (id !== undefined) {
			if (state && isOpen(state.incidents[id])) gate.owners.set(id, scope);
			else if (gate.owners.get(id) === scope) gate.owners.delete(id);
		}
		for (const expired of decision.expiredIncidentIds ?? [])
			if (gate.owners.get(expired) === scope) gate.owners.delete(expired);
		if (!state && previous)
			for (const incident in previous.incidents)
				if (gate.owners.get(incident) === scope) gate.owners.delete(incident);
		gate.document.clock = now;
		// Hand n8n the live copy only when something changed: assigning marks static data as changed,
		// and n8n then saves the whole of it when the execution ends, including decisions of executions
		// that ended earlier.
		this.staticData[this.field] = gate.document as unknown as IDataObject;
	}

	private live(settings?: GateSettings): LiveGate {
		let gate = liveGates.get(this.copyKey);
		if (!gate) {
			// First use in this process (e.g. after a restart): start from what n8n persisted.
			const document = loadDocument(this.staticData[this.field]);
			gate = {
				document,
				owners: new Map(),
				due: new DueIndex(),
				offset: Math.max(0, document.clock - this.clock()),
				settingsKey: '',
			};
			for (const [scope, state] of Object.entries(document.scopes))
				for (const id in state.incidents)
					if (isOpen(state.incidents[id])) gate.owners.set(id, scope);
			liveGates.set(this.copyKey, gate);
		}
		const settingsKey = settings ? JSON.stringify(settings) : gate.settingsKey;
		if (settings && settingsKey !== gate.settingsKey) {
			// Due times depend on the settings (e.g. Max Incident Age changed in the node): compute them
			// again.
			gate.settingsKey = settingsKey;
			gate.due = new DueIndex();
			for (const [scope, state] of Object.entries(gate.document.scopes))
				gate.due.set(scope, nextDueAt(state, settings));
		}
		return gate;
	}
}

function loadDocument(persisted: unknown): GateDocument {
	// Detach from n8n's observable proxy; null prototype so any scope name (even "__proto__") is a
	// plain key.
	const scopes = Object.create(null) as Record<string, ScopeState>;
	const saved = persisted as Partial<GateDocument> | undefined;
	if (saved?.scopes && typeof saved.scopes === 'object') {
		const copy = JSON.parse(JSON.stringify(saved.scopes)) as Record<string, unknown>;
		for (const [scope, state] of Object.entries(copy))
			scopes[scope] = saved.v === 2 ? hydrate(state as ScopeState) : fromVersion1(state);
	}
	return { v: 2, clock: typeof saved?.clock === 'number' ? saved.clock : 0, scopes };
}

interface Version1Scope {
	status: ScopeState['status'];
	activatedAt?: number;
	withdrawDueAt?: number;
	open?: Array<{ id: string; openedAt: number; lastSeen: number; title?: string }>;
	recentResolves?: Array<{ id: string; at: number }>;
}

/**
 * The first release kept arrays of open incidents and resolves; an upgrade keeps what they said.
 */
function fromVersion1(saved: unknown): ScopeState {
	const old = saved as Version1Scope;
	const state = hydrate({ status: old.status, incidents: {}, open: 0, remembered: 0, overflow: 0 });
	if (old.activatedAt !== undefined) state.activatedAt = old.activatedAt;
	if (old.withdrawDueAt !== undefined) state.withdrawDueAt = old.withdrawDueAt;
	for (const resolved of old.recentResolves ?? []) {
		state.incidents[resolved.id] = { r: resolved.at, s: resolved.at };
		state.remembered++;
	}
	for (const incident of old.open ?? []) {
		if (state.incidents[incident.id]) state.remembered--;
		const record = { o: incident.openedAt, s: incident.lastSeen };
		state.incidents[incident.id] = incident.title ? { ...record, t: incident.title } : record;
		state.open++;
	}
	state.checkAt = 0;
	return state;
}
