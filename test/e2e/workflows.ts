import { randomUUID } from 'node:crypto';

/** Builds n8n workflow JSON the way the editor saves it, for import with `n8n import:workflow`. */

export interface WorkflowNode {
	name: string;
	type: string;
	typeVersion?: number;
	parameters: Record<string, unknown>;
	credentials?: Record<string, { id: string; name: string }>;
	/**
	 * Trigger nodes need one for their production URL (/webhook/<webhookId>/<path>), as the editor
	 * sets.
	 */
	webhookId?: string;
	/** The node's Settings > On Error, e.g. 'continueRegularOutput' (continueOnFail). */
	onError?: string;
}

export const PACKAGE = 'n8n-nodes-ddos-mitigation';

/**
 * A provider's credential as the end-to-end tests store it in n8n, pointing at the provider's
 * simulator: `credential` for importing and testing it (with its data), `credentials` for the nodes
 * that use it.
 */
export function simulatorCredential(type: string, id: string, provider: string) {
	const name = `${provider} (simulator)`;
	return { credential: { id, name, type }, credentials: { [type]: { id, name } } };
}

/** One of this package's nodes, with the default request options. */
export function packageNode(
	name: string,
	nodeType: string,
	parameters: Record<string, unknown>,
	credentials: WorkflowNode['credentials'],
): WorkflowNode {
	return {
		name,
		type: `${PACKAGE}.${nodeType}`,
		parameters: { ...parameters, requestOptions: {} },
		credentials,
	};
}

/** A resource locator value as the editor saves it (`By ID` unless another mode is named). */
export const locator = (value: string, mode = 'id') => ({ __rl: true, mode, value });

export function webhook(name: string, path: string): WorkflowNode {
	return {
		name,
		type: 'n8n-nodes-base.webhook',
		typeVersion: 2,
		parameters: {
			httpMethod: 'POST',
			path,
			responseMode: 'lastNode',
			responseData: 'allEntries',
			options: {},
		},
	};
}

/** A workflow of chains: each chain is a list of nodes connected one after another. */
export function workflow(id: string, name: string, chains: WorkflowNode[][]) {
	const connections: Record<
		string,
		{ main: Array<Array<{ node: string; type: 'main'; index: number }>> }
	> = {};
	const nodes = chains.flatMap((chain, row) =>
		chain.map((node, column) => {
			const next = chain[column + 1];
			if (next) connections[node.name] = { main: [[{ node: next.name, type: 'main', index: 0 }]] };
			return {
				id: randomUUID(),
				webhookId: node.type === 'n8n-nodes-base.webhook' ? randomUUID() : undefined,
				typeVersion: 1,
				position: [column * 220, row * 200],
				...node,
			};
		}),
	);
	return {
		id,
		name,
		nodes,
		connections,
		active: false,
		settings: { executionOrder: 'v1' },
		pinData: {},
	};
}

/**
 * A firewall lockdown in two workflows, as when an alert workflow locks down and a person (or
 * another workflow) lifts it later: only what the provider holds connects the two. Webhooks
 * `<prefix>-activate` and `<prefix>-withdraw`; `more` adds chains to the lockdown workflow.
 */
export function lockdownAndRestore(
	prefix: string,
	provider: string,
	node: (operation: string) => WorkflowNode,
	activate: WorkflowNode = node('activate'),
	...more: WorkflowNode[][]
) {
	return [
		workflow(`${prefix}Lockdown00001`, `${provider} lockdown`, [
			[webhook('Activate', `${prefix}-activate`), activate],
			...more,
		]),
		workflow(`${prefix}Restore000001`, `${provider} restore`, [
			[webhook('Withdraw', `${prefix}-withdraw`), node('withdraw')],
		]),
	];
}

export async function postJson(
	url: string,
	body: unknown = {},
): Promise<{ status: number; json: unknown }> {
	const response = await fetch(url, {
		method: 'POST',
		headers: { 'content-type': 'application/json' },
		body: JSON.stringify(body),
	});
	const text = await response.text();
	let json: unknown = text;
	try {
		json = JSON.parse(text);
	} catch {
		// keep text
	}
	return { status: response.status, json };
}
