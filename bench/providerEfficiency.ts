import { readdirSync } from 'node:fs';
import { join } from 'node:path';

import type { IDataObject, INodeType } from 'n8n-workflow';

import { runNode, type RunOptions } from '../test/helpers/runNode';
import type { Simulator } from '../test/simulators/framework';
import type { Section, SectionResult } from './section';

/**
 * Provider efficiency: API calls per activate and per withdraw for every provider node, and the
 * writes made by an idempotent repeat (the contract says none), counted from the simulators'
 * request logs. Each provider node has a scenario in bench/providers/; a provider node in nodes/
 * without one is reported, so none is left out silently.
 */

export type MitigationOperation = 'activate' | 'withdraw';

/** A provider simulator, started with the target in its normal (unmitigated) state. */
export interface ProviderHarness {
	/** Requests the provider has received so far. */
	requests(): number;
	/** Of those, the ones that changed the provider's state. */
	writes(): number;
	/** Node parameters and credentials for one operation on the target. */
	options(operation: MitigationOperation): RunOptions;
	stop(): Promise<void>;
}

/**
 * What each bench/providers/<provider>.ts exports as `scenarios`: at least one per provider node.
 */
export interface ProviderScenario {
	node: INodeType;
	/** Tells apart several scenarios of one node (e.g. its activation modes) in the table. */
	label?: string;
	start(): Promise<ProviderHarness>;
}

/**
 * The usual harness: the simulator's log counts the requests, its writes() the changes (unless
 * given otherwise).
 */
export function simulatorHarness(
	sim: Simulator,
	options: ProviderHarness['options'],
	writes = () => sim.writes().length,
): ProviderHarness {
	return { requests: () => sim.log.length, writes, options, stop: async () => await sim.stop() };
}

interface Step {
	requests: number;
	writes: number;
	changed: unknown;
}

interface NodeFigures {
	activate: Step;
	repeatedActivate: Step;
	withdraw: Step;
	repeatedWithdraw: Step;
}

const ROOT = join(__dirname, '..');

function filesUnder(dir: string, suffix: string): string[] {
	return readdirSync(dir, { recursive: true, encoding: 'utf8' })
		.filter((file) => file.endsWith(suffix))
		.sort()
		.map((file) => join(dir, file));
}

function isProviderNode(node: INodeType): boolean {
	const operation = node.description.properties.find((p) => p.name === 'operation');
	const values = (operation?.options ?? []).map((option) =>
		'value' in option ? option.value : undefined,
	);
	return values.includes('activate') && values.includes('withdraw');
}

/**
 * Every provider node class in nodes/, instantiated: the nodes that follow the activate/withdraw
 * contract.
 */
function providerNodes(): INodeType[] {
	return (
		filesUnder(join(ROOT, 'nodes'), '.node.ts')
			// eslint-disable-next-line @typescript-eslint/no-require-imports -- files found at run time
			.flatMap((file) => Object.values(require(file) as Record<string, unknown>))
			.filter((exported): exported is new () => INodeType => typeof exported === 'function')
			.filter((exported) => /^class\b/.test(Function.prototype.toString.call(exported)))
			.map((NodeClass) => new NodeClass())
			.filter(isProviderNode)
	);
}

function scenariosByNodeName(): Map<string, ProviderScenario[]> {
	const byName = new Map<string, ProviderScenario[]>();
	for (const file of filesUnder(join(__dirname, 'providers'), '.ts')) {
		// eslint-disable-next-line @typescript-eslint/no-require-imports -- files found at run time
		for (const scenario of (require(file) as { scenarios: ProviderScenario[] }).scenarios) {
			const name = scenario.node.description.name;
			byName.set(name, [...(byName.get(name) ?? []), scenario]);
		}
	}
	return byName;
}

/**
 * activate, activate again, withdraw, withdraw again: one workflow's executions, sharing its static
 * data.
 */
async function measure(scenario: ProviderScenario): Promise<NodeFigures> {
	const provider = await scenario.start();
	const staticData: IDataObject = {};
	const step = async (operation: MitigationOperation): Promise<Step> => {
		const [requests, writes] = [provider.requests(), provider.writes()];
		const { output } = await runNode(scenario.node, { ...provider.options(operation), staticData });
		return {
			requests: provider.requests() - requests,
			writes: provider.writes() - writes,
			changed: output[0][0]?.json.changed,
		};
	};
	try {
		return {
			activate: await step('activate'),
			repeatedActivate: await step('activate'),
			withdraw: await step('withdraw'),
			repeatedWithdraw: await step('withdraw'),
		};
	} finally {
		await provider.stop();
	}
}

/** The promises a measurement must keep; a scenario that changes nothing would measure nothing. */
function brokenPromises(name: string, figures: NodeFigures): string[] {
	const failures: string[] = [];
	if (figures.activate.changed !== true)
		failures.push(`${name}: the first activate did not change anything (check its scenario)`);
	if (figures.withdraw.changed !== true)
		failures.push(`${name}: the first withdraw did not change anything (check its scenario)`);
	if (figures.repeatedActivate.writes > 0)
		failures.push(`${name}: a repeated activate made ${figures.repeatedActivate.writes} write(s)`);
	if (figures.repeatedWithdraw.writes > 0)
		failures.push(`${name}: a repeated withdraw made ${figures.repeatedWithdraw.writes} write(s)`);
	return failures;
}

async function run(): Promise<SectionResult> {
	const scenarios = scenariosByNodeName();
	const rows: SectionResult['table']['rows'] = [];
	const figures: Record<string, NodeFigures> = {};
	const failures: string[] = [];
	for (const node of providerNodes()) {
		const name = node.description.name;
		const nodeScenarios = scenarios.get(name) ?? [];
		if (nodeScenarios.length === 0) {
			failures.push(`${name}: no scenario in bench/providers/`);
			rows.push([name, '-', '-', '-', '-', 'no scenario']);
			continue;
		}
		for (const scenario of nodeScenarios) {
			const row = scenario.label ? `${name} (${scenario.label})` : name;
			const measured = await measure(scenario);
			const broken = brokenPromises(row, measured);
			figures[row] = measured;
			failures.push(...broken);
			const { activate, repeatedActivate, withdraw, repeatedWithdraw } = measured;
			rows.push([
				row,
				`${activate.requests} (${activate.writes})`,
				`${withdraw.requests} (${withdraw.writes})`,
				`${repeatedActivate.requests} (${repeatedActivate.writes})`,
				`${repeatedWithdraw.requests} (${repeatedWithdraw.writes})`,
				broken.length === 0 ? 'ok' : 'FAILED',
			]);
		}
	}
	return {
		table: {
			columns: [
				'Provider node',
				'Activate',
				'Withdraw',
				'Activate again',
				'Withdraw again',
				'Idempotent',
			],
			rows,
		},
		figures,
		failures,
		notes: [
			'API calls (of which writes) per operation, counted by the provider simulators; ' +
				'"again" repeats it in the same workflow.',
		],
	};
}

export const providerEfficiency: Section = {
	id: 'provider-efficiency',
	title: 'Provider efficiency',
	run,
};
