import type { ScopeState } from '../stateMachine';

/** Decides on one scope's current state at `now`; returns the new state (undefined: forget the scope) and a result. */
export type ScopeDecider<T> = (
	state: ScopeState | undefined,
	now: number,
) => { state: ScopeState | undefined; result: T };

/**
 * Where a gate keeps its per-scope state. The one promise a store makes: `update` runs read, decide and write as one
 * atomic step per scope, so two events can never decide on the same old state.
 */
export interface GateStore {
	update<T>(scope: string, decider: ScopeDecider<T>): Promise<T>;
	read(scope: string): Promise<ScopeState | undefined>;
	/** Every scope that has state. */
	scopes(): Promise<string[]>;
	/** Said in every output item: where this store is not exact (e.g. static data in queue mode). */
	readonly warning?: string;
}
