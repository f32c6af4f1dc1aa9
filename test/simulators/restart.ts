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

/** The node under test, loaded fresh for every test; `restart()` reloads it mid-test. */
export type RestartableNode = INodeType & { restart(): void };

/**
 * A node that every test gets freshly loaded (nothing kept in the process from the test before),
 * and that a test can `restart()` to play an n8n restart between two runs.
 */
export function restartableNode(modulePath: string, className: string): RestartableNode {
	let current = freshNode(modulePath, className);
	const restart = () => {
		current = freshNode(modulePath, className);
	};
	beforeEach(restart);
	return new Proxy({} as RestartableNode, {
		get: (_target, property) => (property === 'restart' ? restart : Reflect.get(current, property)),
	});
}
