import type { ICredentialDataDecryptedObject, ICredentialType } from 'n8n-workflow';

import type { Fault } from '../simulators/framework';
import type { RunOptions } from './runNode';

/**
 * What every provider's unit tests set up the same way: targets, run options, a simulator per test.
 */

/** A resource-locator value as the editor saves it in "By ID" mode. */
export const rl = (value: string | number) => ({ __rl: true, mode: 'id', value: String(value) });

/** A provider node's credential in unit tests, and how many attempts a request gets. */
export interface ProviderCredential {
	type: ICredentialType;
	data: ICredentialDataDecryptedObject;
	/** Few, so that failure tests do not wait through a long backoff. */
	maxAttempts: number;
}

/**
 * A provider's run-options builder, `(sim, parameters, extra?) => RunOptions`, from its credential.
 */
export function providerRunner<Simulator>(credential: (sim: Simulator) => ProviderCredential) {
	return (
		sim: Simulator,
		parameters: RunOptions['parameters'],
		extra: Partial<RunOptions> = {},
	): RunOptions => {
		const { type, data, maxAttempts } = credential(sim);
		return {
			parameters: { requestOptions: { maxAttempts }, ...parameters },
			credentials: { [type.name]: data },
			credentialTypes: [type],
			...extra,
		};
	};
}

/**
 * A fresh simulator for every test, started by `start` and stopped after the test. What it returns
 * stands for the running test's simulator, as `restartableNode` does for the node:
 * `const sim = simulatorPerTest(startVultr)`.
 */
export function simulatorPerTest<Sim extends { stop(): Promise<void> }>(
	start: () => Promise<Sim>,
): Sim {
	let running: Sim | undefined;
	beforeEach(async () => {
		running = await start();
	});
	afterEach(async () => {
		await running?.stop();
		running = undefined;
	});
	const current = () => {
		if (!running) throw new Error('the simulator runs only during a test');
		return running;
	};
	return new Proxy({} as Sim, {
		get: (_target, property) => {
			const sim = current();
			const value: unknown = Reflect.get(sim, property, sim);
			return typeof value === 'function' ? value.bind(sim) : value;
		},
		set: (_target, property, value) => Reflect.set(current(), property, value),
	});
}

/** The parameters of one operation on the test's target, plus any the test adds. */
export const operationParams =
	(target: () => Record<string, unknown>) =>
	(operation: string, extra: Record<string, unknown> = {}) => ({
		operation,
		...target(),
		...extra,
	});

/**
 * One `429 Too Many Requests` for `method`, with the provider's own body and a Retry-After in
 * seconds.
 */
export const rateLimited = (method: string, body: unknown, retryAfter = '0'): Fault => ({
	method,
	response: { status: 429, headers: { 'retry-after': retryAfter }, body },
});
