import fc from 'fast-check';

import {
	DEFAULT_SETTINGS,
	decide,
	isMitigating,
	type Decision,
	type GateEvent,
	type GateSettings,
	type ScopeState,
} from '../../../nodes/IncidentGate/stateMachine';

const MINUTE = 60_000;
const settings = (overrides: Partial<GateSettings> = {}): GateSettings => ({
	...DEFAULT_SETTINGS,
	...overrides,
});
const open = (incidentId: string, title?: string): GateEvent => ({
	type: 'open',
	incidentId,
	title,
});
const resolve = (incidentId: string): GateEvent => ({ type: 'resolve', incidentId });
const update = (incidentId: string): GateEvent => ({ type: 'update', incidentId });
const tick: GateEvent = { type: 'tick' };

/** Feeds events at the given times (ms) and returns every decision. */
function run(
	events: Array<[number, GateEvent]>,
	gateSettings = settings(),
	initial?: ScopeState,
): Decision[] {
	let state = initial;
	return events.map(([now, event]) => {
		const decision = decide(state, event, now, gateSettings);
		state = decision.state;
		return decision;
	});
}

const summary = (decisions: Decision[]) => decisions.map((d) => `${d.transition}:${d.reason}`);
const lastState = (decisions: Decision[]) => decisions[decisions.length - 1].state;
const openIds = (state: ScopeState | undefined) =>
	(state?.open ?? []).map((incident) => incident.id);

describe('open', () => {
	it('activates an idle scope on its first incident', () => {
		const [decision] = run([[1000, open('a', 'SYN flood')]]);
		expect(decision).toMatchObject({ transition: 'activate', reason: 'activated' });
		expect(decision.state).toEqual({
			status: 'active',
			activatedAt: 1000,
			open: [{ id: 'a', openedAt: 1000, lastSeen: 1000, title: 'SYN flood' }],
			recentResolves: [],
		});
	});

	it('leaves an active scope unchanged on further incidents', () => {
		const decisions = run([
			[0, open('a')],
			[1, open('b')],
		]);
		expect(summary(decisions)).toEqual(['activate:activated', 'none:incidentOpened']);
		expect(openIds(lastState(decisions))).toEqual(['a', 'b']);
	});

	it('treats a retried open as a refresh of the same incident', () => {
		const decisions = run([
			[0, open('a')],
			[5000, open('a', 'still attacking')],
		]);
		expect(summary(decisions)).toEqual(['activate:activated', 'none:duplicateOpen']);
		expect(lastState(decisions)?.open).toEqual([
			{ id: 'a', openedAt: 0, lastSeen: 5000, title: 'still attacking' },
		]);
	});

	it('refuses incidents beyond the cap, keeping mitigation on', () => {
		const decisions = run(
			[
				[0, open('a')],
				[1, open('b')],
				[2, open('c')],
			],
			settings({ maxOpenIncidents: 2 }),
		);
		expect(summary(decisions)[2]).toBe('none:openIncidentLimitReached');
		expect(openIds(lastState(decisions))).toEqual(['a', 'b']);
	});
});

describe('update', () => {
	it('refreshes the last-seen time of an open incident', () => {
		const decisions = run([
			[0, open('a')],
			[7000, update('a')],
		]);
		expect(summary(decisions)[1]).toBe('none:incidentUpdated');
		expect(lastState(decisions)?.open[0].lastSeen).toBe(7000);
	});

	it('does not open an incident it never saw', () => {
		const [decision] = run([[0, update('a')]]);
		expect(decision).toMatchObject({
			transition: 'none',
			reason: 'unknownIncident',
			state: undefined,
		});
	});
});

describe('resolve', () => {
	it('withdraws when the last open incident resolves, without hold-down', () => {
		const decisions = run([
			[0, open('a')],
			[1, open('b')],
			[2, resolve('a')],
			[3, resolve('b')],
		]);
		expect(summary(decisions)).toEqual([
			'activate:activated',
			'none:incidentOpened',
			'none:incidentResolved',
			'withdraw:allIncidentsResolved',
		]);
		expect(lastState(decisions)?.status).toBe('idle');
	});

	it('answers a resolve of an unknown incident with Unchanged and the reason', () => {
		const decisions = run([
			[0, open('a')],
			[1, resolve('zzz')],
		]);
		expect(decisions[1]).toMatchObject({ transition: 'none', reason: 'unknownIncident' });
		expect(openIds(decisions[1].state)).toEqual(['a']);
	});

	it('ignores an open that arrives after its own resolve (out-of-order delivery)', () => {
		const decisions = run([
			[0, resolve('a')],
			[2000, open('a')],
		]);
		expect(summary(decisions)).toEqual(['none:unknownIncident', 'none:resolvedBeforeOpen']);
		expect(isMitigating(lastState(decisions))).toBe(false);
	});

	it('forgets resolves after the resolve memory, so a later open of a reused id activates again', () => {
		const decisions = run(
			[
				[0, resolve('a')],
				[5 * MINUTE, open('a')],
			],
			settings({ resolveMemoryMs: 5 * MINUTE }),
		);
		expect(summary(decisions)[1]).toBe('activate:activated');
	});

	it('remembers at most the configured number of resolves', () => {
		const events: Array<[number, GateEvent]> = ['a', 'b', 'c', 'd'].map((id, i) => [
			i,
			resolve(id),
		]);
		const decisions = run(events, settings({ maxRememberedResolves: 2 }));
		expect(lastState(decisions)?.recentResolves.map((r) => r.id)).toEqual(['c', 'd']);
	});
});

describe('hold-down', () => {
	it('keeps mitigation on for the minimum active time, then tick withdraws', () => {
		const decisions = run(
			[
				[0, open('a')],
				[1 * MINUTE, resolve('a')],
				[4 * MINUTE, tick],
				[5 * MINUTE, tick],
			],
			settings({ minActiveMs: 5 * MINUTE }),
		);
		expect(summary(decisions)).toEqual([
			'activate:activated',
			'none:withdrawScheduled',
			'none:nothingDue',
			'withdraw:withdrawDue',
		]);
		expect(decisions[1].state).toMatchObject({
			status: 'withdrawPending',
			withdrawDueAt: 5 * MINUTE,
		});
	});

	it('waits the withdraw delay after the last resolve', () => {
		const decisions = run(
			[
				[0, open('a')],
				[10 * MINUTE, resolve('a')],
			],
			settings({ withdrawDelayMs: 3 * MINUTE }),
		);
		expect(decisions[1].state).toMatchObject({
			status: 'withdrawPending',
			withdrawDueAt: 13 * MINUTE,
		});
	});

	it('withdraws at once when the minimum active time has already passed', () => {
		const decisions = run(
			[
				[0, open('a')],
				[10 * MINUTE, resolve('a')],
			],
			settings({ minActiveMs: 5 * MINUTE }),
		);
		expect(summary(decisions)[1]).toBe('withdraw:allIncidentsResolved');
	});

	it('cancels a pending withdraw when a new incident opens, emitting nothing twice', () => {
		const decisions = run(
			[
				[0, open('a')],
				[1, resolve('a')],
				[2, open('b')],
				[10 * MINUTE, tick],
			],
			settings({ withdrawDelayMs: MINUTE }),
		);
		expect(summary(decisions)).toEqual([
			'activate:activated',
			'none:withdrawScheduled',
			'none:withdrawCancelled',
			'none:nothingDue',
		]);
		expect(lastState(decisions)).toMatchObject({ status: 'active', activatedAt: 0 });
		expect(lastState(decisions)?.withdrawDueAt).toBeUndefined();
	});
});

describe('tick expiry', () => {
	it('expires incidents not seen for the maximum age and withdraws when none is left', () => {
		const decisions = run(
			[
				[0, open('a')],
				[0, open('b')],
				[50 * MINUTE, update('b')],
				[60 * MINUTE, tick],
				[110 * MINUTE, tick],
			],
			settings({ maxIncidentAgeMs: 60 * MINUTE }),
		);
		expect(decisions[3]).toMatchObject({
			transition: 'none',
			reason: 'incidentsExpired',
			expiredIncidentIds: ['a'],
		});
		expect(decisions[4]).toMatchObject({
			transition: 'withdraw',
			reason: 'incidentsExpired',
			expiredIncidentIds: ['b'],
		});
	});

	it('schedules the withdraw of expired incidents behind the hold-down', () => {
		const decisions = run(
			[
				[0, open('a')],
				[60 * MINUTE, tick],
				[61 * MINUTE, tick],
			],
			settings({ maxIncidentAgeMs: 60 * MINUTE, withdrawDelayMs: MINUTE }),
		);
		expect(summary(decisions)).toEqual([
			'activate:activated',
			'none:withdrawScheduled',
			'withdraw:withdrawDue',
		]);
	});

	it('never expires incidents when the maximum age is 0', () => {
		const decisions = run(
			[
				[0, open('a')],
				[365 * 24 * 60 * MINUTE, tick],
			],
			settings({ maxIncidentAgeMs: 0 }),
		);
		expect(summary(decisions)[1]).toBe('none:nothingDue');
	});
});

describe('manual operations', () => {
	it('hold on an idle scope activates mitigation', () => {
		const [decision] = run([[0, { type: 'hold' }]]);
		expect(decision).toMatchObject({
			transition: 'activate',
			reason: 'held',
			state: { status: 'held', activatedAt: 0 },
		});
	});

	it('a held scope is never withdrawn automatically, and release withdraws when nothing is open', () => {
		const decisions = run(
			[
				[0, open('a')],
				[1, { type: 'hold' }],
				[2, resolve('a')],
				[3, tick],
				[4, { type: 'release' }],
			],
			settings({ maxIncidentAgeMs: 1 }),
		);
		expect(summary(decisions)).toEqual([
			'activate:activated',
			'none:held',
			'none:keptByHold',
			'none:nothingDue',
			'withdraw:released',
		]);
	});

	it('hold cancels a pending withdraw; release with incidents open goes back to active', () => {
		const decisions = run(
			[
				[0, open('a')],
				[1, resolve('a')],
				[2, { type: 'hold' }],
				[3, open('b')],
				[4, { type: 'release' }],
				[5, { type: 'release' }],
			],
			settings({ withdrawDelayMs: MINUTE }),
		);
		expect(summary(decisions)).toEqual([
			'activate:activated',
			'none:withdrawScheduled',
			'none:held',
			'none:incidentOpened',
			'none:released',
			'none:notHeld',
		]);
		expect(lastState(decisions)?.status).toBe('active');
	});

	it('release respects the hold-down', () => {
		const decisions = run(
			[
				[0, { type: 'hold' }],
				[1, { type: 'release' }],
			],
			settings({ minActiveMs: MINUTE }),
		);
		expect(decisions[1].state).toMatchObject({ status: 'withdrawPending', withdrawDueAt: MINUTE });
	});

	it('reset forgets the scope and withdraws mitigation that was on', () => {
		const decisions = run([
			[0, open('a')],
			[1, { type: 'reset' }],
			[2, { type: 'reset' }],
		]);
		expect(summary(decisions)).toEqual(['activate:activated', 'withdraw:reset', 'none:reset']);
		expect(lastState(decisions)).toBeUndefined();
	});
});

describe('properties over random event sequences', () => {
	const ids = ['a', 'b', 'c', 'd', 'e'];
	const eventArb: fc.Arbitrary<GateEvent> = fc.oneof(
		{ weight: 5, arbitrary: fc.constantFrom(...ids).map((id) => open(id)) },
		{ weight: 5, arbitrary: fc.constantFrom(...ids).map((id) => resolve(id)) },
		{ weight: 2, arbitrary: fc.constantFrom(...ids).map((id) => update(id)) },
		{ weight: 3, arbitrary: fc.constant(tick) },
		{
			weight: 1,
			arbitrary: fc.constantFrom<GateEvent>(
				{ type: 'hold' },
				{ type: 'release' },
				{ type: 'reset' },
			),
		},
	);
	// Each step: a time advance (0 = same millisecond, e.g. duplicates delivered together) and an event.
	const stepsArb = fc.array(fc.tuple(fc.nat({ max: 10 * MINUTE }), eventArb), { maxLength: 120 });
	const settingsArb: fc.Arbitrary<GateSettings> = fc.record({
		minActiveMs: fc.constantFrom(0, MINUTE, 5 * MINUTE),
		withdrawDelayMs: fc.constantFrom(0, 2 * MINUTE),
		maxIncidentAgeMs: fc.constantFrom(0, 15 * MINUTE),
		resolveMemoryMs: fc.constantFrom(0, 5 * MINUTE),
		maxOpenIncidents: fc.constantFrom(2, 1000),
		maxRememberedResolves: fc.constantFrom(0, 3, 1000),
	});

	it('activates only from zero open, withdraws only at zero open and never while held, and never double-fires', () => {
		fc.assert(
			fc.property(stepsArb, settingsArb, (steps, gateSettings) => {
				let state: ScopeState | undefined;
				let now = 0;
				let mitigationOn = 0; // activations minus withdrawals
				for (const [advance, event] of steps) {
					now += advance;
					const before = state;
					const decision = decide(before, event, now, gateSettings);
					state = decision.state;
					if (decision.transition === 'activate') {
						expect(before?.open.length ?? 0).toBe(0);
						expect(isMitigating(before)).toBe(false);
						mitigationOn += 1;
					}
					if (decision.transition === 'withdraw') {
						expect(state?.open.length ?? 0).toBe(0);
						if (event.type !== 'reset' && event.type !== 'release')
							expect(before?.status).not.toBe('held');
						mitigationOn -= 1;
					}
					expect([0, 1]).toContain(mitigationOn);
					expect(isMitigating(state)).toBe(mitigationOn === 1);
					expect(state?.open.length ?? 0).toBeLessThanOrEqual(gateSettings.maxOpenIncidents);
					expect(state?.recentResolves.length ?? 0).toBeLessThanOrEqual(
						gateSettings.maxRememberedResolves,
					);
				}
			}),
			{ numRuns: 500 },
		);
	});

	it('never leaves mitigation on once every incident has resolved and the hold-down has passed (unless held)', () => {
		fc.assert(
			fc.property(stepsArb, settingsArb, (steps, gateSettings) => {
				let state: ScopeState | undefined;
				let now = 0;
				for (const [advance, event] of steps) {
					now += advance;
					state = decide(state, event, now, gateSettings).state;
				}
				for (const incident of state?.open ?? [])
					state = decide(state, resolve(incident.id), now, gateSettings).state;
				now += gateSettings.minActiveMs + gateSettings.withdrawDelayMs;
				state = decide(state, tick, now, gateSettings).state;
				expect(isMitigating(state)).toBe(state?.status === 'held');
			}),
			{ numRuns: 500 },
		);
	});
});
