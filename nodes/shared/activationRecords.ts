import type { IDataObject, IExecuteFunctions } from 'n8n-workflow';

/**
 * What an activation changed, kept so that a later withdraw restores exactly that.
 *
 * Providers that can hold this themselves (a lockdown object, a tag) keep it there; this store is the copy for
 * everything else. It writes to two places:
 * - the workflow's global static data, which n8n persists at the end of production and CLI executions, so that a
 *   withdraw in a later execution of the same workflow finds it, even after a restart;
 * - a process-wide map, so that a manual run in the editor (where n8n saves no static data) or another workflow in
 *   the same n8n process finds it too.
 * Reads take the newest of the two; a withdraw in this process leaves a tombstone so that an older copy in some
 * workflow's static data is not mistaken for a live activation.
 */
export interface ActivationRecord extends IDataObject {
	recordedAt: string;
}

const STATIC_DATA_KEY = 'ddosMitigationActivations';
const processRecords = new Map<string, ActivationRecord>();
const deletedInProcess = new Map<string, string>();

export class ActivationRecords {
	constructor(private readonly ctx: IExecuteFunctions) {}

	get<T extends ActivationRecord>(key: string): T | undefined {
		const persisted = this.persisted()[key] as T | undefined;
		const inProcess = processRecords.get(key) as T | undefined;
		const deletedAt = deletedInProcess.get(key);
		if (deletedAt !== undefined)
			return persisted && persisted.recordedAt > deletedAt ? persisted : undefined;
		if (!persisted) return inProcess;
		if (!inProcess) return persisted;
		return persisted.recordedAt >= inProcess.recordedAt ? persisted : inProcess;
	}

	set<T extends IDataObject>(key: string, data: T): T & ActivationRecord {
		const record = { ...data, recordedAt: new Date().toISOString() } as T & ActivationRecord;
		this.persisted()[key] = record;
		processRecords.set(key, record);
		deletedInProcess.delete(key);
		return record;
	}

	delete(key: string): void {
		delete this.persisted()[key];
		processRecords.delete(key);
		deletedInProcess.set(key, new Date().toISOString());
	}

	private persisted(): IDataObject {
		const staticData = this.ctx.getWorkflowStaticData('global');
		if (typeof staticData[STATIC_DATA_KEY] !== 'object' || staticData[STATIC_DATA_KEY] === null) {
			staticData[STATIC_DATA_KEY] = {};
		}
		return staticData[STATIC_DATA_KEY] as IDataObject;
	}
}

/** Forgets the process-wide copies, as an n8n restart does. */
export function forgetProcessRecords(): void {
	processRecords.clear();
	deletedInProcess.clear();
}
