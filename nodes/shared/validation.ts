import { isIP } from 'node:net';
import { z } from 'zod';

import { InputError } from './errors';

/**
 * Longest piece of a user's input repeated in a refusal: a 1 MB paste must not come back in the
 * error.
 */
const MAX_ECHO = 200;

/** Input as a refusal quotes it, cut to MAX_ECHO characters. */
export function shown(value: unknown, max = MAX_ECHO): string {
	const text = String(value);
	return text.length > max ? `${text.slice(0, max)}... (${text.length} characters)` : text;
}

/** Checks inputs before any provider call, so a bad input never causes a partial write. */
export function validate<T>(schema: z.ZodType<T>, value: unknown, what: string, hint?: string): T {
	const result = schema.safeParse(value);
	if (result.success) return result.data;
	const issues = result.error.issues.map((issue) => {
		const where = issue.path.length ? `${issue.path.join('.')}: ` : '';
		return `${where}${issue.message}`;
	});
	// At most a few issues, each cut short: the message repeats what was typed.
	const listed = issues.slice(0, 5).map((issue) => shown(issue, 2 * MAX_ECHO));
	if (issues.length > listed.length) listed.push(`and ${issues.length - listed.length} more`);
	throw new InputError(`Invalid ${what}: ${listed.join('; ')}`, hint);
}

const trimmed = z.string().trim();

export const ipv4 = trimmed.refine(
	(v) => isIP(v) === 4,
	(v) => ({ message: `'${shown(v)}' is not an IPv4 address` }),
);
export const ipAddress = trimmed.refine(
	(v) => isIP(v) !== 0,
	(v) => ({ message: `'${shown(v)}' is not an IP address` }),
);

/**
 * Parses "addr/len" (or a bare address, meaning a host route) into its parts; undefined when
 * malformed.
 */
export function parseCidr(
	value: string,
): { address: string; prefixLength: number; version: 4 | 6 } | undefined {
	const [address, length, extra] = value.trim().split('/');
	if (extra !== undefined) return undefined;
	// A zone index (fe80::1%eth0) names an interface of this host: it means nothing to a provider's
	// firewall.
	if (address.includes('%')) return undefined;
	const family = isIP(address);
	if (family === 0) return undefined;
	const version = family === 4 ? 4 : 6;
	const max = version === 4 ? 32 : 128;
	if (length === undefined) return { address, prefixLength: max, version };
	if (!/^\d{1,3}$/.test(length)) return undefined;
	const prefixLength = Number(length);
	if (prefixLength > max) return undefined;
	return { address, prefixLength, version };
}

export const cidr = trimmed.refine(
	(v) => parseCidr(v) !== undefined,
	(v) => ({
		message:
			`'${shown(v)}' is not an IPv4 or IPv6 address or CIDR block (e.g. 203.0.113.0/24 or ` +
			'2001:db8::/32)',
	}),
);

/** Cloudflare account, zone and prefix ids: 32 hex characters. */
export const cloudflareId = (label: string) =>
	trimmed.regex(
		/^[0-9a-f]{32}$/i,
		`${label} must be the 32-character hexadecimal id Cloudflare shows`,
	);

/** A port or range: "22", "8000-8100". */
export const portRange = trimmed.refine(
	(v) => {
		const match = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(v);
		if (!match) return false;
		const from = Number(match[1]);
		const to = match[2] === undefined ? from : Number(match[2]);
		return from >= 1 && to <= 65535 && from <= to;
	},
	(v) => ({ message: `'${shown(v)}' is not a port (1-65535) or port range like 8000-8100` }),
);

/** Splits a comma/space/newline separated list typed into one n8n field. */
export function splitList(value: unknown): string[] {
	if (Array.isArray(value))
		return value
			.map(String)
			.map((v) => v.trim())
			.filter(Boolean);
	if (typeof value !== 'string') return [];
	return value
		.split(/[\s,]+/)
		.map((v) => v.trim())
		.filter(Boolean);
}
