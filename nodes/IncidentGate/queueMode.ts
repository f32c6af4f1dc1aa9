/**
 * Whether this n8n runs in queue mode, asked of n8n itself: its GlobalConfig (the `worker` command
 * switches `executions.mode` to `queue` even without EXECUTIONS_MODE) and its InstanceSettings
 * (`worker` and `webhook` processes exist only in queue mode), both singletons in n8n's
 * dependency-injection container. They are reached through n8n's own module resolution
 * (require.main is n8n's executable), as this package does not depend on n8n; where they cannot be
 * reached, the environment n8n reads is the answer.
 */
export function isQueueMode(): boolean {
	if (process.env.EXECUTIONS_MODE === 'queue') return true;
	try {
		const load = require.main?.require.bind(require.main);
		if (!load) return false;
		const { Container } = load('@n8n/di') as { Container: { get(token: unknown): unknown } };
		const { GlobalConfig } = load('@n8n/config') as { GlobalConfig: unknown };
		const { InstanceSettings } = load('n8n-core') as { InstanceSettings: unknown };
		const config = Container.get(GlobalConfig) as { executions?: { mode?: string } };
		const instance = Container.get(InstanceSettings) as { instanceType?: string };
		return (
			config.executions?.mode === 'queue' ||
			instance.instanceType === 'worker' ||
			instance.instanceType === 'webhook'
		);
	} catch {
		return false;
	}
}
