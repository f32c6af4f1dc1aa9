import { isIPv4, isIPv6 } from 'node:net';

import { InputError } from '../shared/errors';

/** Bounds on what one event may store, so a malformed sender cannot bloat the gate's state. */
export const LIMITS = { incidentId: 512, scope: 256, title: 1024 } as const;

export function checkLength(what: keyof typeof LIMITS, label: string, value: string): string {
	if (value.length > LIMITS[what]) {
		throw new InputError(
			`The ${label} is ${value.length} characters long; at most ${LIMITS[what]} are allowed`,
			`Map a shorter field to ${label}, or cut it with an expression such as ` +
				`{{ $json.field.slice(0, ${LIMITS[what]}) }}`,
		);
	}
	return value;
}

/**
 * One spelling per scope, so the same prefix or server never gets two mitigations: trimmed; an IP
 * address or CIDR becomes its network address in canonical form (IPv6 lower-case and compressed,
 * RFC 5952); anything else is case-folded.
 */
export function normalizeScope(raw: string): string {
	const scope = raw.trim();
	return canonicalCidr(scope) ?? scope.toLowerCase();
}

function canonicalCidr(text: string): string | undefined {
	const slash = text.indexOf('/');
	const address = slash === -1 ? text : text.slice(0, slash);
	const lengthText = slash === -1 ? undefined : text.slice(slash + 1);
	if (lengthText !== undefined && !/^\d{1,3}$/.test(lengthText)) return undefined;
	if (isIPv4(address)) {
		const length = lengthText === undefined ? 32 : Number(lengthText);
		if (length > 32) return undefined;
		const value = address.split('.').reduce((sum, octet) => sum * 256n + BigInt(octet), 0n);
		const network = maskOf(value, length, 32);
		const octets = [24n, 16n, 8n, 0n].map((shift) => String((network >> shift) & 255n));
		return withLength(octets.join('.'), lengthText === undefined ? undefined : length);
	}
	if (isIPv6(address) && !address.includes('.')) {
		const length = lengthText === undefined ? 128 : Number(lengthText);
		if (length > 128) return undefined;
		const network = maskOf(ipv6Value(address), length, 128);
		return withLength(formatIpv6(network), lengthText === undefined ? undefined : length);
	}
	return undefined;
}

const withLength = (address: string, length: number | undefined) =>
	length === undefined ? address : `${address}/${length}`;

function maskOf(value: bigint, length: number, bits: number): bigint {
	const hostBits = BigInt(bits - length);
	return (value >> hostBits) << hostBits;
}

function ipv6Value(address: string): bigint {
	const [head, tail] = address.toLowerCase().split('::');
	const headGroups = head ? head.split(':') : [];
	const tailGroups = tail ? tail.split(':') : [];
	const missing = tail === undefined ? 0 : 8 - headGroups.length - tailGroups.length;
	const groups = [...headGroups, ...Array<string>(missing).fill('0'), ...tailGroups];
	return groups.reduce((sum, group) => sum * 65536n + BigInt(parseInt(group, 16)), 0n);
}

/**
 * RFC 5952: lower-case, no leading zeros, the longest run (first if tied) of two or more zero
 * groups as "::".
 */
function formatIpv6(value: bigint): string {
	const groups = Array.from({ length: 8 }, (_, index) =>
		Number((value >> BigInt((7 - index) * 16)) & 0xffffn),
	);
	let bestStart = -1;
	let bestLength = 1;
	for (let start = 0; start < 8;) {
		let end = start;
		while (end < 8 && groups[end] === 0) end++;
		if (end - start > bestLength) [bestStart, bestLength] = [start, end - start];
		start = end === start ? start + 1 : end;
	}
	const hex = groups.map((group) => group.toString(16));
	if (bestStart === -1) return hex.join(':');
	const left = hex.slice(0, bestStart).join(':');
	const right = hex.slice(bestStart + bestLength).join(':');
	return `${left}::${right}`;
}
