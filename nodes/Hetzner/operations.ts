import type { IDataObject, IExecuteFunctions } from 'n8n-workflow';

import type { ActivationRecord } from '../shared/activationRecords';
import { InputError, ProviderError } from '../shared/errors';
import type { ProviderClient } from '../shared/http';
import type { MitigationProvider, MitigationResult, OperationContext } from '../shared/provider';
import { readLocator } from '../shared/provider';
import { readSettleWait, waitUntilSettled } from '../shared/settle';
import { ipv4, shown } from '../shared/validation';
import { SERVER_HINT, robotApi } from './transport';

export interface ServerTarget {
	/** What the user entered: a server number or the server's main IPv4. */
	server: string;
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

export type FirewallRule = Partial<Record<(typeof RULE_FIELDS)[number], string | null>>;

/** `GET /firewall/{server}` -> `firewall` */
export interface Firewall {
	server_ip: string;
	server_number: number;
	status: 'active' | 'disabled' | 'in process';
	filter_ipv6: boolean;
	whitelist_hos: boolean;
	/** Which interface the firewall filters: main or kvm. */
	port?: string;
	rules: { input?: FirewallRule[] | null; output?: FirewallRule[] | null } | null;
}

interface RobotServer {
	server: {
		server_ip: string | null;
		server_number: number;
		server_name?: string;
		product?: string;
		dc?: string;
	};
}

/** The firewall status before our activation, restored exactly by withdraw. */
interface StatusRecord extends ActivationRecord {
	statusBefore: 'active' | 'disabled';
}

const recordKey = (serverNumber: number) => `hetznerRobotFirewall:${serverNumber}`;

const NO_RULES_WARNING =
	'The firewall is active but has no input rules configured: it filters nothing of yours, ' +
	'so attack traffic is not filtered as intended. Add your rules in Robot > Server > ' +
	'Firewall first (this node switches the firewall on and off; it never writes rules).';

export function validateServer(value: string): ServerTarget {
	const server = value.trim();
	if (/^\d{1,10}$/.test(server) || ipv4.safeParse(server).success) return { server };
	throw new InputError(
		`Invalid server: '${shown(value)}' is neither a Robot server number nor an IPv4 address`,
		SERVER_HINT,
	);
}

/** The server number: as entered, or looked up from its main IPv4 (GET /server). */
async function serverNumber(api: ProviderClient, target: ServerTarget): Promise<number> {
	if (/^\d+$/.test(target.server)) return Number(target.server);
	const response = await api.request<RobotServer[]>({ method: 'GET', path: '/server' });
	const match = (response.body ?? []).find((s) => s.server.server_ip === target.server);
	if (!match) {
		throw new ProviderError(
			`Hetzner Robot has no server whose main IPv4 is ${target.server} in this account`,
			{
				provider: 'Hetzner Robot',
				hint: SERVER_HINT,
			},
		);
	}
	return match.server.server_number;
}

async function readFirewall(api: ProviderClient, server: number): Promise<Firewall> {
	const response = await api.request<{ firewall: Firewall }>({
		method: 'GET',
		path: `/firewall/${server}`,
	});
	const firewall = response.body?.firewall;
	if (!firewall) {
		throw new ProviderError(`Hetzner Robot answered GET /firewall/${server} without a firewall`, {
			provider: 'Hetzner Robot',
			hint:
				"Check the credential's Base URL: it must be the Robot webservice, " +
				'https://robot-ws.your-server.de.',
		});
	}
	// Robot answers `rules: null` for a firewall that never had rules.
	return {
		...firewall,
		rules: { input: firewall.rules?.input ?? [], output: firewall.rules?.output ?? [] },
	};
}

const rulesOf = (firewall: Firewall, direction: 'input' | 'output') =>
	firewall.rules?.[direction] ?? [];

/**
 * Waiting is on by default for Robot: a firewall "in process" cannot be changed, and its status is
 * not final.
 */
export const ROBOT_SETTLE = { on: true, maxWait: 60 };

/** Reads the firewall, waiting (bounded) while Robot is still applying a change. */
async function readSettled(op: OperationContext, server: number, maxWaitMs: number) {
	const result = await waitUntilSettled(
		() => readFirewall(op.api, server),
		(f) => f.status !== 'in process',
		{ maxWaitMs },
	);
	return result.value;
}

/**
 * The whole configuration as a form body: Robot's POST replaces everything, so status, filter_ipv6,
 * whitelist_hos and every input and output rule are re-sent, null fields left out.
 */
export function firewallForm(firewall: Firewall, status: 'active' | 'disabled'): string {
	const form = new URLSearchParams();
	form.append('status', status);
	form.append('filter_ipv6', String(firewall.filter_ipv6));
	form.append('whitelist_hos', String(firewall.whitelist_hos));
	if (firewall.port) form.append('port', firewall.port);
	for (const direction of ['input', 'output'] as const) {
		rulesOf(firewall, direction).forEach((rule, index) => {
			for (const field of RULE_FIELDS) {
				const value = rule[field];
				if (value !== null && value !== undefined)
					form.append(`rules[${direction}][${index}][${field}]`, String(value));
			}
		});
	}
	return form.toString();
}

const comparable = (firewall: Firewall) =>
	JSON.stringify({
		filter_ipv6: firewall.filter_ipv6,
		whitelist_hos: firewall.whitelist_hos,
		port: firewall.port ?? null,
		rules: (['input', 'output'] as const).map((d) =>
			rulesOf(firewall, d).map((rule) => RULE_FIELDS.map((f) => rule[f] ?? null)),
		),
	});

/**
 * Posts the configuration with a new status, then checks that Robot kept every rule and setting.
 */
async function setStatus(
	op: OperationContext,
	before: Firewall,
	status: 'active' | 'disabled',
	maxWaitMs: number,
) {
	const server = before.server_number;
	await op.api.request({
		method: 'POST',
		path: `/firewall/${server}`,
		body: firewallForm(before, status),
		headers: { 'content-type': 'application/x-www-form-urlencoded' },
		// The whole configuration, sent again, has the same effect.
		idempotent: true,
	});
	const after =
		maxWaitMs > 0 ? await readSettled(op, server, maxWaitMs) : await readFirewall(op.api, server);
	if (comparable(after) !== comparable(before)) {
		throw new ProviderError(
			`Hetzner Robot did not keep the firewall rules of server ${server} when its status ` +
				`was set to ${status}`,
			{
				provider: 'Hetzner Robot',
				hint:
					'Compare the firewall in Robot > Server > Firewall with its configuration before ' +
					`the change and restore it there. Before: ${beforeSummary(before)}`,
			},
		);
	}
	return after;
}

/** The configuration as it was, for the user to put back by hand. */
function beforeSummary(firewall: Firewall): string {
	return JSON.stringify({
		status: firewall.status,
		filter_ipv6: firewall.filter_ipv6,
		whitelist_hos: firewall.whitelist_hos,
		port: firewall.port,
		rules: { input: rulesOf(firewall, 'input'), output: rulesOf(firewall, 'output') },
	});
}

function describe(firewall: Firewall): IDataObject {
	const input = rulesOf(firewall, 'input');
	const output = rulesOf(firewall, 'output');
	return {
		serverNumber: firewall.server_number,
		serverIp: firewall.server_ip,
		status: firewall.status,
		filterIpv6: firewall.filter_ipv6,
		whitelistHetznerServices: firewall.whitelist_hos,
		inputRules: input.length,
		outputRules: output.length,
		warnings: firewall.status !== 'disabled' && input.length === 0 ? [NO_RULES_WARNING] : [],
	};
}

const pendingNote = (firewall: Firewall) =>
	firewall.status === 'in process'
		? {
				note:
					'Hetzner Robot is still applying the change (status "in process"); it goes on by ' +
					'itself.',
			}
		: {};

export const hetznerRobotFirewall: MitigationProvider<ServerTarget> = {
	name: 'hetznerRobotFirewall',
	api: robotApi,

	readTarget(ctx: IExecuteFunctions, itemIndex: number, operation: string): ServerTarget {
		if (operation === 'listServers') return { server: '' };
		return validateServer(readLocator(ctx, 'server', itemIndex));
	},

	describeTarget: (target) => target.server,

	operations: {
		async getStatus(target, op): Promise<MitigationResult> {
			const firewall = await readFirewall(op.api, await serverNumber(op.api, target));
			const record = op.records.get<StatusRecord>(recordKey(firewall.server_number));
			return {
				active: firewall.status === 'active',
				changed: false,
				...describe(firewall),
				activatedByThisPackage: record ? record.statusBefore === 'disabled' : null,
			};
		},

		async activate(target, op): Promise<MitigationResult> {
			const maxWaitMs = readSettleWait(op.ctx, op.itemIndex, ROBOT_SETTLE);
			const before = await readSettled(op, await serverNumber(op.api, target), maxWaitMs);
			const key = recordKey(before.server_number);
			if (before.status === 'active') {
				if (!op.records.get(key)) op.records.set(key, { statusBefore: 'active' });
				return {
					active: true,
					changed: false,
					...describe(before),
					note: 'The firewall was already active.',
				};
			}
			if (before.status === 'in process') throw stillInProcess(before);
			op.records.set(key, { statusBefore: 'disabled' });
			const after = await setStatus(op, before, 'active', maxWaitMs);
			return {
				active: after.status !== 'disabled',
				changed: true,
				...describe(after),
				...pendingNote(after),
			};
		},

		async withdraw(target, op): Promise<MitigationResult> {
			const force = op.ctx.getNodeParameter('forceWithdraw', op.itemIndex, false) as boolean;
			const maxWaitMs = readSettleWait(op.ctx, op.itemIndex, ROBOT_SETTLE);
			const before = await readSettled(op, await serverNumber(op.api, target), maxWaitMs);
			const key = recordKey(before.server_number);
			const record = op.records.get<StatusRecord>(key);
			if (before.status === 'disabled') {
				op.records.delete(key);
				return {
					active: false,
					changed: false,
					...describe(before),
					note: 'The firewall was not active.',
				};
			}
			if (before.status === 'in process') throw stillInProcess(before);
			if (record?.statusBefore === 'active' && !force) {
				return {
					active: true,
					changed: false,
					...describe(before),
					note:
						'Left active: the firewall was already active before activation. Turn on "Force ' +
						'Withdraw" to disable it anyway.',
				};
			}
			const after = await setStatus(op, before, 'disabled', maxWaitMs);
			op.records.delete(key);
			return {
				active: after.status === 'active',
				changed: true,
				...describe(after),
				...pendingNote(after),
			};
		},

		async listServers(_target, { api }) {
			const response = await api.request<RobotServer[]>({ method: 'GET', path: '/server' });
			return (response.body ?? []).map(({ server }) => ({
				serverNumber: server.server_number,
				serverIp: server.server_ip,
				serverName: server.server_name ?? '',
				product: server.product ?? '',
				datacenter: server.dc ?? '',
			}));
		},
	},
};

function stillInProcess(firewall: Firewall): ProviderError {
	return new ProviderError(
		'Hetzner Robot is still applying an earlier firewall change on server ' +
			firewall.server_number,
		{
			provider: 'Hetzner Robot',
			hint:
				'Turn on "Wait Until Applied" (or raise Max Wait) so the node waits for Robot to ' +
				'finish, or run it again in a minute.',
		},
	);
}
