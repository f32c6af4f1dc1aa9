import type { IDataObject, IExecuteFunctions, INodeProperties } from 'n8n-workflow';
import { z } from 'zod';

import { InputError, ProviderError } from './errors';
import { cidr, parseCidr, portRange, splitList, validate } from './validation';

/**
 * What the three firewall lockdown nodes (DigitalOcean, Linode, Vultr) share: the management access
 * that stays open during a lockdown, the withdraw options (explicit configuration, fallback),
 * "protects nothing" warnings, and step-by-step changes whose failure says what state the provider
 * was left in.
 */

/** A management source, split for providers that keep IPv4 and IPv6 apart. */
export interface ManagementSource {
	/** As the user typed it, normalized to address/length. */
	cidr: string;
	address: string;
	prefixLength: number;
	version: 4 | 6;
}

export interface LockdownOptions {
	/**
	 * Empty when the user left Management Sources empty: take them from the firewall (see
	 * withManagementAccess).
	 */
	sources: ManagementSource[];
	/** TCP ports or ranges ("22", "8000-8100") that stay open from the sources. */
	ports: string[];
}

export const ANYWHERE = '0.0.0.0/0, ::/0';

/** Activate options: what stays reachable during the lockdown. */
export const managementProperties: INodeProperties[] = [
	{
		displayName: 'Management Sources',
		name: 'managementSources',
		type: 'string',
		default: '',
		placeholder: 'e.g. 198.51.100.0/24, 2001:db8:aa::/48',
		displayOptions: { show: { operation: ['activate'] } },
		description:
			'IPv4/IPv6 addresses or CIDR blocks (comma separated) that keep access to the ' +
			'management ports during the lockdown. Empty: the sources your firewall already ' +
			'allows on those ports, or anywhere (0.0.0.0/0, ::/0) when it allows none, so that ' +
			'you are never locked out.',
	},
	{
		displayName: 'Management Ports',
		name: 'managementPorts',
		type: 'string',
		default: '22',
		displayOptions: { show: { operation: ['activate'] } },
		description:
			'TCP ports or ranges (comma separated, e.g. "22, 8443-8444") that stay open from the ' +
			'management sources',
	},
];

/**
 * Withdraw option: an explicit original configuration that overrides the one saved at the provider.
 */
export const restoreConfigurationProperty: INodeProperties = {
	displayName: 'Configuration to Restore',
	name: 'restoreConfiguration',
	type: 'json',
	default: '',
	displayOptions: { show: { operation: ['withdraw'] } },
	description:
		'Optional. The original configuration to restore instead of the one saved at the ' +
		'provider, e.g. {{ $json.original }} from an Activate or Get Status output. Leave ' +
		'empty to restore what the lockdown saved.',
};

/**
 * Withdraw option for providers whose lockdown overwrites rules: what to do when no saved copy is
 * found.
 */
export const nothingSavedProperty: INodeProperties = {
	displayName: 'When Nothing Is Saved',
	name: 'whenNothingSaved',
	type: 'options',
	default: 'refuse',
	displayOptions: { show: { operation: ['withdraw'] } },
	options: [
		{
			name: 'Refuse (Error)',
			value: 'refuse',
			description:
				'Stop with an error and change nothing; restore by hand or pass Configuration to Restore',
		},
		{
			name: 'Allow All Inbound',
			value: 'allowAll',
			description:
				'Open all inbound traffic, as the hosted product does. Your own rules are not restored.',
		},
	],
	description:
		'What withdraw does when the firewall is locked down but no saved original ' +
		'configuration is found (for example it was deleted by hand)',
};

const portList = z
	.array(portRange)
	.min(1, 'at least one management port is required, or the lockdown would lock you out');
const sourceList = z.array(cidr);

/** Reads and validates the lockdown options; call before any write. */
export function readLockdownOptions(ctx: IExecuteFunctions, itemIndex: number): LockdownOptions {
	const rawSources = splitList(ctx.getNodeParameter('managementSources', itemIndex, ''));
	const rawPorts = splitList(ctx.getNodeParameter('managementPorts', itemIndex, '22'));
	const hint =
		'Management sources are IPv4/IPv6 addresses or CIDR blocks; ports are 1-65535 or ' +
		'ranges like 8000-8100.';
	const sources = validate(sourceList, rawSources, 'management sources', hint).map(toSource);
	const ports = validate(portList, rawPorts, 'management ports', hint);
	return { sources: dedupeBy(sources, (s) => s.cidr), ports: dedupeBy(ports, (p) => p) };
}

function toSource(value: string): ManagementSource {
	const parsed = parseCidr(value)!;
	return { ...parsed, cidr: `${parsed.address}/${parsed.prefixLength}` };
}

/**
 * A TCP rule's ports as the providers write them: "22", "80, 443", "8000-8100", Vultr's
 * "8000:8100"; empty is all.
 */
export function portsCover(rulePorts: string | null | undefined, wanted: string): boolean {
	const text = (rulePorts ?? '').trim().toLowerCase();
	if (text === '' || text === '0' || text === 'all') return true;
	const range = (piece: string) => {
		const [from, to = from] = piece.trim().split(/[-:]/).map(Number);
		return [from, to];
	};
	const [wantFrom, wantTo] = range(wanted);
	return text.split(',').some((piece) => {
		const [from, to] = range(piece);
		return from <= wantFrom && wantTo <= to;
	});
}

/** Who keeps access during the lockdown, and why: output as `managementAccess`. */
export interface ManagementAccess extends IDataObject {
	sources: string[];
	ports: string[];
	from: string;
}

/**
 * The options with their sources filled in when the user left them empty: the sources the firewall
 * already allows on the management ports (`allowed`, CIDRs from its TCP accept rules), or anywhere
 * when there are none, so that an office-only SSH rule is not widened to the whole Internet.
 */
export function withManagementAccess(
	options: LockdownOptions,
	allowed: string[],
): { options: LockdownOptions; managementAccess: ManagementAccess } {
	let sources = options.sources;
	let from = 'Management Sources parameter';
	if (sources.length === 0) {
		const found = dedupeBy(
			allowed.filter((a) => parseCidr(a) !== undefined).map(toSource),
			(s) => s.cidr,
		);
		[sources, from] = found.length
			? [found, 'the sources the firewall already allowed on the management ports']
			: [
					splitList(ANYWHERE).map(toSource),
					'anywhere: the firewall allowed no source on the management ports',
				];
	}
	return {
		options: { ...options, sources },
		managementAccess: { sources: sources.map((s) => s.cidr), ports: options.ports, from },
	};
}

/**
 * The explicit configuration a withdraw was given, or undefined; validated with the provider's
 * schema.
 */
export function readRestoreOverride<T>(
	ctx: IExecuteFunctions,
	itemIndex: number,
	schema: z.ZodType<T>,
	shape: string,
): T | undefined {
	let value = ctx.getNodeParameter('restoreConfiguration', itemIndex, '') as unknown;
	if (value === undefined || value === null || (typeof value === 'string' && value.trim() === ''))
		return undefined;
	if (typeof value === 'string') {
		try {
			value = JSON.parse(value);
		} catch {
			throw new InputError('Configuration to Restore is not valid JSON', `Expected ${shape}.`);
		}
	}
	if (typeof value === 'object' && value !== null && Object.keys(value).length === 0)
		return undefined;
	return validate(schema, value, 'Configuration to Restore', `Expected ${shape}.`);
}

export type NothingSavedChoice = 'refuse' | 'allowAll';

export function readNothingSavedChoice(
	ctx: IExecuteFunctions,
	itemIndex: number,
): NothingSavedChoice {
	return ctx.getNodeParameter('whenNothingSaved', itemIndex, 'refuse') === 'allowAll'
		? 'allowAll'
		: 'refuse';
}

/** The refusal of a withdraw that finds a lockdown but nothing to restore. */
export function nothingSavedError(provider: string, where: string): InputError {
	return new InputError(
		`${provider}: the firewall is locked down but no saved original configuration was ` +
			`found (${where}). Nothing was changed.`,
		'Pass the original configuration in "Configuration to Restore" (e.g. the "original" ' +
			'field of an earlier Activate output), or choose "Allow All Inbound" under "When ' +
			'Nothing Is Saved" to open the firewall as the hosted product does.',
	);
}

export function protectsNothingWarning(what: string): string {
	return (
		`This firewall protects nothing: ${what}. The lockdown takes effect only on what the ` +
		'firewall is attached to.'
	);
}

/**
 * Runs one write of a multi-call change. When it fails, the error says which step failed and what
 * state the provider is in, and that running the same operation again completes it (each operation
 * resumes from any state).
 */
export async function step<T>(
	operation: 'activate' | 'withdraw',
	description: string,
	stateIfFailed: string,
	write: () => Promise<T>,
): Promise<T> {
	try {
		return await write();
	} catch (error) {
		if (!(error instanceof ProviderError)) throw error;
		const details = error.details;
		const resume =
			`Provider state: ${stateIfFailed}. ` +
			`Run ${operation === 'activate' ? 'Activate' : 'Withdraw'} again to complete it: ` +
			'it resumes from this state and nothing of the original ' +
			'configuration is lost.';
		throw new ProviderError(`${operation} stopped while ${description}: ${error.message}`, {
			...details,
			hint: details.hint ? `${resume} ${details.hint}` : resume,
		});
	}
}

/** Stable key for comparing JSON-like values regardless of key order. */
export function canonical(value: unknown): string {
	if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
	if (value && typeof value === 'object') {
		const entries = Object.entries(value as IDataObject)
			.filter(([, v]) => v !== undefined)
			.sort(([a], [b]) => a.localeCompare(b));
		return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
	}
	return JSON.stringify(value);
}

export function dedupeBy<T>(values: T[], key: (value: T) => unknown): T[] {
	const seen = new Set<unknown>();
	return values.filter((value) => {
		const k = key(value);
		if (seen.has(k)) return false;
		seen.add(k);
		return true;
	});
}

/** Union keeping the order of `first`, then anything only in `second`. */
export function union<T>(first: T[], second: T[]): T[] {
	return dedupeBy([...first, ...second], (v) => v);
}
