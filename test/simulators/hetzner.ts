import { Simulator, type SimRequest, type SimResponse } from './framework';

/**
 * Hetzner Robot webservice as the Hetzner node uses it: HTTP Basic with a webservice user, servers,
 * and the stateless firewall. Like the real API (as reported by ansible community.hrobot and
 * hrobot-rs), a POST replaces the whole configuration: settings and rules that are not re-sent are
 * reset or cleared. A change answers "in process" and settles after a few reads; a POST meanwhile
 * gets 409 FIREWALL_IN_PROCESS.
 */

export type SimRule = Partial<
	Record<
		| 'ip_version'
		| 'name'
		| 'dst_ip'
		| 'src_ip'
		| 'dst_port'
		| 'src_port'
		| 'protocol'
		| 'tcp_flags'
		| 'action',
		string | null
	>
>;

export interface SimFirewall {
	server_ip: string;
	server_number: number;
	status: 'active' | 'disabled' | 'in process';
	filter_ipv6: boolean;
	whitelist_hos: boolean;
	port: string;
	rules: { input: SimRule[]; output: SimRule[] };
	/** Status being applied while "in process", and reads left until it is. */
	pending?: { status: 'active' | 'disabled'; reads: number };
}

const RULE_FIELDS = [
	'ip_version',
	'name',
	'dst_ip',
	'src_ip',
	'dst_port',
	'src_port',
	'protocol',
	'tcp_flags',
	'action',
] as const;

const robotError = (
	status: number,
	code: string,
	message: string,
	extra: Record<string, unknown> = {},
): SimResponse => ({
	status,
	body: { error: { status, code, message, ...extra } },
});

export class HetznerSimulator extends Simulator {
	protected readonly prefix = '';
	readonly users = new Map<string, string>();
	readonly servers = new Map<
		number,
		{ server_ip: string; server_name: string; firewall?: SimFirewall }
	>();
	/** Failed logins; Robot blocks the caller after three. */
	failedLogins = 0;
	/** Requests to the firewall (reads or writes) before an "in process" change settles. */
	settleAfterReads = 1;
	/** Runs after a POST was applied: lets a test play a Robot that changes what it was sent. */
	afterPost?: (firewall: SimFirewall) => void;

	constructor() {
		super();
		this.route('GET', '/server', () => ({
			status: 200,
			body: [...this.servers.entries()].map(([number, s]) => ({
				server: {
					server_ip: s.server_ip,
					server_ipv6_net: '2001:db8:1:2::',
					server_number: number,
					server_name: s.server_name,
					product: 'AX41-NVMe',
					dc: 'FSN1-DC14',
					status: 'ready',
				},
			})),
		}));
		this.route('GET', '/firewall/:server', (req) =>
			this.withFirewall(req, (firewall) => ({ status: 200, body: { firewall: view(firewall) } })),
		);
		this.route('POST', '/firewall/:server', (req) =>
			this.withFirewall(req, (firewall) => {
				if (firewall.pending)
					return robotError(
						409,
						'FIREWALL_IN_PROCESS',
						'The firewall cannot be updated because an update is in process',
					);
				const form = req.body instanceof URLSearchParams ? req.body : new URLSearchParams();
				const status = form.get('status');
				if (status !== 'active' && status !== 'disabled')
					return robotError(400, 'INVALID_INPUT', 'Invalid input parameters', {
						invalid: ['status'],
					});
				const rules = parseRules(form);
				if (typeof rules === 'string')
					return robotError(400, 'INVALID_INPUT', 'Invalid input parameters', { invalid: [rules] });
				// The whole configuration is replaced: what is not sent is reset.
				firewall.filter_ipv6 = form.get('filter_ipv6') === 'true';
				firewall.whitelist_hos = form.get('whitelist_hos') === 'true';
				const port = form.get('port');
				if (port !== null && port !== 'main' && port !== 'kvm')
					return robotError(400, 'INVALID_INPUT', 'Invalid input parameters', {
						invalid: ['port'],
					});
				firewall.port = port ?? 'main';
				firewall.rules = rules;
				firewall.pending = { status, reads: this.settleAfterReads };
				firewall.status = 'in process';
				this.afterPost?.(firewall);
				return { status: 200, body: { firewall: view(firewall) } };
			}),
		);
	}

	addUser(username: string, password: string): void {
		this.users.set(username, password);
	}

	addServer(number: number, serverIp: string, firewall: Partial<SimFirewall> | null = {}): void {
		this.servers.set(number, {
			server_ip: serverIp,
			server_name: `server-${number}`,
			firewall:
				firewall === null
					? undefined
					: {
							server_ip: serverIp,
							server_number: number,
							status: 'disabled',
							filter_ipv6: false,
							whitelist_hos: true,
							port: 'main',
							rules: { input: [], output: [] },
							...firewall,
						},
		});
	}

	firewall(number: number): SimFirewall {
		return this.servers.get(number)!.firewall!;
	}

	protected authenticate(req: SimRequest): SimResponse | undefined {
		const match = /^Basic (.+)$/.exec(req.headers.authorization ?? '');
		const [username, ...rest] = match
			? Buffer.from(match[1], 'base64').toString('utf8').split(':')
			: [];
		if (!username || this.users.get(username) !== rest.join(':')) {
			this.failedLogins++;
			return robotError(401, 'UNAUTHORIZED', 'Unauthorized');
		}
		return undefined;
	}

	protected notFound(req: SimRequest): SimResponse {
		return robotError(404, 'NOT_FOUND', `Not found: ${req.path}`);
	}

	private withFirewall(
		req: SimRequest,
		handler: (firewall: SimFirewall) => SimResponse,
	): SimResponse {
		const key = req.params.server;
		// Robot also accepts the main IPv4 here (deprecated); the node uses server numbers.
		const entry = /^\d+$/.test(key)
			? this.servers.get(Number(key))
			: [...this.servers.values()].find((s) => s.server_ip === key);
		if (!entry) return robotError(404, 'SERVER_NOT_FOUND', 'Server not found');
		if (!entry.firewall)
			return robotError(404, 'FIREWALL_NOT_AVAILABLE', 'Firewall not available for this server');
		settle(entry.firewall);
		return handler(entry.firewall);
	}
}

function settle(firewall: SimFirewall): void {
	if (firewall.pending && firewall.pending.reads-- <= 0) {
		firewall.status = firewall.pending.status;
		firewall.pending = undefined;
	}
}

function view(firewall: SimFirewall) {
	const { pending: _pending, ...rest } = firewall;
	return structuredClone(rest);
}

/**
 * `rules[input][0][name]=...` form fields into rule lists; a rule field outside the known ones is
 * invalid input.
 */
function parseRules(form: URLSearchParams): SimFirewall['rules'] | string {
	const rules: SimFirewall['rules'] = { input: [], output: [] };
	for (const [key, value] of form.entries()) {
		if (!key.startsWith('rules')) continue;
		const match = /^rules\[(input|output)\]\[(\d+)\]\[(\w+)\]$/.exec(key);
		if (!match || !(RULE_FIELDS as readonly string[]).includes(match[3])) return key;
		const list = rules[match[1] as 'input' | 'output'];
		const index = Number(match[2]);
		list[index] ??= {};
		list[index][match[3] as (typeof RULE_FIELDS)[number]] = value;
	}
	// Robot stores every field, null where none was sent.
	for (const list of [rules.input, rules.output]) {
		for (let i = 0; i < list.length; i++) {
			list[i] = Object.fromEntries(RULE_FIELDS.map((f) => [f, list[i]?.[f] ?? null]));
		}
	}
	return rules;
}
