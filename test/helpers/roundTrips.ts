import type { SimRequest, Simulator } from '../simulators/framework';

/**
 * Counts the provider round trips a node waits for before a given request, with the simulator
 * playing a distant provider: every request costs `latencyMs` there and back. Requests sent
 * together (side by side) reach the simulator within a few milliseconds of each other and form one
 * wave; a request that waited for an answer arrives a whole round trip after the one it waited for.
 * So the waves before the request are the round trips spent before it.
 */
export interface RoundTripCounter {
	/** Waves of requests that reached the simulator before the first request matching `isIt`. */
	before(isIt: (request: SimRequest) => boolean): number;
	/** Every request as it arrived, in waves (for a failure message that shows what was sent). */
	waves(): string[][];
}

export function countRoundTrips(sim: Simulator, latencyMs = 300): RoundTripCounter {
	sim.latencyMs = latencyMs;
	const arrivals: Array<{ at: number; request: SimRequest }> = [];
	sim.onRequest = (request) => arrivals.push({ at: performance.now(), request });
	// A wave is what arrives within 3/4 of a round trip of its first request: requests spaced to
	// respect a rate limit (Vultr: 40 ms) still count as sent together.
	const grouped = () => {
		const waves: Array<typeof arrivals> = [];
		for (const arrival of arrivals) {
			const current = waves[waves.length - 1];
			if (current && arrival.at - current[0].at < latencyMs * 0.75) current.push(arrival);
			else waves.push([arrival]);
		}
		return waves;
	};
	return {
		before(isIt) {
			const waves = grouped();
			const index = waves.findIndex((wave) => wave.some((a) => isIt(a.request)));
			if (index < 0)
				throw new Error(`No such request reached the simulator: ${JSON.stringify(this.waves())}`);
			return index;
		},
		waves: () =>
			grouped().map((wave) => wave.map(({ request }) => `${request.method} ${request.path}`)),
	};
}
