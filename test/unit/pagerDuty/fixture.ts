import { PagerDutyMitigationApi } from '../../../credentials/PagerDutyMitigationApi.credentials';
import type { PagerDutyIncidentTrigger } from '../../../nodes/PagerDuty/PagerDutyIncidentTrigger.node';
import type { PagerDutySubscriptionCheck } from '../../../nodes/PagerDuty/PagerDutySubscriptionCheck.node';
import type { IDataObject } from 'n8n-workflow';
import { PagerDutySimulator } from '../../simulators/pagerDuty';
import type { TriggerOptions } from '../../helpers/runWebhook';

export const TOKEN = 'u+pd-test-token-0123456789';
export const SERVICE = 'PEDGE01';
export const OTHER_SERVICE = 'PCORE02';
export const TEAM = 'PNETOPS';

/**
 * The trigger and the check node as one n8n process loads them: their in-process state is shared,
 * and a new call starts from nothing, as after an n8n restart.
 */
export function freshProcess(): {
	trigger: PagerDutyIncidentTrigger;
	check: PagerDutySubscriptionCheck;
} {
	let loaded: ReturnType<typeof freshProcess> | undefined;
	jest.isolateModules(() => {
		/* eslint-disable @typescript-eslint/no-require-imports */
		const triggerModule = require('../../../nodes/PagerDuty/PagerDutyIncidentTrigger.node');
		const checkModule = require('../../../nodes/PagerDuty/PagerDutySubscriptionCheck.node');
		/* eslint-enable @typescript-eslint/no-require-imports */
		loaded = {
			trigger: new triggerModule.PagerDutyIncidentTrigger(),
			check: new checkModule.PagerDutySubscriptionCheck(),
		};
	});
	return loaded!;
}

/** A PagerDuty account with two services and a team. */
export async function startPagerDuty(): Promise<PagerDutySimulator> {
	const sim = new PagerDutySimulator();
	sim.tokens.add(TOKEN);
	sim.services.set(SERVICE, { id: SERVICE, name: 'Edge network' });
	sim.services.set(OTHER_SERVICE, { id: OTHER_SERVICE, name: 'Core network' });
	sim.teams.set(TEAM, { id: TEAM, name: 'Network operations' });
	await sim.start();
	return sim;
}

export const rl = (value: string) => ({ __rl: true, mode: 'id', value });

export function triggerOptions(
	sim: PagerDutySimulator,
	parameters: Record<string, unknown> = {},
	extra: Partial<TriggerOptions> & { staticData?: IDataObject } = {},
): TriggerOptions {
	return {
		parameters: { filterType: 'service', serviceId: rl(SERVICE), ...parameters },
		credentials: { pagerDutyMitigationApi: { apiToken: TOKEN, baseUrl: sim.baseUrl } },
		credentialTypes: [new PagerDutyMitigationApi()],
		staticData: {},
		globalStaticData: {},
		...extra,
	};
}
