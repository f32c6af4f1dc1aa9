import type { Decision, GateEvent, GateSettings, ScopeState } from '../stateMachine';

/** One decision as a store applied it. */
export interface Applied {
	/**
	 * The scope decided on: where the incident was opened, which may differ from the event's scope.
	 */
	scope: string;
	decision: Decision;
	/** When the mitigation this decision is about was activated (a Withdraw still says it). */
	activatedAt?: number;
}

/**
 * Where a gate keeps its state. The promise every store makes: each event is read, decided and
 * written as one atomic step, so two events can never decide on the same old state; and an event
 * about an incident already open in another scope is decided in that scope.
 */
export interface GateStore {
	apply(scope: string, event: GateEvent, settings: GateSettings): Promise<Applied>;
	/**
	 * Runs tick on every scope with something due (expiry, hold-down, re-emit); returns those it
	 * decided on.
	 */
	tick(settings: GateSettings): Promise<Applied[]>;
	read(scope: string): Promise<ScopeState | undefined>;
	/** Every scope that has state. */
	scopes(): Promise<string[]>;
}

/** The incident id an event is about, for routing it to the scope where that incident is open. */
export const incidentOf = (event: GateEvent): string | undefined =>
	'incidentId' in event ? event.incidentId : undefined;
