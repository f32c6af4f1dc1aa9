import type { IDataObject } from 'n8n-workflow';

import { GobgpApi } from '../../../credentials/GobgpApi.credentials';
import { providerRunner } from '../../helpers/fixture';

/**
 * Run options for the node against the gobgpd API on 127.0.0.1:`port`, with any other credential
 * fields (TLS); one attempt per call.
 */
export const gobgpRun = providerRunner((api: { port: number } & IDataObject) => ({
	type: new GobgpApi(),
	data: { host: '127.0.0.1', ...api },
	maxAttempts: 1,
}));
