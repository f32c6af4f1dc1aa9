import { processMemory } from '../../shared/processMemory';

/**
 * Milliseconds since the epoch that never jump: the wall clock read once per process, then advanced
 * by the monotonic clock, so stepping the system clock neither expires live incidents nor stretches
 * a hold-down.
 */
export function monotonicNow(): number {
	const origin = (processMemory.gateClockOrigin ??= { wall: Date.now(), mono: performance.now() });
	return origin.wall + (performance.now() - origin.mono);
}
