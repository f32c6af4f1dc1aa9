import { PagerDutyMitigationApi } from '../../../credentials/PagerDutyMitigationApi.credentials';
import {
	PagerDutyIncidentTrigger,
	forgetProcessSubscriptions,
} from '../../../nodes/PagerDuty/PagerDutyIncidentTrigger.node';
import type { IDataObject } from 'n8n-workflow';
import { PagerDutySimulator } from '../../simulators/pagerDuty';
import type { TriggerOptions } from '../../helpers/runWebhook';

export const TOKEN = 'u+pd-test-token-0123456789';
export const SERVICE = 'PEDGE01';
export const OTHER_SERVICE = 'PCORE02';
export const TEAM = 'PNETOPS';

export const trigger = new PagerDutyIncidentTrigger();

/** A PagerDuty account with two services and a team. */
export async function startPagerDuty(): Promise<PagerDutySimulator> {
	forgetProcessSubscriptions();
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
		...extra,
	};
}
