/**
 * The Incident Gate's decision logic: from (scope state, event, now, settings) to the new scope
 * state and the transition to emit. No I/O and no clock, so every store and every test runs the
 * same rules. `decide` updates the state object it is given in place (a scope can hold 100,000
 * incidents; copying them per event would cost more than the decision), so a store hands it a state
 * it may change, and writes it back.
 *
 * Two clocks: `at`, the event time the sender reports (`occurredAt`), orders the events of one
 * incident; `now`, the gate's own monotonic clock, times hold-downs, expiry and re-emits.
 *
 * Per incident id the gate keeps the latest open time `o` and the latest resolve time `r`; the
 * incident is open when `o > r`. So a resolve suppresses only an open that happened before it (or
 * at the same time), an open after a resolve is a new wave, and any order of delivery ends in the
 * same state.
 *
 * Per scope: `idle` (mitigation off), `active` (on, incidents open), `withdrawPending` (on, nothing
 * open, a hold-down runs until `withdrawDueAt`), `held` (on because an operator said so). `pending`
 * records an Activate or Withdraw that nobody has confirmed yet; it is emitted again until it is
 * confirmed or the re-emit budget is spent.
 */

export type MitigationStatus = 'idle' | 'active' | 'withdrawPending' | 'held';

/** Short keys: a scope can hold many of these, and static data saves them all. */
export interface IncidentRecord {
	/** Latest open time (event time), absent once resolved. */
	o?: number;
	/** Latest resolve time (event time). */
	r?: number;
	/**
	 * When the gate last heard of it (gate clock): open/update for expiry, resolve for forgetting.
	 */
	s: number;
	/** Title. */
	t?: string;
}

export interface PendingTransition {
	/** How many times it was emitted. */
	n: number;
	/** When it was last emitted (gate clock). */
	at: number;
}

export interface ScopeState {
	status: MitigationStatus;
	/** When mitigation was turned on; set whenever status is not idle. */
	activatedAt?: number;
	/** When a pending withdraw becomes due; set only in withdrawPending. */
	withdrawDueAt?: number;
	/** Open incidents and resolve records, by incident id. */
	incidents: Record<string, IncidentRecord>;
	/** Open incidents tracked in `incidents`. */
	open: number;
	/** Resolve records in `incidents`. */
	remembered: number;
	/** Incidents opened beyond the per-scope cap: not tracked by id, but they keep mitigation on. */
	overflow: number;
	overflowSeen?: number;
	pending?: PendingTransition;
	/**
	 * No record expires or is forgotten before this time (a lower bound: tick scans the records only
	 * then).
	 */
	checkAt?: number;
}

export interface GateSettings {
	/** Mitigation stays on at least this long after it was activated. */
	minActiveMs: number;
	/** After the last incident resolves, wait this long before withdrawing. */
	withdrawDelayMs: number;
	/** `tick` expires incidents not seen (opened again or updated) for this long; 0 = never. */
	maxIncidentAgeMs: number;
	/** How long a resolve is remembered, to absorb a late open of the same wave; 0 = not at all. */
	resolveMemoryMs: number;
	maxOpenIncidents: number;
	/**
	 * An unconfirmed transition is emitted again after this long, by tick or by the next event of its
	 * scope.
	 */
	reemitIntervalMs: number;
	/**
	 * Re-emits of one unconfirmed transition before the gate assumes it was done; 0 = until
	 * confirmed.
	 */
	maxReemits: number;
}

/** The gate's defaults, in one place: the node's parameter defaults are taken from here. */
export const DEFAULTS = {
	minActiveSeconds: 0,
	withdrawDelaySeconds: 0,
	maxIncidentAgeMinutes: 24 * 60,
	resolveMemoryMinutes: 60,
	maxOpenIncidents: 1000,
	reemitIntervalSeconds: 60,
	maxReemits: 3,
} as const;

export const DEFAULT_SETTINGS: GateSettings = {
	minActiveMs: DEFAULTS.minActiveSeconds * 1000,
	withdrawDelayMs: DEFAULTS.withdrawDelaySeconds * 1000,
	maxIncidentAgeMs: DEFAULTS.maxIncidentAgeMinutes * 60_000,
	resolveMemoryMs: DEFAULTS.resolveMemoryMinutes * 60_000,
	maxOpenIncidents: DEFAULTS.maxOpenIncidents,
	reemitIntervalMs: DEFAULTS.reemitIntervalSeconds * 1000,
	maxReemits: DEFAULTS.maxReemits,
};

export type GateEvent =
	| { type: 'open'; incidentId: string; at: number; title?: string }
	| { type: 'update'; incidentId: string; at: number; title?: string }
	| { type: 'resolve'; incidentId: string; at: number }
	/** `active`: what the provider node reported; undefined when it failed. */
	| { type: 'confirm'; active: boolean | undefined }
	| { type: 'tick' }
	| { type: 'hold' }
	| { type: 'release' }
	| { type: 'reset' };

export type Transition = 'activate' | 'withdraw' | 'none';

export type Reason =
	| 'activated'
	| 'incidentOpened'
	| 'duplicateOpen'
	| 'withdrawCancelled'
	| 'resolvedBeforeOpen'
	| 'openIncidentLimitReached'
	| 'incidentUpdated'
	| 'incidentResolved'
	| 'staleResolve'
	| 'allIncidentsResolved'
	| 'unknownIncident'
	| 'withdrawScheduled'
	| 'keptByHold'
	| 'incidentsExpired'
	| 'withdrawDue'
	| 'nothingDue'
	| 'reemit'
	| 'confirmed'
	| 'confirmMismatch'
	| 'unknownScope'
	| 'held'
	| 'alreadyHeld'
	| 'released'
	| 'notHeld'
	| 'reset';

export interface Decision {
	/** The new state; undefined when the scope has nothing left worth keeping. */
	state: ScopeState | undefined;
	transition: Transition;
	reason: Reason;
	/** Whether the state changed at all (a store writes nothing otherwise). */
	changed: boolean;
	/** Ids that `tick` expired. */
	expiredIncidentIds?: string[];
}

export const emptyScope = (): ScopeState => ({
	status: 'idle',
	incidents: Object.create(null) as Record<string, IncidentRecord>,
	open: 0,
	remembered: 0,
	overflow: 0,
});

/**
 * What `tick` lists among expired ids for incidents beyond the cap, which have no id of their own.
 */
export const UNTRACKED = '(untracked incidents beyond the cap)';

/**
 * Gives a state read from JSON a prototype-free incident map, so any id (even "__proto__") is a
 * plain key.
 */
export function hydrate(state: ScopeState): ScopeState {
	const incidents = Object.create(null) as Record<string, IncidentRecord>;
	for (const [id, record] of Object.entries(state.incidents ?? {})) incidents[id] = record;
	state.incidents = incidents;
	return state;
}

export const isMitigating = (state: ScopeState | undefined): boolean =>
	state !== undefined && state.status !== 'idle';

export const isOpen = (record: IncidentRecord | undefined): boolean =>
	record?.o !== undefined && (record.r === undefined || record.o > record.r);

/** Open incidents, tracked or not: the number that keeps mitigation on. */
export const unresolved = (state: ScopeState | undefined): number =>
	state ? state.open + state.overflow : 0;

export function decide(
	previous: ScopeState | undefined,
	event: GateEvent,
	now: number,
	settings: GateSettings,
): Decision {
	const state = previous ?? emptyScope();
	const decision = decideOn(state, event, now, settings);
	// Any later event of the scope repairs a lost Activate or Withdraw, as tick does.
	const result =
		decision.transition === 'none' && event.type !== 'confirm' && event.type !== 'reset'
			? (reemit(decision, now, settings) ?? decision)
			: decision;
	return { ...result, state: result.state && keepWorthKeeping(result.state) };
}

function decideOn(
	state: ScopeState,
	event: GateEvent,
	now: number,
	settings: GateSettings,
): Decision {
	switch (event.type) {
		case 'open':
			return open(state, event.incidentId, event.at, event.title, now, settings);
		case 'update':
			return update(state, event.incidentId, event.title, now);
		case 'resolve':
			return resolve(state, event.incidentId, event.at, now, settings);
		case 'confirm':
			return confirm(state, event.active, now, settings);
		case 'tick':
			return tick(state, now, settings);
		case 'hold':
			if (state.status === 'held') return unchanged(state, 'alreadyHeld');
			if (state.status === 'idle') {
				state.status = 'held';
				state.activatedAt = now;
				return emit(state, 'activate', 'held', now);
			}
			state.status = 'held';
			delete state.withdrawDueAt;
			return changedTo(state, 'held');
		case 'release':
			if (state.status !== 'held') return unchanged(state, 'notHeld');
			state.status = 'active';
			if (unresolved(state) > 0) return changedTo(state, 'released');
			return withdrawAfterHoldDown(state, now, settings, 'released');
		case 'reset':
			return {
				state: undefined,
				transition: isMitigating(state) ? 'withdraw' : 'none',
				reason: 'reset',
				changed: true,
			};
	}
}

function open(
	state: ScopeState,
	id: string,
	at: number,
	title: string | undefined,
	now: number,
	settings: GateSettings,
): Decision {
	const record = state.incidents[id];
	if (record && record.r !== undefined && at <= record.r) {
		// This open happened before (or when) the incident was resolved: a late or retried delivery.
		return unchanged(state, 'resolvedBeforeOpen');
	}
	if (isOpen(record)) {
		record.o = Math.max(record.o as number, at);
		record.s = now;
		if (title) record.t = title;
		return changedTo(state, 'duplicateOpen');
	}
	if (state.open >= settings.maxOpenIncidents) {
		// Fail safe: an incident the gate cannot track still keeps mitigation on until it expires or
		// resolves.
		state.overflow++;
		state.overflowSeen = now;
		lowerCheckAt(state, now + settings.maxIncidentAgeMs, settings.maxIncidentAgeMs);
		return opened(state, now, 'openIncidentLimitReached');
	}
	if (record) state.remembered--;
	state.incidents[id] = title ? { o: at, s: now, t: title } : { o: at, s: now };
	state.open++;
	lowerCheckAt(state, now + settings.maxIncidentAgeMs, settings.maxIncidentAgeMs);
	return opened(state, now, 'incidentOpened');
}

/**
 * An incident was added: Activate from idle, cancel a pending withdraw, otherwise nothing to emit.
 */
function opened(state: ScopeState, now: number, reason: Reason): Decision {
	switch (state.status) {
		case 'idle':
			state.status = 'active';
			state.activatedAt = now;
			return emit(state, 'activate', reason === 'incidentOpened' ? 'activated' : reason, now);
		case 'withdrawPending':
			state.status = 'active';
			delete state.withdrawDueAt;
			return changedTo(state, reason === 'incidentOpened' ? 'withdrawCancelled' : reason);
		default:
			return changedTo(state, reason);
	}
}

function update(state: ScopeState, id: string, title: string | undefined, now: number): Decision {
	const record = state.incidents[id];
	if (!record || !isOpen(record)) return unchanged(state, 'unknownIncident');
	record.s = now;
	if (title) record.t = title;
	return changedTo(state, 'incidentUpdated');
}

function resolve(
	state: ScopeState,
	id: string,
	at: number,
	now: number,
	settings: GateSettings,
): Decision {
	const record = state.incidents[id];
	if (isOpen(record)) {
		const incident = record as IncidentRecord;
		if (at < (incident.o as number)) {
			// The end of an earlier wave: the incident was opened again after it.
			incident.r = Math.max(incident.r ?? at, at);
			return changedTo(state, 'staleResolve');
		}
		state.open--;
		if (settings.resolveMemoryMs > 0) {
			state.incidents[id] = { r: at, s: now };
			state.remembered++;
			lowerCheckAt(state, now + settings.resolveMemoryMs, settings.resolveMemoryMs);
		} else delete state.incidents[id];
		if (unresolved(state) > 0) return changedTo(state, 'incidentResolved');
		return withdrawAfterHoldDown(state, now, settings, 'allIncidentsResolved');
	}
	if (settings.resolveMemoryMs > 0) {
		if (!record) state.remembered++;
		state.incidents[id] = { r: Math.max(record?.r ?? at, at), s: now };
		lowerCheckAt(state, now + settings.resolveMemoryMs, settings.resolveMemoryMs);
	}
	return settings.resolveMemoryMs > 0
		? changedTo(state, 'unknownIncident')
		: unchanged(state, 'unknownIncident');
}

/**
 * What the provider node reported after an Activate or Withdraw: `active` is whether mitigation is
 * on now.
 */
function confirm(
	state: ScopeState,
	active: boolean | undefined,
	now: number,
	settings: GateSettings,
): Decision {
	const wanted = isMitigating(state);
	if (active === wanted) {
		if (!state.pending) return unchanged(state, 'confirmed');
		delete state.pending;
		return changedTo(state, 'confirmed');
	}
	// Nothing known about the scope and mitigation is on: someone else's, not the gate's to withdraw.
	if (!wanted && !state.pending && state.open === 0 && state.remembered === 0)
		return unchanged(state, 'unknownScope');
	// The provider failed or says otherwise: due for a re-emit at once (next tick or event).
	state.pending = { n: state.pending?.n ?? 1, at: now - settings.reemitIntervalMs };
	return changedTo(state, 'confirmMismatch');
}

/**
 * Expires incidents not seen for the maximum age and forgets old resolves (only when some may be
 * due), then releases a withdraw whose hold-down is over.
 */
function tick(state: ScopeState, now: number, settings: GateSettings): Decision {
	const swept =
		state.checkAt !== undefined && state.checkAt <= now
			? sweep(state, now, settings)
			: { expired: [], forgotten: 0 };
	const expiredIncidentIds = swept.expired;
	const withExpired = (decision: Decision): Decision =>
		expiredIncidentIds.length > 0 ? { ...decision, expiredIncidentIds } : decision;
	if (expiredIncidentIds.length > 0 && unresolved(state) === 0 && state.status === 'active')
		return withExpired(withdrawAfterHoldDown(state, now, settings, 'incidentsExpired'));
	const due = withdrawIfDue(state, now);
	if (due) return withExpired(due);
	if (expiredIncidentIds.length > 0) return withExpired(changedTo(state, 'incidentsExpired'));
	return swept.forgotten > 0 ? changedTo(state, 'nothingDue') : unchanged(state, 'nothingDue');
}

function withdrawIfDue(state: ScopeState, now: number): Decision | undefined {
	if (
		state.status === 'withdrawPending' &&
		state.withdrawDueAt !== undefined &&
		state.withdrawDueAt <= now
	) {
		return withdrawn(state, 'withdrawDue', now);
	}
	return undefined;
}

/**
 * One pass over the scope's records: expires and forgets what is due, and sets the next exact
 * `checkAt`.
 */
function sweep(
	state: ScopeState,
	now: number,
	settings: GateSettings,
): { expired: string[]; forgotten: number } {
	const expired: string[] = [];
	let forgotten = 0;
	let next = Number.POSITIVE_INFINITY;
	const maxAge = settings.maxIncidentAgeMs;
	const memory = settings.resolveMemoryMs;
	for (const id in state.incidents) {
		const record = state.incidents[id];
		if (isOpen(record)) {
			if (maxAge <= 0) continue;
			if (record.s + maxAge <= now) {
				expired.push(id);
				state.open--;
				if (memory > 0) {
					// Remembered like a resolve, so a retried open of this wave does not activate again.
					state.incidents[id] = { r: Math.max(record.o as number, now), s: now };
					state.remembered++;
					next = Math.min(next, now + memory);
				} else delete state.incidents[id];
			} else next = Math.min(next, record.s + maxAge);
		} else if (record.s + memory <= now) {
			delete state.incidents[id];
			state.remembered--;
			forgotten++;
		} else next = Math.min(next, record.s + memory);
	}
	if (state.overflow > 0 && maxAge > 0 && state.overflowSeen !== undefined) {
		if (state.overflowSeen + maxAge <= now) {
			state.overflow = 0;
			delete state.overflowSeen;
			expired.push(UNTRACKED);
		} else next = Math.min(next, state.overflowSeen + maxAge);
	}
	if (next === Number.POSITIVE_INFINITY) delete state.checkAt;
	else state.checkAt = next;
	return { expired, forgotten };
}

function lowerCheckAt(state: ScopeState, at: number, period: number): void {
	if (period <= 0) return;
	if (state.checkAt === undefined || at < state.checkAt) state.checkAt = at;
}

/**
 * The last incident is gone: withdraw now, or once the hold-down is over; never while an operator
 * holds.
 */
function withdrawAfterHoldDown(
	state: ScopeState,
	now: number,
	settings: GateSettings,
	reason: Reason,
): Decision {
	if (state.status === 'held') return changedTo(state, 'keptByHold');
	if (state.status === 'idle') return changedTo(state, reason);
	const activatedAt = state.activatedAt ?? now;
	const dueAt = Math.max(activatedAt + settings.minActiveMs, now + settings.withdrawDelayMs);
	if (dueAt <= now) return withdrawn(state, reason, now);
	state.status = 'withdrawPending';
	state.withdrawDueAt = dueAt;
	return changedTo(state, 'withdrawScheduled');
}

function withdrawn(state: ScopeState, reason: Reason, now: number): Decision {
	state.status = 'idle';
	delete state.activatedAt;
	delete state.withdrawDueAt;
	return emit(state, 'withdraw', reason, now);
}

function emit(state: ScopeState, transition: Transition, reason: Reason, now: number): Decision {
	state.pending = { n: 1, at: now };
	return { state, transition, reason, changed: true };
}

/**
 * Emits the scope's unconfirmed transition again when it is due, or gives up once the budget is
 * spent.
 */
function reemit(decision: Decision, now: number, settings: GateSettings): Decision | undefined {
	const state = decision.state;
	const pending = state?.pending;
	if (!state || !pending || now - pending.at < settings.reemitIntervalMs) return undefined;
	if (settings.maxReemits > 0 && pending.n > settings.maxReemits) {
		delete state.pending;
		return { ...decision, changed: true };
	}
	state.pending = { n: pending.n + 1, at: now };
	return {
		...decision,
		state,
		transition: isMitigating(state) ? 'activate' : 'withdraw',
		reason: 'reemit',
		changed: true,
	};
}

/** When `tick` needs this scope next: an expiry, a due withdraw or a due re-emit. */
export function nextDueAt(state: ScopeState, settings: GateSettings): number | undefined {
	let due = state.checkAt ?? Number.POSITIVE_INFINITY;
	if (state.withdrawDueAt !== undefined) due = Math.min(due, state.withdrawDueAt);
	if (state.pending) due = Math.min(due, state.pending.at + settings.reemitIntervalMs);
	return due === Number.POSITIVE_INFINITY ? undefined : due;
}

const unchanged = (state: ScopeState, reason: Reason): Decision => ({
	state,
	transition: 'none',
	reason,
	changed: false,
});

const changedTo = (state: ScopeState, reason: Reason): Decision => ({
	state,
	transition: 'none',
	reason,
	changed: true,
});

/**
 * The whole scope goes once nothing is left to remember: idle, confirmed, no incident or resolve
 * record.
 */
function keepWorthKeeping(state: ScopeState): ScopeState | undefined {
	if (state.status !== 'idle' || state.pending || state.open > 0 || state.overflow > 0)
		return state;
	return state.remembered > 0 ? state : undefined;
}
