import type { IDataObject } from 'n8n-workflow';

import type { ScopeState } from '../stateMachine';
import type { GateStore, ScopeDecider } from './gateStore';

interface GateDocument {
	scopes: Record<string, ScopeState>;
}

/**
 * One copy of each gate's state per n8n process, shared by every execution of the workflow in it. n8n gives each
 * execution its own snapshot of static data and saves it when the execution ends, so overlapping executions that
 * decided on their snapshots would lose each other's updates. Deciding on this copy instead, synchronously, makes
 * every decision see all earlier ones (JavaScript runs one execution's synchronous code at a time).
 */
const processCopies = new Map<string, GateDocument>();

export const staticDataField = (gateKey: string) => `incidentGate:${gateKey}`;

export class StaticDataStore implements GateStore {
	private readonly copyKey: string;
	private readonly field: string;

	constructor(
		private readonly staticData: IDataObject,
		workflowId: string,
		gateKey: string,
		private readonly clock: () => number = Date.now,
		readonly warning?: string,
	) {
		this.copyKey = JSON.stringify([workflowId, gateKey]);
		this.field = staticDataField(gateKey);
	}

	async update<T>(scope: string, decider: ScopeDecider<T>): Promise<T> {
		// No await from here to the write: this is the critical section.
		const document = this.document();
		const { state, result } = decider(document.scopes[scope], this.clock());
		if (state) document.scopes[scope] = state;
		else delete document.scopes[scope];
		return result;
	}

	async read(scope: string): Promise<ScopeState | undefined> {
		return this.document().scopes[scope];
	}

	async scopes(): Promise<string[]> {
		return Object.keys(this.document().scopes);
	}

	private document(): GateDocument {
		let document = processCopies.get(this.copyKey);
		if (!document) {
			// First use in this process (e.g. after a restart): start from what n8n persisted.
			document = loadDocument(this.staticData[this.field]);
			processCopies.set(this.copyKey, document);
		}
		// Hand n8n the live process copy, not a snapshot: when this execution ends n8n saves the state as it is then,
		// including decisions of executions that ended earlier, so the last save never rolls state back.
		this.staticData[this.field] = document as unknown as IDataObject;
		return document;
	}
}

function loadDocument(persisted: unknown): GateDocument {
	// Detach from n8n's observable proxy; null prototype so any scope name (even "__proto__") is a plain key.
	const scopes = Object.create(null) as Record<string, ScopeState>;
	const saved = (persisted as Partial<GateDocument> | undefined)?.scopes;
	if (saved && typeof saved === 'object') Object.assign(scopes, JSON.parse(JSON.stringify(saved)));
	return { scopes };
}

/** Forgets every process copy: what a restart of n8n does. For tests. */
export function forgetProcessCopies(): void {
	processCopies.clear();
}
