import { AwsShieldMitigationApi } from '../../../credentials/AwsShieldMitigationApi.credentials';
import { providerRunner } from '../../helpers/fixture';
import { AwsShieldSimulator } from '../../simulators/awsShield';

export const ACCESS_KEY = 'AKIAIOSFODNN7EXAMPLE';
export const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
export const TEMP_KEY = 'ASIAIOSFODNN7TEMPKEY';
export const TEMP_SECRET = 'tempSecretKey/0123456789abcdefghijklmn';
export const SESSION_TOKEN = 'FwoGZXIvYXdzEXAMPLEsessionTOKEN//0123456789';
export const DISTRIBUTION = 'arn:aws:cloudfront::123456789012:distribution/E1A2B3C4D5E6F7';
export const ALB =
	'arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/web/50dc6c495c0c9188';
export const EIP = 'arn:aws:ec2:eu-west-1:123456789012:eip-allocation/eipalloc-0123456789abcdef0';

/**
 * A Shield Advanced account with a CloudFront distribution, an ALB (both with a WAF web ACL) and an
 * Elastic IP.
 */
export async function startShield() {
	const sim = new AwsShieldSimulator();
	sim.addKey(ACCESS_KEY, { secretAccessKey: SECRET });
	sim.addKey(TEMP_KEY, { secretAccessKey: TEMP_SECRET, sessionToken: SESSION_TOKEN });
	sim.addResource(DISTRIBUTION);
	sim.addResource(ALB);
	sim.addResource(EIP, { webAcl: false });
	await sim.start();
	return sim;
}

export const shieldCredentials = (sim: AwsShieldSimulator, extra: Record<string, string> = {}) => ({
	accessKeyId: ACCESS_KEY,
	secretAccessKey: SECRET,
	sessionToken: '',
	baseUrl: sim.baseUrl,
	...extra,
});

export const shieldRun = providerRunner((sim: AwsShieldSimulator) => ({
	type: new AwsShieldMitigationApi(),
	data: shieldCredentials(sim),
	maxAttempts: 3,
}));
