/**
 * The Incident Gate's decision logic: pure functions from (scope state, event, now, settings) to the new scope state
 * and the transition to emit. No I/O and no clock, so every store (static data, Redis) and every test runs the same
 * rules, and a store only has to make "read, decide, write" atomic.
 *
 * Per scope: `idle` (mitigation off, nothing open), `active` (on, incidents open), `withdrawPending` (on, nothing
 * open, a hold-down runs until `withdrawDueAt`), `held` (on because an operator said so; never withdrawn
 * automatically). Invariants: idle has no open incidents, withdrawPending has none either, and every status but
 * idle means mitigation is on, so Activate only ever fires from idle and Withdraw only ever leads to idle.
 */

export type MitigationStatus = 'idle' | 'active' | 'withdrawPending' | 'held';

export interface OpenIncident {
	id: string;
	openedAt: number;
	lastSeen: number;
	title?: string;
}

export interface RememberedResolve {
	id: string;
	at: number;
}

export interface ScopeState {
	status: MitigationStatus;
	/** When mitigation was turned on; set whenever status is not idle. */
	activatedAt?: number;
	/** When a pending withdraw becomes due; set only in withdrawPending. */
	withdrawDueAt?: number;
	open: OpenIncident[];
	/** Recently resolved ids, so an `open` delivered after its `resolve` does not leave a ghost incident. */
	recentResolves: RememberedResolve[];
}

export interface GateSettings {
	/** Mitigation stays on at least this long after it was activated. */
	minActiveMs: number;
	/** After the last incident resolves, wait this long before withdrawing. */
	withdrawDelayMs: number;
	/** `tick` expires incidents not seen (opened, re-opened or updated) for this long; 0 = never. */
	maxIncidentAgeMs: number;
	/** How long a resolve is remembered to absorb its late `open`; 0 = not at all. */
	resolveMemoryMs: number;
	maxOpenIncidents: number;
	maxRememberedResolves: number;
}

export const DEFAULT_SETTINGS: GateSettings = {
	minActiveMs: 0,
	withdrawDelayMs: 0,
	maxIncidentAgeMs: 0,
	resolveMemoryMs: 5 * 60_000,
	maxOpenIncidents: 1000,
	maxRememberedResolves: 1000,
};

export type GateEvent =
	| { type: 'open'; incidentId: string; title?: string }
	| { type: 'update'; incidentId: string; title?: string }
	| { type: 'resolve'; incidentId: string }
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
	| 'allIncidentsResolved'
	| 'unknownIncident'
	| 'withdrawScheduled'
	| 'keptByHold'
	| 'incidentsExpired'
	| 'withdrawDue'
	| 'nothingDue'
	| 'held'
	| 'alreadyHeld'
	| 'released'
	| 'notHeld'
	| 'reset';

export interface Decision {
	/** The new state; undefined when the scope has nothing left worth keeping (idle, nothing open or remembered). */
	state: ScopeState | undefined;
	transition: Transition;
	reason: Reason;
	/** Ids that `tick` expired. */
	expiredIncidentIds?: string[];
}

export const emptyScope = (): ScopeState => ({ status: 'idle', open: [], recentResolves: [] });

export const isMitigating = (state: ScopeState | undefined): boolean =>
	state !== undefined && state.status !== 'idle';

export function decide(
	previous: ScopeState | undefined,
	event: GateEvent,
	now: number,
	settings: GateSettings,
): Decision {
	const state = forgetOldResolves(previous ?? emptyScope(), now, settings);
	const decision = decideOn(state, event, now, settings);
	return { ...decision, state: decision.state && compact(decision.state) };
}

function decideOn(
	state: ScopeState,
	event: GateEvent,
	now: number,
	settings: GateSettings,
): Decision {
	switch (event.type) {
		case 'open':
			return open(state, event.incidentId, event.title, now, settings);
		case 'update':
			return update(state, event.incidentId, event.title, now);
		case 'resolve':
			return resolve(state, event.incidentId, now, settings);
		case 'tick':
			return tick(state, now, settings);
		case 'hold':
			if (state.status === 'held') return unchanged(state, 'alreadyHeld');
			if (state.status === 'idle')
				return {
					state: { ...state, status: 'held', activatedAt: now },
					transition: 'activate',
					reason: 'held',
				};
			return unchanged({ ...state, status: 'held', withdrawDueAt: undefined }, 'held');
		case 'release':
			if (state.status !== 'held') return unchanged(state, 'notHeld');
			if (state.open.length > 0) return unchanged({ ...state, status: 'active' }, 'released');
			return withdrawAfterHoldDown({ ...state, status: 'active' }, now, settings, 'released');
		case 'reset':
			return {
				state: undefined,
				transition: isMitigating(state) ? 'withdraw' : 'none',
				reason: 'reset',
			};
	}
}

function open(
	state: ScopeState,
	id: string,
	title: string | undefined,
	now: number,
	settings: GateSettings,
): Decision {
	const existing = state.open.find((incident) => incident.id === id);
	if (existing) return unchanged(refresh(state, id, title, now), 'duplicateOpen');
	if (state.recentResolves.some((resolved) => resolved.id === id))
		return unchanged(state, 'resolvedBeforeOpen');
	if (state.open.length >= settings.maxOpenIncidents)
		return unchanged(state, 'openIncidentLimitReached');

	const incident: OpenIncident = { id, openedAt: now, lastSeen: now, ...(title ? { title } : {}) };
	const withIncident = { ...state, open: [...state.open, incident] };
	switch (state.status) {
		case 'idle':
			return {
				state: { ...withIncident, status: 'active', activatedAt: now },
				transition: 'activate',
				reason: 'activated',
			};
		case 'withdrawPending':
			return unchanged(
				{ ...withIncident, status: 'active', withdrawDueAt: undefined },
				'withdrawCancelled',
			);
		default:
			return unchanged(withIncident, 'incidentOpened');
	}
}

function update(state: ScopeState, id: string, title: string | undefined, now: number): Decision {
	if (!state.open.some((incident) => incident.id === id))
		return unchanged(state, 'unknownIncident');
	return unchanged(refresh(state, id, title, now), 'incidentUpdated');
}

function resolve(state: ScopeState, id: string, now: number, settings: GateSettings): Decision {
	const remembered = remember(state, id, now, settings);
	if (!state.open.some((incident) => incident.id === id))
		return unchanged(remembered, 'unknownIncident');
	const remaining = {
		...remembered,
		open: remembered.open.filter((incident) => incident.id !== id),
	};
	if (remaining.open.length > 0) return unchanged(remaining, 'incidentResolved');
	return withdrawAfterHoldDown(remaining, now, settings, 'allIncidentsResolved');
}

/** Expires incidents not seen for the maximum age, then releases a withdraw whose hold-down is over. */
function tick(state: ScopeState, now: number, settings: GateSettings): Decision {
	const maxAge = settings.maxIncidentAgeMs;
	const expired =
		maxAge > 0 ? state.open.filter((incident) => now - incident.lastSeen >= maxAge) : [];
	if (expired.length > 0) {
		const expiredIncidentIds = expired.map((incident) => incident.id);
		const remaining = {
			...state,
			open: state.open.filter((incident) => !expiredIncidentIds.includes(incident.id)),
		};
		const decision =
			remaining.open.length > 0
				? unchanged(remaining, 'incidentsExpired')
				: withdrawAfterHoldDown(remaining, now, settings, 'incidentsExpired');
		return { ...decision, expiredIncidentIds };
	}
	if (
		state.status === 'withdrawPending' &&
		state.withdrawDueAt !== undefined &&
		state.withdrawDueAt <= now
	) {
		return withdrawn(state, 'withdrawDue');
	}
	return unchanged(state, 'nothingDue');
}

/** The last incident is gone: withdraw now, or once the hold-down is over; never while an operator holds. */
function withdrawAfterHoldDown(
	state: ScopeState,
	now: number,
	settings: GateSettings,
	reason: Reason,
): Decision {
	if (state.status === 'held') return unchanged(state, 'keptByHold');
	const activatedAt = state.activatedAt ?? now;
	const dueAt = Math.max(activatedAt + settings.minActiveMs, now + settings.withdrawDelayMs);
	if (dueAt <= now) return withdrawn(state, reason);
	return unchanged(
		{ ...state, status: 'withdrawPending', withdrawDueAt: dueAt },
		'withdrawScheduled',
	);
}

function withdrawn(state: ScopeState, reason: Reason): Decision {
	return {
		state: { status: 'idle', open: [], recentResolves: state.recentResolves },
		transition: 'withdraw',
		reason,
	};
}

const unchanged = (state: ScopeState, reason: Reason): Decision => ({
	state,
	transition: 'none',
	reason,
});

function refresh(
	state: ScopeState,
	id: string,
	title: string | undefined,
	now: number,
): ScopeState {
	return {
		...state,
		open: state.open.map((incident) =>
			incident.id === id ? { ...incident, lastSeen: now, ...(title ? { title } : {}) } : incident,
		),
	};
}

function remember(state: ScopeState, id: string, now: number, settings: GateSettings): ScopeState {
	if (settings.resolveMemoryMs <= 0 || settings.maxRememberedResolves <= 0) return state;
	const others = state.recentResolves.filter((resolved) => resolved.id !== id);
	return {
		...state,
		recentResolves: lastOf([...others, { id, at: now }], settings.maxRememberedResolves),
	};
}

function forgetOldResolves(state: ScopeState, now: number, settings: GateSettings): ScopeState {
	const recent = state.recentResolves.filter(
		(resolved) => now - resolved.at < settings.resolveMemoryMs,
	);
	const recentResolves = lastOf(recent, settings.maxRememberedResolves);
	return recentResolves.length === state.recentResolves.length
		? state
		: { ...state, recentResolves };
}

const lastOf = <T>(list: T[], count: number): T[] => (count > 0 ? list.slice(-count) : []);

/** Drops fields that no longer apply, and the whole scope once there is nothing left to remember. */
function compact(state: ScopeState): ScopeState | undefined {
	if (state.status === 'idle' && state.open.length === 0 && state.recentResolves.length === 0)
		return undefined;
	const result: ScopeState = {
		status: state.status,
		open: state.open,
		recentResolves: state.recentResolves,
	};
	if (state.status !== 'idle' && state.activatedAt !== undefined)
		result.activatedAt = state.activatedAt;
	if (state.status === 'withdrawPending' && state.withdrawDueAt !== undefined)
		result.withdrawDueAt = state.withdrawDueAt;
	return result;
}
