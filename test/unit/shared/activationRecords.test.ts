import type { IDataObject, IExecuteFunctions } from 'n8n-workflow';
import { ObservableObject } from 'n8n-workflow';

import type { ActivationRecords as Records } from '../../../nodes/shared/activationRecords';

/** The store as loaded by a fresh n8n process. */
function freshProcess(): typeof Records {
	let store: typeof Records | undefined;
	jest.isolateModules(() => {
		type Module = typeof import('../../../nodes/shared/activationRecords');
		// eslint-disable-next-line @typescript-eslint/no-require-imports -- a fresh registry per restart
		const module = require('../../../nodes/shared/activationRecords') as Module;
		store = module.ActivationRecords;
	});
	return store!;
}

/** One execution: n8n hands it a copy of the workflow's static data and saves that copy whole at the end. */
const execution = (ActivationRecords: typeof Records, staticData: IDataObject) =>
	new ActivationRecords({
		getWorkflowStaticData: () => staticData,
	} as unknown as IExecuteFunctions);

/** The static data an activation left behind, as n8n saves it. */
function recordedStaticData(): IDataObject {
	const saved: IDataObject = {};
	execution(freshProcess(), saved).set('zone', { previousLevel: 'high' });
	return saved;
}

describe('activation records', () => {
	it('an overlapping execution whose static data never saw the record still finds it in the process', () => {
		const ActivationRecords = freshProcess();
		const saved: IDataObject = {};
		const overlapping = structuredClone(saved);
		execution(ActivationRecords, saved).set('zone', { previousLevel: 'high' });
		expect(execution(ActivationRecords, overlapping).get('zone')).toMatchObject({
			previousLevel: 'high',
		});
	});

	it('a withdrawn record stays withdrawn though an older static-data document still holds it', () => {
		const ActivationRecords = freshProcess();
		const saved: IDataObject = {};
		execution(ActivationRecords, saved).set('zone', { previousLevel: 'high' });
		const older = structuredClone(saved);
		execution(ActivationRecords, saved).delete('zone');
		expect(execution(ActivationRecords, older).get('zone')).toBeUndefined();
	});

	it('after a restart, the static data copy is what is left', () => {
		const saved: IDataObject = {};
		execution(freshProcess(), saved).set('zone', { previousLevel: 'high' });
		expect(execution(freshProcess(), saved).get('zone')).toMatchObject({ previousLevel: 'high' });
		expect(execution(freshProcess(), {}).get('zone')).toBeUndefined();
	});

	it("after a restart, reads the record through n8n's change-tracking static data", () => {
		const saved = JSON.parse(JSON.stringify(recordedStaticData())) as IDataObject;
		// n8n hands executions their static data wrapped in an ObservableObject (a Proxy).
		const asN8nHandsIt = ObservableObject.create(saved);
		expect(execution(freshProcess(), asN8nHandsIt).get('zone')).toMatchObject({
			previousLevel: 'high',
		});
	});

	it('hands out copies: changing what get returned changes nothing stored', () => {
		const ActivationRecords = freshProcess();
		const records = execution(ActivationRecords, {});
		records.set('zone', { previousLevel: 'high' });
		records.get<{ previousLevel: string; recordedAt: string }>('zone')!.previousLevel = 'off';
		expect(execution(ActivationRecords, {}).get('zone')).toMatchObject({ previousLevel: 'high' });
	});
});
