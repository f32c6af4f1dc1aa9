import type { IExecuteFunctions } from 'n8n-workflow';
import { sleep } from 'n8n-workflow';

/**
 * Polls `read` until `settled` holds or `maxWaitMs` has passed, waiting 1 s, 2 s, 4 s ... (at most
 * `maxStepMs`) between reads. Returns the last reading and whether it settled, so the caller can
 * report "still pending" honestly instead of failing a change the provider did accept.
 */
export async function waitUntilSettled<T>(
	read: () => Promise<T>,
	settled: (value: T) => boolean,
	options: { maxWaitMs: number; firstStepMs?: number; maxStepMs?: number },
): Promise<{ value: T; settled: boolean; waitedMs: number }> {
	const started = Date.now();
	let step = options.firstStepMs ?? 1_000;
	for (;;) {
		const value = await read();
		const waitedMs = Date.now() - started;
		if (settled(value)) return { value, settled: true, waitedMs };
		if (waitedMs + step > options.maxWaitMs) return { value, settled: false, waitedMs };
		await sleep(step);
		step = Math.min(step * 2, options.maxStepMs ?? 10_000);
	}
}

/**
 * Milliseconds to wait for a change to settle per the node's "Wait Until Applied" and "Max Wait
 * (Seconds)" parameters; 0 when waiting is off.
 */
export function readSettleWait(
	ctx: IExecuteFunctions,
	itemIndex: number,
	defaults: { on: boolean; maxWait: number },
): number {
	if (!(ctx.getNodeParameter('waitUntilApplied', itemIndex, defaults.on) as boolean)) return 0;
	return (ctx.getNodeParameter('maxWait', itemIndex, defaults.maxWait) as number) * 1000;
}
