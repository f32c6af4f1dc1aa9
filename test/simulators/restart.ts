/**
 * A node as a restarted n8n process loads it: in a fresh module registry, so nothing an earlier run kept in the
 * process (activation records) is there. `load` must require the node module itself.
 */
export function restartedNode<T>(load: () => T): T {
	let node: T | undefined;
	jest.isolateModules(() => {
		node = load();
	});
	return node!;
}
