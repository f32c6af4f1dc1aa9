import type { ApiResponse, FailureDescription, ProviderApiSpec } from '../shared/http';

/** Robot error body: `{"error": {status, code, message, invalid?, max_request?, interval?}}`. */
interface RobotError {
	error?: {
		status?: number;
		code?: string;
		message?: string;
		invalid?: string[];
		interval?: number;
	};
}

export const ROBOT_LOGIN_HINT =
	'Use the Robot webservice login (robot.hetzner.com > Settings > Webservice and app ' +
	'settings), whose username starts with #ws+, and its password. Hetzner Cloud API tokens ' +
	'and your Hetzner account login do not work with Robot. Not retried: three failed logins ' +
	"block this n8n host's IP for ten minutes.";

export const SERVER_HINT =
	"Use the server number shown in Robot (e.g. 321) or the server's main IPv4 address, not " +
	'a failover, additional or floating IP; pick the server from the list to be sure.';

export function describeRobotFailure(response: ApiResponse): FailureDescription {
	const error = (response.body as RobotError | null)?.error ?? {};
	const common = { providerCode: error.code, providerMessage: error.message };
	switch (error.code) {
		case 'RATE_LIMIT_EXCEEDED':
			// Robot's rate limit is a 403; it is retried like a 429.
			return {
				...common,
				retryable: true,
				// Robot says over how many seconds it counts requests; retrying sooner fails the same way.
				retryAfterMs: error.interval ? error.interval * 1000 : undefined,
				message: 'Hetzner Robot rate limit reached (RATE_LIMIT_EXCEEDED)',
				hint:
					'Robot allows a limited number of requests per ' +
					(error.interval ? `${error.interval} s` : 'hour') +
					'; ' +
					'the request is retried with backoff. Raise Max Retry Time under Options, or run ' +
					'fewer changes.',
			};
		case 'FIREWALL_IN_PROCESS':
			return {
				...common,
				retryable: true,
				message: 'Hetzner Robot is still applying an earlier firewall change (FIREWALL_IN_PROCESS)',
				hint:
					'The change is retried with backoff until Robot has finished; raise Max Retry Time ' +
					'under Options if this persists.',
			};
		case 'SERVER_NOT_FOUND':
			return {
				...common,
				message: 'Hetzner Robot has no such server in this account (SERVER_NOT_FOUND)',
				hint: SERVER_HINT,
			};
		case 'FIREWALL_NOT_AVAILABLE':
			return {
				...common,
				message:
					'The Hetzner Robot firewall is not available for this server (FIREWALL_NOT_AVAILABLE)',
				hint:
					'Robot offers its stateless firewall only for dedicated root servers; check the ' +
					'Firewall tab of the server in Robot.',
			};
		case 'INVALID_INPUT':
			return {
				...common,
				message:
					'Hetzner Robot refused the firewall configuration (INVALID_INPUT' +
					(error.invalid?.length ? `: ${error.invalid.join(', ')}` : '') +
					')',
				hint:
					'Check the firewall rules in Robot; the node re-sends them exactly as Robot ' +
					'returned them.',
			};
	}
	if (response.status === 401 || error.code === 'UNAUTHORIZED') {
		return {
			...common,
			retryable: false,
			message: 'Hetzner Robot rejected the login (401)',
			hint: ROBOT_LOGIN_HINT,
		};
	}
	if (response.status === 404)
		return {
			...common,
			message: `Hetzner Robot could not find it: ${error.message ?? 'not found'}`,
			hint: SERVER_HINT,
		};
	return {
		...common,
		message:
			`Hetzner Robot answered HTTP ${response.status}` +
			(error.message ? `: ${error.message}` : '') +
			(error.code ? ` (${error.code})` : ''),
	};
}

export const robotApi: ProviderApiSpec = {
	provider: 'Hetzner Robot',
	credentialType: 'hetznerRobotMitigationApi',
	defaultBaseUrl: 'https://robot-ws.your-server.de',
	describeFailure: describeRobotFailure,
};
