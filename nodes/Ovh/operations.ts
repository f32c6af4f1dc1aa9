import type { IDataObject, IExecuteFunctions } from 'n8n-workflow';

import type { ActivationRecord } from '../shared/activationRecords';
import { InputError, ProviderError } from '../shared/errors';
import type { ProviderClient } from '../shared/http';
import type { MitigationProvider, MitigationResult, OperationContext } from '../shared/provider';
import { readLocator } from '../shared/provider';
import { readSettleWait, waitUntilSettled } from '../shared/settle';
import { parseCidr } from '../shared/validation';
import { ovhApi, ovhRequest } from './transport';

export interface OvhTarget {
	/** Block as OVH lists it, e.g. 203.0.113.0/24; empty for List IP Blocks. */
	ipBlock: string;
	/** IPv4 address to put on permanent mitigation; empty for the list operations. */
	ip: string;
}

/** `GET /ip/{ip}/mitigation/{ipOnMitigation}` */
export interface MitigationIp {
	ipOnMitigation: string;
	auto: boolean;
	permanent: boolean;
	state: 'creationPending' | 'ok' | 'removalPending';
}

interface IpBlock {
	ip: string;
	type?: string;
	description?: string | null;
	routedTo?: { serviceName?: string | null };
}

/** Whether the IP was already on permanent mitigation before our activation (then withdraw leaves it). */
interface PermanentRecord extends ActivationRecord {
	permanentBefore: boolean;
}

const BLOCK_HINT =
	'Enter the block exactly as OVH lists it (e.g. 203.0.113.0/24, or 198.51.100.7/32 for a single IP), or pick it from the list.';

const ipv4ToInt = (ip: string) => ip.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);
const intToIpv4 = (n: number) =>
	[24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join('.');

/** Validates the block (IPv4, starting on its boundary) and returns it in OVH's "address/length" form. */
export function normalizeBlock(value: string): string {
	const parsed = parseCidr(value);
	if (!parsed)
		throw new InputError(
			`Invalid IP block: '${value}' is not an IPv4 address or block`,
			BLOCK_HINT,
		);
	if (parsed.version !== 4) {
		throw new InputError(
			`Invalid IP block: OVH permanent mitigation applies to IPv4 addresses only, not '${value}'`,
			BLOCK_HINT,
		);
	}
	const size = 2 ** (32 - parsed.prefixLength);
	const start = ipv4ToInt(parsed.address);
	if (start % size !== 0) {
		const aligned = `${intToIpv4(start - (start % size))}/${parsed.prefixLength}`;
		throw new InputError(
			`Invalid IP block: '${value}' does not start on its /${parsed.prefixLength} boundary`,
			`Did you mean ${aligned}? ${BLOCK_HINT}`,
		);
	}
	return `${parsed.address}/${parsed.prefixLength}`;
}

/** Validates the IP to mitigate: an IPv4 address inside the block; empty means the block's own address for a /32. */
export function resolveIp(block: string, value: string): string {
	const [address, length] = block.split('/');
	const ip = value.trim();
	if (ip === '') {
		if (length === '32') return address;
		throw new InputError(
			`Enter the IP to put on mitigation: the block ${block} holds ${2 ** (32 - Number(length))} addresses`,
			'Set "IP" to the address under attack, inside the block (for a single IP, enter it as its /32 block and leave "IP" empty).',
		);
	}
	const parsed = parseCidr(ip);
	if (!parsed || parsed.version !== 4 || parsed.prefixLength !== 32 || ip.includes('/')) {
		throw new InputError(
			`Invalid IP: '${ip}' is not an IPv4 address`,
			'OVH permanent mitigation takes one IPv4 address, e.g. 203.0.113.10.',
		);
	}
	const size = 2 ** (32 - Number(length));
	const offset = ipv4ToInt(ip) - ipv4ToInt(address);
	if (offset < 0 || offset >= size)
		throw new InputError(`Invalid IP: ${ip} is not inside the block ${block}`, BLOCK_HINT);
	return ip;
}

const blockPath = (t: OvhTarget) => `/ip/${encodeURIComponent(t.ipBlock)}`;
const mitigationPath = (t: OvhTarget) => `${blockPath(t)}/mitigation/${encodeURIComponent(t.ip)}`;
const recordKey = (t: OvhTarget) => `ovhDdosProtection:${t.ipBlock}:${t.ip}`;

async function readBlock(api: ProviderClient, target: OvhTarget): Promise<IpBlock> {
	const response = await ovhRequest<IpBlock>(api, { method: 'GET', path: blockPath(target) });
	return response.body;
}

/** The mitigation entry, or undefined when OVH answers 404 (the IP is not on mitigation: not an error). */
async function readMitigation(
	api: ProviderClient,
	target: OvhTarget,
): Promise<MitigationIp | undefined> {
	const response = await ovhRequest<MitigationIp>(api, {
		method: 'GET',
		path: mitigationPath(target),
		acceptStatus: [404],
	});
	return response.status === 404 ? undefined : response.body;
}

const isPermanent = (entry: MitigationIp | undefined) =>
	entry?.permanent === true && entry.state !== 'removalPending';

function describe(block: IpBlock, target: OvhTarget, entry: MitigationIp | undefined): IDataObject {
	return {
		ipBlock: target.ipBlock,
		ip: target.ip,
		routedTo: block.routedTo?.serviceName ?? null,
		permanent: entry?.permanent ?? false,
		autoMitigation: entry?.auto ?? false,
		state: entry?.state ?? 'none',
	};
}

/** Waiting is optional for OVH: the change is accepted at once and goes on by itself. */
export const OVH_SETTLE = { on: false, maxWait: 120 };

/** Optionally waits until OVH has applied the change; reports "still pending" rather than failing. */
async function settle(
	op: OperationContext,
	target: OvhTarget,
	entry: MitigationIp | undefined,
	done: (entry: MitigationIp | undefined) => boolean,
): Promise<{ entry: MitigationIp | undefined; note?: string }> {
	const maxWaitMs = readSettleWait(op.ctx, op.itemIndex, OVH_SETTLE);
	if (maxWaitMs === 0 || done(entry)) return { entry };
	const result = await waitUntilSettled(() => readMitigation(op.api, target), done, { maxWaitMs });
	return {
		entry: result.value,
		note: result.settled
			? undefined
			: `OVH has not finished applying the change after ${Math.round(result.waitedMs / 1000)} s (state: ${result.value?.state ?? 'none'}); it goes on by itself.`,
	};
}

export const ovhDdosProtection: MitigationProvider<OvhTarget> = {
	name: 'ovhDdosProtection',
	api: ovhApi,

	readTarget(ctx: IExecuteFunctions, itemIndex: number, operation: string): OvhTarget {
		if (operation === 'listIpBlocks') return { ipBlock: '', ip: '' };
		const ipBlock = normalizeBlock(readLocator(ctx, 'ipBlock', itemIndex));
		if (operation === 'listMitigations') return { ipBlock, ip: '' };
		return {
			ipBlock,
			ip: resolveIp(ipBlock, String(ctx.getNodeParameter('ip', itemIndex, '') ?? '')),
		};
	},

	describeTarget: (target) => target.ip || target.ipBlock,

	operations: {
		async getStatus(target, { api, records }): Promise<MitigationResult> {
			const block = await readBlock(api, target);
			const entry = await readMitigation(api, target);
			const record = records.get<PermanentRecord>(recordKey(target));
			return {
				active: isPermanent(entry),
				changed: false,
				...describe(block, target, entry),
				activatedByThisPackage: record ? !record.permanentBefore : null,
			};
		},

		async activate(target, op): Promise<MitigationResult> {
			const { api, records } = op;
			const block = await readBlock(api, target);
			const before = await readMitigation(api, target);
			const key = recordKey(target);
			if (isPermanent(before)) {
				// Already on: no write, and an existing record is kept (a repeat never replaces what was saved).
				if (!records.get(key)) records.set(key, { permanentBefore: true });
				return {
					active: true,
					changed: false,
					...describe(block, target, before),
					note: 'The IP was already on permanent mitigation.',
				};
			}
			records.set(key, { permanentBefore: false });
			let created: MitigationIp | undefined;
			try {
				const response = await ovhRequest<MitigationIp>(api, {
					method: 'POST',
					path: `${blockPath(target)}/mitigation`,
					body: { ipOnMitigation: target.ip },
				});
				created = response.body;
			} catch (error) {
				// Someone (another workflow, the control panel) put it on mitigation between our read and write.
				if (!(error instanceof ProviderError && error.details.httpCode === 409)) throw error;
				const now = await readMitigation(api, target);
				if (!isPermanent(now)) throw error;
				return {
					active: true,
					changed: false,
					...describe(block, target, now),
					note: 'The IP was put on permanent mitigation by another change at the same time.',
				};
			}
			const settled = await settle(op, target, created, (e) => e?.state === 'ok');
			return {
				active: true,
				changed: true,
				...describe(block, target, settled.entry),
				note:
					settled.note ??
					(settled.entry?.state === 'ok'
						? 'Permanent mitigation is on.'
						: 'OVH is applying permanent mitigation (creationPending -> ok).'),
			};
		},

		async withdraw(target, op): Promise<MitigationResult> {
			const { api, records, ctx, itemIndex } = op;
			const force = ctx.getNodeParameter('forceWithdraw', itemIndex, false) as boolean;
			const block = await readBlock(api, target);
			const before = await readMitigation(api, target);
			const key = recordKey(target);
			const record = records.get<PermanentRecord>(key);
			if (!isPermanent(before)) {
				records.delete(key);
				const note =
					before?.state === 'removalPending'
						? 'OVH is already removing the IP from permanent mitigation.'
						: before?.auto
							? "The IP is not on permanent mitigation; OVH's automatic mitigation is handling it and ends by itself."
							: 'The IP was not on permanent mitigation.';
				return { active: false, changed: false, ...describe(block, target, before), note };
			}
			if (record?.permanentBefore && !force) {
				return {
					active: true,
					changed: false,
					...describe(block, target, before),
					note: 'Left on: the IP was already on permanent mitigation before activation. Turn on "Force Withdraw" to remove it anyway.',
				};
			}
			const response = await ovhRequest<MitigationIp | null>(api, {
				method: 'DELETE',
				path: mitigationPath(target),
				acceptStatus: [404],
			});
			records.delete(key);
			const after = response.status === 404 ? undefined : (response.body ?? undefined);
			const settled = await settle(
				op,
				target,
				after,
				(e) => e === undefined || (!e.permanent && e.state === 'ok'),
			);
			return {
				active: false,
				changed: response.status !== 404,
				...describe(block, target, settled.entry),
				note:
					settled.note ??
					'Permanent mitigation is off; OVH mitigates the IP automatically again when it detects an attack.',
			};
		},

		async listMitigations(target, { api }) {
			const response = await ovhRequest<string[]>(api, {
				method: 'GET',
				path: `${blockPath(target)}/mitigation`,
			});
			const rows: IDataObject[] = [];
			for (const ip of response.body ?? []) {
				const entry = await readMitigation(api, { ...target, ip });
				if (entry)
					rows.push({
						ipBlock: target.ipBlock,
						...entry,
						active: isPermanent(entry),
						changed: false,
					});
			}
			return rows;
		},

		async listIpBlocks(_target, { api }) {
			const response = await ovhRequest<string[]>(api, { method: 'GET', path: '/ip' });
			return (response.body ?? []).map((ipBlock) => ({ ipBlock }));
		},
	},
};
