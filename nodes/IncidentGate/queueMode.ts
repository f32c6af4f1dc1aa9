/**
 * Whether this n8n runs in queue mode, asked of n8n itself: the execution mode in its GlobalConfig,
 * a singleton in n8n's dependency-injection container. `n8n worker` sets it to `queue` even without
 * EXECUTIONS_MODE, and `n8n webhook` refuses to start without it. It is reached through n8n's own
 * module resolution (require.main is n8n's executable), as this package does not depend on n8n;
 * where it cannot be reached, the environment n8n reads is the answer.
 */
export function isQueueMode(): boolean {
	if (process.env.EXECUTIONS_MODE === 'queue') return true;
	try {
		const load = require.main?.require.bind(require.main);
		if (!load) return false;
		const { Container } = load('@n8n/di') as { Container: { get(token: unknown): unknown } };
		const { GlobalConfig } = load('@n8n/config') as { GlobalConfig: unknown };
		const config = Container.get(GlobalConfig) as { executions?: { mode?: string } };
		return config.executions?.mode === 'queue';
	} catch {
		return false;
	}
}
