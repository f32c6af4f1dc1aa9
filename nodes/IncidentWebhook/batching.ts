import type { IncidentEvent } from './event';
import type { AnsweredResponse } from './webhookRequest';
import { processMemory } from '../shared/processMemory';

/**
 * Micro-batching: at most one execution per trigger per window. One n8n execution per event is
 * what n8n cannot sustain in a storm (about 15 executions per second on 2 cores, with GiBs of
 * backlog), while the Incident Gate decides per item at no measurable cost; so events that arrive
 * while a window is open are gathered and start one execution together.
 *
 * - The first request after a quiet window starts its execution at once: a lone incident is not
 *   delayed.
 * - A request arriving within the window after that becomes the leader of the next batch: n8n's
 *   webhook handler waits (the request stays open) until the window has passed, then the leader
 *   returns every gathered event as the items of one execution.
 * - Requests arriving while a leader waits add their events to its batch and wait for the hand-off:
 *   they are answered with the leader's outcome once n8n has answered the leader. n8n 2.x answers a
 *   request only after it has accepted (saved, or queued in queue mode) the execution it starts, so
 *   a 200 means the event is in an execution n8n took; anything else is answered 503 and the
 *   sender's retry brings the event again. Nothing is acknowledged that only this process's memory
 *   holds.
 * - A batch is released early when it is full, and every waiting batch is released when the
 *   process is asked to stop (SIGTERM, SIGINT), so that n8n takes (or refuses) the executions while
 *   it shuts down gracefully; requests still arriving then start their own executions.
 *
 * State lives in this module, so it covers one n8n process (main, or each webhook process in queue
 * mode), keyed by workflow and node.
 */

export interface Batch {
	events: IncidentEvent[];
	release: () => void;
	/** Settles with the HTTP status n8n answered the leader with; 0: closed without an answer. */
	handedOff: Promise<number>;
	reportHandOff: (status: number) => void;
}

export interface TriggerState {
	/** When the last execution of this trigger was started (ms, monotonic). */
	lastStartedAt: number;
	open?: Batch;
}

export interface BatchSettings {
	windowMs: number;
	maxEvents: number;
}

/**
 * What the request should do: start an execution with these events (a batch's leader reports how
 * n8n answered it), or wait for the leader of the batch its events joined.
 */
export type BatchOutcome = { start: IncidentEvent[]; batch?: Batch } | { joined: Promise<number> };

/** How long a batched request waits for its leader's answer before it asks for a retry. */
const HAND_OFF_LIMIT_MS = 60_000;

const batching = processMemory.webhookBatching;

const now = () => performance.now();

function releaseAllOnStop(): void {
	if (batching.stopListenerInstalled) return;
	batching.stopListenerInstalled = true;
	const releaseAll = () => {
		batching.stopping = true;
		for (const batch of batching.waiting) batch.release();
	};
	// Listening does not change how the process stops: n8n's own handlers still run (and exit).
	process.on('SIGTERM', releaseAll);
	process.on('SIGINT', releaseAll);
}

export async function batchEvents(
	key: string,
	events: IncidentEvent[],
	{ windowMs, maxEvents }: BatchSettings,
): Promise<BatchOutcome> {
	if (windowMs <= 0 || batching.stopping) return { start: events };
	const state = batching.triggers.get(key) ?? { lastStartedAt: -Infinity };
	batching.triggers.set(key, state);

	const open = state.open;
	if (open && open.events.length + events.length <= maxEvents) {
		open.events.push(...events);
		if (open.events.length >= maxEvents) open.release();
		return { joined: open.handedOff };
	}
	if (!open && now() >= state.lastStartedAt + windowMs) {
		state.lastStartedAt = now();
		return { start: events };
	}

	// This request leads the next batch. An open batch without room for its events starts now, and
	// the new batch waits a whole window after it.
	open?.release();
	const dueAt = open ? now() + windowMs : state.lastStartedAt + windowMs;
	let release = () => {};
	const released = new Promise<void>((resolve) => (release = resolve));
	let reportHandOff: (status: number) => void = () => {};
	const handedOff = new Promise<number>((resolve) => {
		reportHandOff = resolve;
		// A leader n8n never answers must not hold the requests that joined it: they ask for a retry.
		setTimeout(() => resolve(0), HAND_OFF_LIMIT_MS).unref();
	});
	const batch: Batch = { events: [...events], release, handedOff, reportHandOff };
	state.open = batch;
	batching.waiting.add(batch);
	releaseAllOnStop();
	const timer = setTimeout(release, Math.max(0, dueAt - now()));
	if (batch.events.length >= maxEvents) release();
	await released;
	clearTimeout(timer);
	batching.waiting.delete(batch);
	if (state.open === batch) state.open = undefined;
	state.lastStartedAt = now();
	return { start: batch.events, batch };
}

/** Tells the requests that joined a leader's batch how n8n answered the leader, once it has. */
export function watchHandOff(leaderResponse: AnsweredResponse, batch: Batch): void {
	leaderResponse.once('finish', () => batch.reportHandOff(leaderResponse.statusCode));
	leaderResponse.once('close', () =>
		batch.reportHandOff(leaderResponse.writableFinished ? leaderResponse.statusCode : 0),
	);
}
