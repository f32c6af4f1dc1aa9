import fc from 'fast-check';

import {
	DEFAULT_SETTINGS,
	decide,
	hydrate,
	isMitigating,
	isOpen,
	type Decision,
	type GateEvent,
	type GateSettings,
	type ScopeState,
} from '../../../nodes/IncidentGate/stateMachine';

const SECOND = 1000;
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const settings = (overrides: Partial<GateSettings> = {}): GateSettings => ({
	...DEFAULT_SETTINGS,
	...overrides,
});

/** Events without an explicit event time happen when they are received (the step's time). */
type Step = [number, GateEvent | ((now: number) => GateEvent)];
const open =
	(incidentId: string, at?: number, title?: string) =>
	(now: number): GateEvent => ({ type: 'open', incidentId, at: at ?? now, title });
const resolve =
	(incidentId: string, at?: number) =>
	(now: number): GateEvent => ({ type: 'resolve', incidentId, at: at ?? now });
const update =
	(incidentId: string) =>
	(now: number): GateEvent => ({ type: 'update', incidentId, at: now });
const tick: GateEvent = { type: 'tick' };
const confirm = (active: boolean): GateEvent => ({ type: 'confirm', active });

const clone = (state: ScopeState | undefined) =>
	state && hydrate(JSON.parse(JSON.stringify(state)) as ScopeState);

/**
 * Feeds events at the given gate times (ms) and returns every decision, each with a snapshot of its
 * state.
 */
function run(steps: Step[], gateSettings = settings(), initial?: ScopeState): Decision[] {
	let state = initial;
	return steps.map(([now, step]) => {
		const event = typeof step === 'function' ? step(now) : step;
		const decision = decide(state, event, now, gateSettings);
		state = decision.state;
		return { ...decision, state: clone(decision.state) };
	});
}

const summary = (decisions: Decision[]) => decisions.map((d) => `${d.transition}:${d.reason}`);
const transitions = (decisions: Decision[]) => decisions.map((d) => d.transition);
const lastState = (decisions: Decision[]) => decisions[decisions.length - 1].state;
const openIds = (state: ScopeState | undefined) =>
	Object.keys(state?.incidents ?? {}).filter((id) => isOpen(state?.incidents[id]));

describe('open', () => {
	it('activates an idle scope on its first incident', () => {
		const [decision] = run([[1000, open('a', 900, 'SYN flood')]]);
		expect(decision).toMatchObject({ transition: 'activate', reason: 'activated' });
		expect(decision.state).toMatchObject({
			status: 'active',
			activatedAt: 1000,
			open: 1,
			incidents: { a: { o: 900, s: 1000, t: 'SYN flood' } },
		});
	});

	it('leaves an active scope unchanged on further incidents and on a retried open', () => {
		const decisions = run([
			[0, open('a')],
			[1, open('b')],
			[5000, open('a', 0, 'still attacking')],
		]);
		expect(summary(decisions)).toEqual([
			'activate:activated',
			'none:incidentOpened',
			'none:duplicateOpen',
		]);
		expect(openIds(lastState(decisions))).toEqual(['a', 'b']);
		expect(lastState(decisions)?.incidents.a).toEqual({ o: 0, s: 5000, t: 'still attacking' });
	});
});

describe('ordering by event time', () => {
	it('treats open, resolve, open of one id as two waves (PagerDuty reopened, Alertmanager)', () => {
		const decisions = run([
			[0, open('c')],
			[1, resolve('c')],
			[2, open('c')],
		]);
		expect(transitions(decisions)).toEqual(['activate', 'withdraw', 'activate']);
	});

	it(
		'a second wave within the old resolve memory still activates, and a hold-down does not end ' +
			'it',
		() => {
			const decisions = run(
				[
					[0, open('c')],
					[1, confirm(true)],
					[1 * MINUTE, resolve('c')],
					[2 * MINUTE, open('c')],
					[10 * MINUTE, tick],
				],
				settings({ withdrawDelayMs: 30 * SECOND }),
			);
			expect(summary(decisions)).toEqual([
				'activate:activated',
				'none:confirmed',
				'none:withdrawScheduled',
				'none:withdrawCancelled',
				'none:nothingDue',
			]);
			expect(lastState(decisions)?.status).toBe('active');
		},
	);

	it('ignores an open that happened before its resolve, whenever it is delivered', () => {
		const decisions = run([
			[0, resolve('a', 50)],
			[10, open('a', 40)],
			[20, open('a', 50)],
		]);
		expect(summary(decisions)).toEqual([
			'none:unknownIncident',
			'none:resolvedBeforeOpen',
			'none:resolvedBeforeOpen',
		]);
		expect(isMitigating(lastState(decisions))).toBe(false);
	});

	it('ignores the resolve of an earlier wave delivered after the next wave opened', () => {
		const decisions = run([
			[0, open('a', 300)],
			[10, resolve('a', 200)],
		]);
		expect(summary(decisions)).toEqual(['activate:activated', 'none:staleResolve']);
		expect(openIds(lastState(decisions))).toEqual(['a']);
	});

	it('remembers every resolve for the resolve memory, however many there are', () => {
		const gate = settings({ resolveMemoryMs: HOUR });
		let state: ScopeState | undefined;
		for (let index = 0; index < 5000; index++)
			state = decide(state, resolve(`r${index}`, 0)(index), index, gate).state;
		expect(decide(state, open('r0', 0)(6000), 6000, gate).reason).toBe('resolvedBeforeOpen');
	});

	it('forgets a resolve after the resolve memory (tick), and only then', () => {
		const decisions = run(
			[
				[0, resolve('a', 0)],
				[4 * MINUTE, tick],
				[5 * MINUTE, tick],
			],
			settings({ resolveMemoryMs: 5 * MINUTE }),
		);
		expect(decisions[1].state?.incidents.a).toBeDefined();
		expect(decisions[2].state).toBeUndefined();
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
	});

	it('answers a resolve of an unknown incident with Unchanged and remembers it', () => {
		const [decision] = run([[0, resolve('x')]]);
		expect(decision).toMatchObject({ transition: 'none', reason: 'unknownIncident' });
		expect(decision.state?.incidents.x).toEqual({ r: 0, s: 0 });
	});

	it('keeps any incident id as a plain key', () => {
		const decisions = run([
			[0, open('__proto__')],
			[1, open('constructor')],
			[2, resolve('__proto__')],
			[3, resolve('constructor')],
		]);
		expect(transitions(decisions)).toEqual(['activate', 'none', 'none', 'withdraw']);
	});
});

describe('the per-scope cap', () => {
	it(
		'keeps mitigation on for incidents beyond the cap, counts them, and never withdraws for ' +
			'them',
		() => {
			const decisions = run(
				[
					[0, open('a')],
					[1, open('b')],
					[2, open('c')],
					[3, resolve('a')],
					[4, resolve('b')],
					[5, resolve('c')],
				],
				settings({ maxOpenIncidents: 2 }),
			);
			expect(summary(decisions)).toEqual([
				'activate:activated',
				'none:incidentOpened',
				'none:openIncidentLimitReached',
				'none:incidentResolved',
				'none:incidentResolved',
				'none:unknownIncident',
			]);
			expect(lastState(decisions)).toMatchObject({ status: 'active', open: 0, overflow: 1 });
		},
	);

	it('activates even when the cap is reached by the first incident', () => {
		const [decision] = run([[0, open('a')]], settings({ maxOpenIncidents: 0 }));
		expect(decision).toMatchObject({
			transition: 'activate',
			reason: 'openIncidentLimitReached',
		});
	});

	it('lets the untracked incidents expire after the maximum age, then withdraws', () => {
		const decisions = run(
			[
				[0, open('a')],
				[1, open('b')],
				[2, resolve('a')],
				[HOUR + 1, tick],
			],
			settings({ maxOpenIncidents: 1, maxIncidentAgeMs: HOUR }),
		);
		expect(decisions[3]).toMatchObject({
			transition: 'withdraw',
			reason: 'incidentsExpired',
		});
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
			settings({ minActiveMs: 5 * MINUTE, maxReemits: 0, reemitIntervalMs: HOUR }),
		);
		expect(summary(decisions)).toEqual([
			'activate:activated',
			'none:withdrawScheduled',
			'none:nothingDue',
			'withdraw:withdrawDue',
		]);
		expect(decisions[1].state?.withdrawDueAt).toBe(5 * MINUTE);
	});

	it('cancels a pending withdraw when a new incident opens, emitting nothing twice', () => {
		const decisions = run(
			[
				[0, open('a')],
				[1000, confirm(true)],
				[2000, resolve('a')],
				[3000, open('b')],
				[10 * MINUTE, tick],
			],
			settings({ withdrawDelayMs: MINUTE }),
		);
		expect(summary(decisions)).toEqual([
			'activate:activated',
			'none:confirmed',
			'none:withdrawScheduled',
			'none:withdrawCancelled',
			'none:nothingDue',
		]);
	});
});

describe('tick expiry', () => {
	it('has a finite maximum incident age by default', () => {
		expect(DEFAULT_SETTINGS.maxIncidentAgeMs).toBe(24 * HOUR);
	});

	it('expires incidents not seen for the maximum age and withdraws when none is left', () => {
		const decisions = run(
			[
				[0, open('a')],
				[10 * MINUTE, update('a')],
				[20 * MINUTE, open('b')],
				[26 * MINUTE, tick],
				[36 * MINUTE, tick],
			],
			settings({ maxIncidentAgeMs: 15 * MINUTE, reemitIntervalMs: HOUR }),
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

	it('remembers an expired incident, so its retried open does not activate again', () => {
		const decisions = run(
			[
				[0, open('a', 0)],
				[HOUR, tick],
				[HOUR + 1, open('a', 0)],
			],
			settings({ maxIncidentAgeMs: 30 * MINUTE }),
		);
		expect(summary(decisions)).toEqual([
			'activate:activated',
			'withdraw:incidentsExpired',
			'none:resolvedBeforeOpen',
		]);
	});

	it('scans the records only when something may be due', () => {
		const decisions = run(
			[
				[0, open('a')],
				[MINUTE, tick],
			],
			settings({ maxIncidentAgeMs: HOUR, reemitIntervalMs: HOUR }),
		);
		expect(decisions[1]).toMatchObject({ reason: 'nothingDue', changed: false });
	});
});

describe('re-emit until confirmed', () => {
	const gate = settings({ reemitIntervalMs: MINUTE, maxReemits: 0 });

	it('emits a lost Activate again at the next tick, and again, until confirmed', () => {
		const decisions = run(
			[
				[0, open('a')],
				[MINUTE, tick],
				[2 * MINUTE, tick],
				[2 * MINUTE + 1, confirm(true)],
				[3 * MINUTE, tick],
			],
			gate,
		);
		expect(summary(decisions)).toEqual([
			'activate:activated',
			'activate:reemit',
			'activate:reemit',
			'none:confirmed',
			'none:nothingDue',
		]);
	});

	it('lets a later event of the scope repair it too, but not a storm within the interval', () => {
		const decisions = run(
			[
				[0, open('a')],
				[10 * SECOND, open('b')],
				[20 * SECOND, open('c')],
				[MINUTE, open('d')],
			],
			gate,
		);
		expect(transitions(decisions)).toEqual(['activate', 'none', 'none', 'activate']);
	});

	it('re-emits an unconfirmed Withdraw, then forgets the scope once confirmed', () => {
		const decisions = run(
			[
				[0, open('a')],
				[1, confirm(true)],
				[2, resolve('a')],
				[MINUTE + 2, tick],
				[MINUTE + 3, confirm(false)],
			],
			settings({ ...gate, resolveMemoryMs: 0 }),
		);
		expect(summary(decisions)).toEqual([
			'activate:activated',
			'none:confirmed',
			'withdraw:allIncidentsResolved',
			'withdraw:reemit',
			'none:confirmed',
		]);
		expect(lastState(decisions)).toBeUndefined();
	});

	it('emits again at once when the provider reports the other state or failed', () => {
		const decisions = run(
			[
				[0, open('a')],
				[1, confirm(false)],
				[2, tick],
			],
			gate,
		);
		expect(summary(decisions)).toEqual([
			'activate:activated',
			'none:confirmMismatch',
			'activate:reemit',
		]);
	});

	it('does not withdraw mitigation it never turned on when a provider reports it on', () => {
		const [decision] = run([[0, confirm(true)]], gate);
		expect(decision).toMatchObject({ reason: 'unknownScope', state: undefined });
	});

	it('by default re-emits at most three times, then assumes the transition was done', () => {
		const steps: Step[] = [[0, open('a')]];
		for (let index = 1; index <= 5; index++) steps.push([index * MINUTE, tick]);
		const decisions = run(steps, settings({ reemitIntervalMs: MINUTE }));
		expect(transitions(decisions)).toEqual([
			'activate',
			'activate',
			'activate',
			'activate',
			'none',
			'none',
		]);
	});
});

describe('manual operations', () => {
	it('never withdraws a held scope automatically; release withdraws if none is open', () => {
		const decisions = run([
			[0, open('a')],
			[1, { type: 'hold' }],
			[2, resolve('a')],
			[3, { type: 'release' }],
		]);
		expect(summary(decisions)).toEqual([
			'activate:activated',
			'none:held',
			'none:keptByHold',
			'withdraw:released',
		]);
	});

	it('reset forgets the scope and withdraws mitigation that was on', () => {
		const decisions = run([
			[0, open('a')],
			[1, { type: 'reset' }],
		]);
		expect(decisions[1]).toMatchObject({ transition: 'withdraw', state: undefined });
	});
});

describe('properties over random event sequences', () => {
	const ids = ['a', 'b', 'c', 'd'];
	/** An incident event with its own event time (0..100 s) or none (received now). */
	type RandomStep =
		| { kind: 'open' | 'resolve' | 'update'; id: string; at?: number }
		| { kind: 'tick' }
		| { kind: 'confirm'; active: boolean };
	const incidentArb = fc.record({
		kind: fc.constantFrom<'open' | 'resolve' | 'update'>('open', 'resolve', 'update'),
		id: fc.constantFrom(...ids),
		at: fc.option(fc.nat({ max: 100 * SECOND }), { nil: undefined }),
	});
	const eventArb: fc.Arbitrary<RandomStep> = fc.oneof(
		{ weight: 12, arbitrary: incidentArb },
		{ weight: 3, arbitrary: fc.constant({ kind: 'tick' as const }) },
		{ weight: 2, arbitrary: fc.boolean().map((active) => ({ kind: 'confirm' as const, active })) },
	);
	const stepsArb = fc.array(fc.tuple(fc.nat({ max: 2 * MINUTE }), eventArb), { maxLength: 80 });
	const settingsArb: fc.Arbitrary<GateSettings> = fc.record({
		minActiveMs: fc.constantFrom(0, MINUTE),
		withdrawDelayMs: fc.constantFrom(0, 2 * MINUTE),
		maxIncidentAgeMs: fc.constant(0),
		resolveMemoryMs: fc.constantFrom(0, HOUR),
		maxOpenIncidents: fc.constantFrom(2, 1000),
		reemitIntervalMs: fc.constantFrom(MINUTE, 5 * MINUTE),
		maxReemits: fc.constantFrom(0, 3),
	});

	type Model = Map<string, { opened: number; resolved: number }>;
	/** Unresolved by event time: the latest open happened after the latest resolve. */
	const unresolvedIn = (model: Model) =>
		[...model.values()].filter((times) => times.opened > times.resolved).length;

	function toEvent(step: RandomStep, now: number): GateEvent {
		if (step.kind === 'tick') return tick;
		if (step.kind === 'confirm') return confirm(step.active);
		return { type: step.kind, incidentId: step.id, at: step.at ?? now };
	}

	/** One decision of a random run: the event, whether mitigation was on and what was decided. */
	interface Played {
		event: GateEvent;
		/** Read before deciding: `decide` may update the state it is given in place. */
		wasMitigating: boolean;
		decision: Decision;
		now: number;
		gateSettings: GateSettings;
	}
	/**
	 * Plays random sequences through the gate; `startRun` is called once per sequence and returns
	 * the check for each of its decisions (so that a check can keep its own model of the run).
	 */
	const everyDecision = (numRuns: number, startRun: () => (played: Played) => void) =>
		fc.assert(
			fc.property(stepsArb, settingsArb, (steps, gateSettings) => {
				const check = startRun();
				let state: ScopeState | undefined;
				let now = 200 * SECOND;
				for (const [advance, step] of steps) {
					now += advance;
					const event = toEvent(step, now);
					const wasMitigating = isMitigating(state);
					const decision = decide(state, event, now, gateSettings);
					check({ event, wasMitigating, decision, now, gateSettings });
					state = decision.state;
				}
			}),
			{ numRuns },
		);

	it('never withdraws while an incident opened before (by event time) is unresolved', () => {
		everyDecision(400, () => {
			const model: Model = new Map();
			return ({ event, decision }) => {
				if (event.type === 'open' || event.type === 'resolve') {
					const times = model.get(event.incidentId) ?? { opened: -1, resolved: -1 };
					if (event.type === 'open') times.opened = Math.max(times.opened, event.at);
					else times.resolved = Math.max(times.resolved, event.at);
					model.set(event.incidentId, times);
				}
				if (decision.transition === 'withdraw') expect(unresolvedIn(model)).toBe(0);
				if (unresolvedIn(model) > 0) expect(isMitigating(decision.state)).toBe(true);
			};
		});
	});

	it('emits exactly one Activate per quiet-to-active change (re-emits aside)', () => {
		everyDecision(400, () => ({ wasMitigating: before, decision }) => {
			const after = isMitigating(decision.state);
			if (decision.reason === 'reemit') {
				expect(before).toBe(after);
				expect(decision.transition).toBe(after ? 'activate' : 'withdraw');
			} else {
				expect(decision.transition === 'activate').toBe(!before && after);
				expect(decision.transition === 'withdraw').toBe(before && !after);
			}
		});
	});

	it('re-emits a lost Activate within one tick', () => {
		everyDecision(300, () => ({ decision, now, gateSettings }) => {
			if (decision.transition === 'activate' && decision.reason !== 'reemit') {
				// The provider node after it failed: nobody confirms. The next tick repairs it.
				const repaired = decide(
					clone(decision.state),
					tick,
					now + gateSettings.reemitIntervalMs,
					gateSettings,
				);
				if (isMitigating(repaired.state))
					expect(repaired).toMatchObject({ transition: 'activate', reason: 'reemit' });
			}
		});
	});

	it('ends in the same state whatever the order and duplication of delivery', () => {
		const waveArb = fc.uniqueArray(
			fc.record({
				kind: fc.constantFrom<'open' | 'resolve'>('open', 'resolve'),
				id: fc.constantFrom(...ids),
				at: fc.nat({ max: 100 * SECOND }),
			}),
			{ selector: (event) => event.at, maxLength: 30 },
		);
		fc.assert(
			fc.property(
				waveArb.chain((events) =>
					fc.tuple(
						fc.constant(events),
						fc.shuffledSubarray([...events, ...events], { minLength: events.length * 2 }),
					),
				),
				settingsArb,
				([events, redelivered], gateSettings) => {
					const final = (sequence: typeof events) => {
						let state: ScopeState | undefined;
						sequence.forEach((step, index) => {
							state = decide(state, toEvent(step, index), index, gateSettings).state;
						});
						return { mitigating: isMitigating(state), open: openIds(state).sort() };
					};
					const inOrder = final([...events].sort((left, right) => left.at - right.at));
					const shuffled = final(redelivered);
					if (gateSettings.resolveMemoryMs > 0 && gateSettings.maxOpenIncidents > ids.length)
						expect(shuffled.open).toEqual(inOrder.open);
					if (inOrder.open.length > 0) expect(shuffled.mitigating).toBe(true);
				},
			),
			{ numRuns: 300 },
		);
	});
});
