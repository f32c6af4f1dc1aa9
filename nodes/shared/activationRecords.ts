import type { IDataObject, IExecuteFunctions } from 'n8n-workflow';

import { processMemory } from './processMemory';

/**
 * What an activation changed, kept so that a later withdraw restores exactly that.
 *
 * Providers that can hold this themselves (a lockdown object, a tag) keep it there; this store is
 * the copy for everything else. It keeps two copies:
 * - the primary: a process-wide map of serialised records, changed one key at a time, so that
 *   overlapping executions, another workflow and a manual run in the editor (where n8n saves no
 *   static data) all see exactly the last write of each key;
 * - the extra copy: the workflow's global static data, which n8n saves whole at the end of
 *   production executions, so that a withdraw after a restart finds the record. An overlapping
 *   execution of the same workflow can overwrite it with an older document, which is why it is
 *   never the only copy while the process lives.
 * A withdraw leaves a tombstone in the process map, so that an older static-data copy is not
 * mistaken for a live activation.
 */
export interface ActivationRecord extends IDataObject {
	recordedAt: string;
}

const STATIC_DATA_KEY = 'ddosMitigationActivations';

const processRecords = processMemory.activationRecords;

export class ActivationRecords {
	constructor(private readonly ctx: IExecuteFunctions) {}

	get<T extends ActivationRecord>(key: string): T | undefined {
		if (processRecords.has(key)) {
			const kept = processRecords.get(key);
			return kept ? (JSON.parse(kept) as T) : undefined;
		}
		const persisted = this.persisted()[key];
		// A JSON copy, not structuredClone: n8n hands out static data behind a change-tracking Proxy,
		// which structuredClone refuses.
		return persisted ? (JSON.parse(JSON.stringify(persisted)) as T) : undefined;
	}

	set<T extends IDataObject>(key: string, data: T): T & ActivationRecord {
		const record = { ...data, recordedAt: new Date().toISOString() } as T & ActivationRecord;
		const serialised = JSON.stringify(record);
		processRecords.set(key, serialised);
		this.persisted()[key] = JSON.parse(serialised) as IDataObject;
		return record;
	}

	delete(key: string): void {
		processRecords.set(key, null);
		delete this.persisted()[key];
	}

	private persisted(): IDataObject {
		const staticData = this.ctx.getWorkflowStaticData('global');
		if (typeof staticData[STATIC_DATA_KEY] !== 'object' || staticData[STATIC_DATA_KEY] === null) {
			staticData[STATIC_DATA_KEY] = {};
		}
		return staticData[STATIC_DATA_KEY] as IDataObject;
	}
}
