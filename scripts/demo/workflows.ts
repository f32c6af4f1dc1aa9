import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

import { detectorCredential, type DemoCredential, type DemoSimulator } from './simulators';

/**
 * The examples/ workflows as the demo imports them: each provider node pointed at the simulator's
 * resource (as a user picks their own in the editor), every credential reference pointed at one
 * "(demo simulator)" credential per type, and hold-downs of seconds instead of minutes. The example
 * files themselves stay realistic.
 */

const PACKAGE_PREFIX = 'n8n-nodes-ddos-mitigation.';

export interface WorkflowNode {
	name: string;
	type: string;
	parameters: Record<string, unknown>;
	credentials?: Record<string, { id: string; name: string }>;
	webhookId?: string;
}

export interface DemoWorkflow {
	id: string;
	name: string;
	nodes: WorkflowNode[];
	connections: Record<string, { main?: Array<Array<{ node: string }> | null> }>;
	[key: string]: unknown;
}

export interface DemoTimings {
	withdrawDelaySeconds: number;
	tickSeconds: number;
}

export type ImportedCredential = DemoCredential & { id: string };

const credentialId = (type: string) => `demo${type[0].toUpperCase()}${type.slice(1)}`;

/**
 * A literal target (not an expression, not left empty for the node's default) is replaced by the
 * simulator's.
 */
function retarget(node: WorkflowNode, targets: Record<string, string>): void {
	const isLiteral = (value: unknown): value is string =>
		typeof value === 'string' && value !== '' && !value.startsWith('=');
	for (const [parameter, id] of Object.entries(targets)) {
		const saved = node.parameters[parameter];
		if (isLiteral(saved)) node.parameters[parameter] = id;
		else if (
			typeof saved === 'object' &&
			saved !== null &&
			'__rl' in saved &&
			isLiteral((saved as { value?: unknown }).value)
		) {
			node.parameters[parameter] = { ...saved, value: id };
		}
	}
}

/**
 * Only gates that already hold down get the short delay: one without a hold-down has no Tick to
 * release it.
 */
function shortenTimings(workflow: DemoWorkflow, timings: DemoTimings): void {
	const ticks = new Set(
		workflow.nodes
			.filter(
				(n) => n.type === `${PACKAGE_PREFIX}incidentGate` && n.parameters.operation === 'tick',
			)
			.map((n) => n.name),
	);
	for (const node of workflow.nodes) {
		const options = node.parameters.options as Record<string, unknown> | undefined;
		if (
			node.type === `${PACKAGE_PREFIX}incidentGate` &&
			options?.withdrawDelaySeconds !== undefined
		) {
			node.parameters.options = { ...options, withdrawDelaySeconds: timings.withdrawDelaySeconds };
		}
		const feeds = (workflow.connections[node.name]?.main ?? []).flat().map((c) => c?.node);
		if (
			node.type === 'n8n-nodes-base.scheduleTrigger' &&
			feeds.some((name) => name !== undefined && ticks.has(name))
		) {
			node.parameters.rule = {
				interval: [{ field: 'seconds', secondsInterval: timings.tickSeconds }],
			};
		}
	}
}

export function demoWorkflows(
	examplesDir: string,
	simulators: DemoSimulator[],
	timings: DemoTimings,
) {
	const credentials: ImportedCredential[] = [
		...simulators.map((s) => s.credential),
		detectorCredential,
	].map((c) => ({ ...c, id: credentialId(c.type) }));
	const byType = new Map(credentials.map((c) => [c.type, c]));
	const examples: Array<{ file: string; workflow: DemoWorkflow }> = [];
	const skipped: string[] = [];

	const files = readdirSync(examplesDir)
		.filter((f) => f.endsWith('.json'))
		.sort();
	for (const [index, file] of files.entries()) {
		const example = JSON.parse(readFileSync(join(examplesDir, file), 'utf8')) as DemoWorkflow;
		const workflow: DemoWorkflow = {
			...example,
			id: `demoExample${String(index + 1).padStart(2, '0')}`,
		};
		const missing = workflow.nodes
			.flatMap((n) => Object.keys(n.credentials ?? {}))
			.filter((type) => !byType.has(type));
		if (missing.length > 0) {
			skipped.push(`${file} (no simulator for ${[...new Set(missing)].join(', ')})`);
			continue;
		}
		for (const node of workflow.nodes) {
			const simulator = simulators.find(
				(s) =>
					node.type.startsWith(PACKAGE_PREFIX) && s.targets[node.type.slice(PACKAGE_PREFIX.length)],
			);
			if (simulator) {
				const type = node.type.slice(PACKAGE_PREFIX.length);
				retarget(node, simulator.exampleTargets?.[file]?.[type] ?? simulator.targets[type]);
			}
			for (const type of Object.keys(node.credentials ?? {})) {
				const credential = byType.get(type)!;
				node.credentials![type] = { id: credential.id, name: credential.name };
			}
		}
		shortenTimings(workflow, timings);
		examples.push({ file, workflow });
	}
	return { examples, credentials, skipped };
}
