import type { IExecuteFunctions } from 'n8n-workflow';
import { z } from 'zod';

import type { ActivationRecord } from '../../shared/activationRecords';
import { ProviderError } from '../../shared/errors';
import type { MitigationProvider, MitigationResult, OperationContext } from '../../shared/provider';
import { readLocator } from '../../shared/provider';
import { cloudflareId, validate } from '../../shared/validation';
import { cloudflareApi, cloudflareRequest } from '../transport';

export const SECURITY_LEVELS = [
	'off',
	'essentially_off',
	'low',
	'medium',
	'high',
	'under_attack',
] as const;
export type SecurityLevel = (typeof SECURITY_LEVELS)[number];

interface SecurityLevelSetting {
	id: 'security_level';
	value: SecurityLevel;
	editable?: boolean;
	modified_on?: string | null;
}

/**
 * The level the zone had before activation. Cloudflare has nowhere to keep it, so this record
 * (workflow static data plus the n8n process) is its only home; without it, withdraw uses the
 * user's fallback level.
 */
interface PreviousLevelRecord extends ActivationRecord {
	previousLevel: SecurityLevel;
}

export interface ZoneTarget {
	zoneId: string;
}

export const underAttackApi = cloudflareApi({
	permissions: 'Zone: Zone Settings: Edit (and Zone: Zone: Read to pick zones from the list)',
	notFound:
		'the zone: check the Zone ID (Overview page of the site in the dashboard, not the ' +
		'Account ID), or pick the zone from the list',
});

const path = (t: ZoneTarget) => `/zones/${t.zoneId}/settings/security_level`;
const recordKey = (t: ZoneTarget) => `cloudflareUnderAttack:${t.zoneId}`;

async function readLevel(api: OperationContext['api'], target: ZoneTarget) {
	return (await cloudflareRequest<SecurityLevelSetting>(api, 'GET', path(target))).result;
}

async function writeLevel(api: OperationContext['api'], target: ZoneTarget, value: SecurityLevel) {
	await cloudflareRequest<SecurityLevelSetting>(api, 'PATCH', path(target), { value });
	return await readLevel(api, target);
}

function requireEditable(setting: SecurityLevelSetting): void {
	if (setting.editable === false) {
		throw new ProviderError('Cloudflare reports the security level of this zone as not editable', {
			provider: 'Cloudflare',
			hint:
				"The zone's plan or a page/configuration rule fixes the security level. Change it in " +
				'the dashboard (Security > Settings) or remove the rule; nothing was changed.',
		});
	}
}

function describe(setting: SecurityLevelSetting) {
	return {
		securityLevel: setting.value,
		editable: setting.editable ?? true,
		modifiedOn: setting.modified_on ?? null,
	};
}

export const underAttack: MitigationProvider<ZoneTarget> = {
	name: 'cloudflareUnderAttack',
	api: underAttackApi,

	readTarget(ctx: IExecuteFunctions, itemIndex: number) {
		return validate(
			z.object({ zoneId: cloudflareId('Zone ID') }),
			{ zoneId: readLocator(ctx, 'zoneId', itemIndex) },
			'zone',
		);
	},

	describeTarget: (target) => target.zoneId,

	operations: {
		async getStatus(target, { api, records }): Promise<MitigationResult> {
			const setting = await readLevel(api, target);
			const record = records.get<PreviousLevelRecord>(recordKey(target));
			return {
				active: setting.value === 'under_attack',
				changed: false,
				...describe(setting),
				levelToRestore: record?.previousLevel ?? null,
			};
		},

		async activate(target, { api, records }): Promise<MitigationResult> {
			const setting = await readLevel(api, target);
			const key = recordKey(target);
			if (setting.value === 'under_attack') {
				// Already on. Keep an existing record; otherwise remember that it was on, so withdraw
				// leaves it on.
				const record =
					records.get<PreviousLevelRecord>(key) ??
					records.set(key, { previousLevel: 'under_attack' });
				return {
					active: true,
					changed: false,
					...describe(setting),
					levelToRestore: record.previousLevel,
				};
			}
			requireEditable(setting);
			records.set(key, { previousLevel: setting.value });
			const after = await writeLevel(api, target, 'under_attack');
			return {
				active: after.value === 'under_attack',
				changed: true,
				...describe(after),
				previousLevel: setting.value,
			};
		},

		async withdraw(target, { api, records, ctx, itemIndex }): Promise<MitigationResult> {
			const setting = await readLevel(api, target);
			const key = recordKey(target);
			if (setting.value !== 'under_attack') {
				records.delete(key);
				return {
					active: false,
					changed: false,
					...describe(setting),
					note: 'Under Attack Mode was not on.',
				};
			}
			const force = ctx.getNodeParameter('forceWithdraw', itemIndex, false) as boolean;
			const fallback = ctx.getNodeParameter('fallbackLevel', itemIndex, 'medium') as SecurityLevel;
			const kept = records.get<PreviousLevelRecord>(key)?.previousLevel;
			if (kept === 'under_attack' && !force) {
				return {
					active: true,
					changed: false,
					...describe(setting),
					note:
						'Left on: Under Attack Mode was already on before activation. Turn on "Force ' +
						'Withdraw" to switch it off anyway.',
				};
			}
			const restore = kept && kept !== 'under_attack' ? kept : fallback;
			requireEditable(setting);
			const after = await writeLevel(api, target, restore);
			records.delete(key);
			return {
				active: after.value === 'under_attack',
				changed: true,
				...describe(after),
				restoredFrom: kept && kept !== 'under_attack' ? 'activation record' : 'fallback level',
			};
		},
	},
};
