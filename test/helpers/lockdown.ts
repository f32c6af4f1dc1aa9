import type { IDataObject } from 'n8n-workflow';

import type { Fault } from '../simulators/framework';
import type { NodeFailure } from './runNode';

/**
 * The firewall lockdowns (DigitalOcean, Linode, Vultr) promise the same thing at every write: a
 * failure or a lost reply leaves at most one lockdown at the provider, and the next run finishes the
 * job and gives back the account exactly as it was. These scenarios check that promise once, for
 * every provider's own list of writes.
 */

/** One write of a lockdown: the operation that sends it and the request it is. */
export interface LockdownWrite {
	operation: string;
	method: string;
	path: RegExp;
}

/** A simulator the scenarios can inject faults into. */
interface Injectable {
	inject(fault: Fault): void;
}

/** A provider's lockdown as the scenarios see it, wired to the test's simulator and node. */
export interface LockdownUnderTest<Sim extends Injectable> {
	sim: Sim;
	/** The account as the provider holds it, to compare before and after. */
	snapshot(sim: Sim): unknown;
	run(operation: string): Promise<IDataObject>;
	/** The operation run with a single attempt, expected to fail. */
	failure?(operation: string): Promise<NodeFailure>;
	/** Plays an n8n restart between runs (a no-op where every run already restarts). */
	restart?(): void;
	/** What the lockdown keeps at the provider (lockdown firewall or group, or saved copy). */
	lockdowns(): unknown[];
	/** What must hold right after a write failed or lost its reply. */
	afterFailure?(): void;
	/** What must hold while the target is locked down. */
	lockedDown?(): void;
	/** What must hold once the lockdown is withdrawn (besides the account being as before). */
	restored?(): void;
}

/** Every write twice: failing before the provider applies it, and applied with its reply lost. */
export const failingBeforeAndAfter = <W extends object>(writes: W[]) =>
	writes.flatMap((w) => [
		{ ...w, afterHandler: false },
		{ ...w, afterHandler: true },
	]);

/**
 * Every write twice: applied, the client then sees an error status (a proxy's 502 unless the
 * provider answers its own) or a dropped connection.
 */
export const replyLostBothWays = <W extends object>(writes: W[], status = '502') =>
	writes.flatMap((w) => [
		{ ...w, lost: status },
		{ ...w, lost: 'dropped connection' },
	]);

/**
 * A write fails (an error the provider answers with, before or after applying it): the error
 * names the provider state and says to run the operation again, and running it again completes.
 * `withdrawRetried` is what the retried withdraw must also report, where a provider knows more.
 */
export async function failThenRetry<Sim extends Injectable>(
	lockdown: LockdownUnderTest<Sim>,
	step: LockdownWrite & { afterHandler: boolean },
	serverError: Fault['response'],
	withdrawRetried: IDataObject = {},
) {
	const { operation, method, path, afterHandler } = step;
	const before = lockdown.snapshot(lockdown.sim);
	if (operation === 'withdraw') await lockdown.run('activate');
	lockdown.sim.inject({ method, path, response: serverError, afterHandler });
	const error = await lockdown.failure!(operation);
	const again = operation === 'activate' ? 'Activate' : 'Withdraw';
	expect(error.description).toMatch(new RegExp(`Provider state: .*Run ${again} again`));
	lockdown.restart?.();
	if (operation === 'activate') {
		expect(await lockdown.run('activate')).toMatchObject({ active: true });
		expect(lockdown.lockdowns()).toHaveLength(1);
		lockdown.lockedDown?.();
		lockdown.restart?.();
		expect(await lockdown.run('withdraw')).toMatchObject({ active: false, changed: true });
	} else {
		expect(await lockdown.run('withdraw')).toMatchObject({ active: false, ...withdrawRetried });
	}
	expect(lockdown.snapshot(lockdown.sim)).toEqual(before);
	lockdown.restored?.();
}

/**
 * A write is applied but its reply is lost: at most one lockdown is left, the next activate
 * finds it rather than making another, and the withdraw after it gives the account back.
 */
export async function loseTheReply<Sim extends Injectable>(
	lockdown: LockdownUnderTest<Sim>,
	{ operation, method, path, lost }: LockdownWrite & { lost: string },
) {
	const before = lockdown.snapshot(lockdown.sim);
	if (operation === 'withdraw') await lockdown.run('activate');
	lockdown.sim.inject({
		method,
		path,
		afterHandler: true,
		drop: lost !== '502',
		response: { status: 502, body: '<html>502 Bad Gateway</html>' },
	});
	await lockdown.run(operation).catch(() => undefined);
	expect(lockdown.lockdowns().length).toBeLessThanOrEqual(1);
	lockdown.afterFailure?.();
	expect(await lockdown.run('activate')).toMatchObject({ active: true });
	expect(lockdown.lockdowns()).toHaveLength(1);
	lockdown.lockedDown?.();
	expect(await lockdown.run('withdraw')).toMatchObject({ active: false });
	expect(lockdown.lockdowns()).toHaveLength(0);
	expect(lockdown.snapshot(lockdown.sim)).toEqual(before);
	lockdown.restored?.();
}

/**
 * Activates, lets `meanwhile` happen, then checks that withdraw reports a change, leaves no
 * lockdown and gives back the account as it was before the activate.
 */
async function withdrawAfter<Sim extends Injectable>(
	lockdown: LockdownUnderTest<Sim>,
	meanwhile: () => unknown,
) {
	const before = lockdown.snapshot(lockdown.sim);
	await lockdown.run('activate');
	await meanwhile();
	expect(await lockdown.run('withdraw')).toMatchObject({ active: false, changed: true });
	expect(lockdown.lockdowns()).toHaveLength(0);
	expect(lockdown.snapshot(lockdown.sim)).toEqual(before);
}

/**
 * An earlier lost reply left a second lockdown (`addDuplicate` makes it): withdraw gives back
 * what every one holds and removes them all.
 */
export const withdrawWithDuplicate = <Sim extends Injectable>(
	lockdown: LockdownUnderTest<Sim>,
	addDuplicate: () => unknown,
) => withdrawAfter(lockdown, addDuplicate);

/**
 * An operator adds a rule to the lockdown (`edit`): activating again changes nothing, and
 * withdraw still gives back the original exactly.
 */
export async function operatorEditsLockdown<Sim extends Injectable>(
	lockdown: LockdownUnderTest<Sim>,
	edit: () => unknown,
) {
	await withdrawAfter(lockdown, async () => {
		edit();
		expect(await lockdown.run('activate')).toMatchObject({ active: true, changed: false });
	});
	lockdown.restored?.();
}
