import { SECRET, freshHeaders, postRaw, postSigned, sign, webhookOptions } from './fixture';

/** SIGTERM listeners of the test runner itself: the trigger's are the others. */
const runnerListeners = new Set(process.listeners('SIGTERM'));

const event = (n: number, action = 'open') =>
	JSON.stringify({ action, incidentId: `INC-${n}`, scope: `203.0.113.${n % 5}` });

/** Options of one trigger with this batching (the workflow id keys its batches). */
const batchingOptions = (options: Record<string, unknown>) =>
	webhookOptions({ options: { ...options } });

/** Sends `count` signed events at once to the same trigger. */
const burst = async (triggerOptions: ReturnType<typeof webhookOptions>, count: number) =>
	await Promise.all(
		Array.from({ length: count }, async (_, n) => await postSigned(triggerOptions, event(n))),
	);

const incidentIds = (items: unknown[] | undefined) =>
	(items ?? []).map((item) => (item as { incidentId: string }).incidentId);

describe('Incident Webhook Trigger: micro-batching (many events, few executions)', () => {
	it('starts a lone event at once: nothing waits for a window', async () => {
		const startedAt = Date.now();
		const outcome = await postSigned(batchingOptions({ batchWindowMs: 5_000 }), event(1));
		expect(Date.now() - startedAt).toBeLessThan(1_000);
		expect(incidentIds(outcome.items)).toEqual(['INC-1']);
	});

	it('runs 50 concurrent events in two executions and answers every request with 200', async () => {
		const outcomes = await burst(batchingOptions({ batchWindowMs: 200 }), 50);
		expect(outcomes.every(({ status }) => status === 200)).toBe(true);
		const executions = outcomes.filter(({ items }) => items !== undefined);
		expect(executions).toHaveLength(2);
		// The first starts alone, at once; the next gathers the other 49.
		expect(executions.map(({ items }) => items?.length).sort((a, b) => a! - b!)).toEqual([1, 49]);
		expect(executions.flatMap(({ items }) => incidentIds(items)).sort()).toEqual(
			Array.from({ length: 50 }, (_, n) => `INC-${n}`).sort(),
		);
		const batched = outcomes.filter(({ items }) => items === undefined);
		expect(batched.map(({ responseBody }) => responseBody)).toEqual(
			Array(48).fill({ received: true, events: 1, batched: true }),
		);
	});

	it('waits for the end of the window after the last execution before starting the batch', async () => {
		const options = batchingOptions({ batchWindowMs: 300 });
		await postSigned(options, event(100));
		const startedAt = Date.now();
		const outcomes = await burst(options, 3);
		expect(Date.now() - startedAt).toBeGreaterThanOrEqual(250);
		expect(outcomes.map(({ items }) => items?.length)).toEqual([3, undefined, undefined]);
	});

	it('starts one execution per request when the window is 0', async () => {
		const outcomes = await burst(batchingOptions({ batchWindowMs: 0 }), 10);
		expect(outcomes.map(({ items }) => items?.length)).toEqual(Array(10).fill(1));
	});

	it('starts a full batch before its window ends and keeps every event', async () => {
		const options = batchingOptions({ batchWindowMs: 60_000, maxBatchEvents: 4 });
		const startedAt = Date.now();
		const outcomes = await burst(options, 9);
		expect(Date.now() - startedAt).toBeLessThan(30_000);
		const sizes = outcomes.flatMap(({ items }) => (items ? [items.length] : []));
		expect(sizes.sort()).toEqual([1, 4, 4]);
	}, 60_000);

	it('keeps batches of different workflows apart', async () => {
		const [first, second] = [batchingOptions({}), batchingOptions({})];
		const outcomes = await Promise.all([postSigned(first, event(1)), postSigned(second, event(2))]);
		expect(outcomes.map(({ items }) => incidentIds(items))).toEqual([['INC-1'], ['INC-2']]);
	});

	it('never batches the test URL: the editor listens for one request', async () => {
		const options = { ...batchingOptions({ batchWindowMs: 60_000 }), mode: 'manual' as const };
		const outcomes = await burst(options, 3);
		expect(outcomes.map(({ items }) => items?.length)).toEqual([1, 1, 1]);
	});

	it('adds nothing to a batch from a refused request', async () => {
		const options = batchingOptions({ batchWindowMs: 200 });
		const forged = postRaw(options, event(99), freshHeaders(event(99), undefined, 'x'.repeat(64)));
		const [outcomes, refused] = await Promise.all([burst(options, 5), forged]);
		expect(refused).toMatchObject({ status: 401, items: undefined });
		expect(outcomes.flatMap(({ items }) => incidentIds(items))).not.toContain('INC-99');
		expect(outcomes.flatMap(({ items }) => incidentIds(items))).toHaveLength(5);
	});

	it('keeps the signature check per request (a batched request is verified too)', async () => {
		const options = batchingOptions({ batchWindowMs: 200 });
		const body = event(7);
		const unsigned = postRaw(options, body, { 'X-Signature-256': sign(SECRET, body) });
		const [, outcome] = await Promise.all([postSigned(options, event(1)), unsigned]);
		expect(outcome.status).toBe(401);
	});

	it('answers a batched request only once n8n has taken the execution that carries it', async () => {
		const options = batchingOptions({ batchWindowMs: 200 });
		await postSigned(options, event(100));
		const answered: string[] = [];
		const leader = postSigned(options, event(1)).then((outcome) => {
			answered.push('leader');
			return outcome;
		});
		const follower = postSigned(options, event(2)).then((outcome) => {
			answered.push('follower');
			return outcome;
		});
		expect(incidentIds((await leader).items)).toEqual(['INC-1', 'INC-2']);
		expect(await follower).toMatchObject({
			status: 200,
			responseBody: { received: true, events: 1, batched: true },
		});
		expect(answered).toEqual(['leader', 'follower']);
	});

	it("answers 503 to the batched requests when n8n does not take the batch's execution", async () => {
		const options = { ...batchingOptions({ batchWindowMs: 200 }), startAnswer: 500 };
		await postSigned({ ...options, startAnswer: 200 }, event(100));
		const [leader, ...followers] = await burst(options, 3);
		expect(leader.status).toBe(500);
		expect(followers.map(({ status }) => status)).toEqual([503, 503]);
		expect(JSON.stringify(followers[0].responseBody)).toContain('send the event again');
	});

	it('accepts the retry of a batched request answered 503, and of the refused leader', async () => {
		const options = { ...batchingOptions({ batchWindowMs: 200 }), startAnswer: 500 };
		await postSigned({ ...options, startAnswer: 200 }, event(100));
		const [leaderHeaders, followerHeaders] = [freshHeaders(event(1)), freshHeaders(event(2))];
		const leader = postRaw(options, event(1), leaderHeaders);
		const follower = postRaw(options, event(2), followerHeaders);
		expect([(await leader).status, (await follower).status]).toEqual([500, 503]);

		// The sender retries both, after the window: each is a new execution, not a replay.
		await new Promise((resolve) => setTimeout(resolve, 250));
		const accepted = { ...options, startAnswer: 200 };
		const retries = [
			await postRaw(accepted, event(1), leaderHeaders),
			await postRaw(accepted, event(2), followerHeaders),
		];
		expect(retries.map(({ status }) => status)).toEqual([200, 200]);
		expect(retries.flatMap(({ items }) => incidentIds(items))).toEqual(['INC-1', 'INC-2']);
	});

	it('starts waiting batches at once when n8n is asked to stop (SIGTERM)', async () => {
		const options = batchingOptions({ batchWindowMs: 60_000 });
		await postSigned(options, event(100));
		const startedAt = Date.now();
		const leader = postSigned(options, event(2));
		const follower = postSigned(options, event(3));
		// Both have joined the batch once their signatures are checked.
		await new Promise((resolve) => setTimeout(resolve, 200));
		const triggerListeners = process.listeners('SIGTERM').filter((l) => !runnerListeners.has(l));
		expect(triggerListeners).toHaveLength(1);
		for (const listener of triggerListeners) listener('SIGTERM');
		expect(incidentIds((await leader).items)).toEqual(['INC-2', 'INC-3']);
		expect((await follower).status).toBe(200);
		expect(Date.now() - startedAt).toBeLessThan(5_000);
		// From then on nothing waits: n8n is shutting down.
		const late = await burst(options, 2);
		expect(late.map(({ items }) => items?.length)).toEqual([1, 1]);
	});
});
