import type { INodeType } from 'n8n-workflow';

/**
 * A node as a restarted n8n process loads it: in a fresh module registry, so nothing an earlier run
 * kept in the process (activation records) is there. `modulePath` is under nodes/, e.g.
 * `freshNode('Vultr/VultrFirewall.node', 'VultrFirewall')`.
 */
export function freshNode(modulePath: string, className: string): INodeType {
	let node: INodeType | undefined;
	jest.isolateModules(() => {
		// eslint-disable-next-line @typescript-eslint/no-require-imports -- a fresh registry per restart
		const exports = require(`../../nodes/${modulePath}`) as Record<string, new () => INodeType>;
		node = new exports[className]();
	});
	return node!;
}
