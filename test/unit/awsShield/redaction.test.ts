import { AwsShieldMitigationApi } from '../../../credentials/AwsShieldMitigationApi.credentials';
import { simulatorPerTest } from '../../helpers/fixture';
import { continueOnFailOutput, failureOf, shownText, type RunOptions } from '../../helpers/runNode';
import { freshNode } from '../../simulators/restart';
import {
	DISTRIBUTION,
	SESSION_TOKEN,
	TEMP_KEY,
	TEMP_SECRET,
	shieldCredentials,
	startShield,
} from './fixture';

const node = freshNode('AwsShield/AwsShieldAdvanced.node', 'AwsShieldAdvanced');
const sim = simulatorPerTest(startShield);

const wrongSecretRun = (): RunOptions => ({
	parameters: { operation: 'getStatus', resourceArn: DISTRIBUTION, requestOptions: {} },
	credentials: {
		awsShieldMitigationApi: shieldCredentials(sim, {
			accessKeyId: TEMP_KEY,
			// The wrong secret: AWS answers with the canonical request, session token line included.
			secretAccessKey: `${TEMP_SECRET}-rotated`,
			sessionToken: SESSION_TOKEN,
		}),
	},
	credentialTypes: [new AwsShieldMitigationApi()],
	staticData: {},
});

describe('AWS Shield: no credential in errors', () => {
	it('a signature mismatch quoting x-amz-security-token shows neither the token nor the key', async () => {
		const error = await failureOf(node, wrongSecretRun());
		expect(error.message).toMatch(/does not match the signature you provided/);
		const shown = shownText(error);
		expect(shown).toContain('x-amz-security-token:[redacted]');
		for (const secret of [SESSION_TOKEN, TEMP_KEY, TEMP_SECRET])
			expect(shown).not.toContain(secret);
	});

	it('nor in the output item under Continue On Fail', async () => {
		const shown = await continueOnFailOutput(node, wrongSecretRun());
		expect(shown).toMatch(/does not match/);
		for (const secret of [SESSION_TOKEN, TEMP_KEY]) expect(shown).not.toContain(secret);
	});
});
