import type { IDataObject } from 'n8n-workflow';

import { DEFAULT_SETTINGS } from '../../../nodes/IncidentGate/stateMachine';
import {
	StaticDataStore,
	staticDataField,
} from '../../../nodes/IncidentGate/store/staticDataStore';

const settings = { ...DEFAULT_SETTINGS, withdrawDelayMs: 60_000 };
let gateCounter = 0;

function storeAt(clock: { now: number }, staticData: IDataObject = {}) {
	const gateKey = `store-${++gateCounter}`;
	return new StaticDataStore(staticData, 'workflow', gateKey, () => clock.now);
}

describe('static-data store', () => {
	it('ticks only the scopes with something due, however many scopes there are', async () => {
		const clock = { now: 1_000_000 };
		const store = storeAt(clock);
		for (let index = 0; index < 2000; index++) {
			const scope = `scope-${index}`;
			await store.apply(scope, { type: 'open', incidentId: `i${index}`, at: 0 }, settings);
			await store.apply(scope, { type: 'confirm', active: true }, settings);
		}
		await store.apply('scope-7', { type: 'resolve', incidentId: 'i7', at: 1 }, settings);
		clock.now += 30_000;
		expect(await store.tick(settings)).toEqual([]);
		clock.now += 30_000;
		const applied = await store.tick(settings);
		expect(applied.map(({ scope, decision }) => [scope, decision.transition])).toEqual([
			['scope-7', 'withdraw'],
		]);
	});

	it('routes an event about an open incident to the scope it was opened in', async () => {
		const store = storeAt({ now: 0 });
		await store.apply('edge', { type: 'open', incidentId: 'x', at: 0 }, settings);
		const applied = await store.apply('core', { type: 'update', incidentId: 'x', at: 1 }, settings);
		expect(applied).toMatchObject({ scope: 'edge', decision: { reason: 'incidentUpdated' } });
	});

	it('continues from state saved by the first release', async () => {
		const staticData: IDataObject = {};
		const store = storeAt({ now: 10_000 }, staticData);
		staticData[staticDataField(`store-${gateCounter}`)] = {
			scopes: {
				edge: {
					status: 'active',
					activatedAt: 0,
					open: [{ id: 'a', openedAt: 0, lastSeen: 0 }],
					recentResolves: [{ id: 'b', at: 5 }],
				},
			},
		};
		expect(
			await store.apply('edge', { type: 'open', incidentId: 'b', at: 4 }, settings),
		).toMatchObject({ decision: { reason: 'resolvedBeforeOpen' } });
		expect(
			await store.apply('edge', { type: 'resolve', incidentId: 'a', at: 6 }, settings),
		).toMatchObject({ decision: { reason: 'withdrawScheduled' } });
	});
});
