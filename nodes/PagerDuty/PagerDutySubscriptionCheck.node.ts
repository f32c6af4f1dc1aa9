import type {
	IDataObject,
	IExecuteFunctions,
	INodeExecutionData,
	INodeType,
	INodeTypeDescription,
} from 'n8n-workflow';
import { NodeConnectionTypes, NodeOperationError } from 'n8n-workflow';

import { toNodeError } from '../shared/errors';
import { ProviderClient } from '../shared/http';
import {
	readRecord,
	recordedTriggers,
	TriggerDeactivated,
	repairSubscription,
	sealFor,
	signingSecretOf,
	takeForeignSignatures,
	writeRecord,
} from './subscription';
import { CREATE_ONCE_POLICY, LIFECYCLE_RETRY_POLICY, pagerDutyApi } from './transport';

/**
 * Keeps the PagerDuty Incident Triggers of its own workflow subscribed, from a Schedule Trigger:
 * n8n runs a trigger's subscription check only at activation, not when it restarts, and PagerDuty
 * suspends a subscription for 24 hours after three refused deliveries. One item per trigger says
 * what was found and repaired, for an alert branch.
 */
export class PagerDutySubscriptionCheck implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'PagerDuty Subscription Check',
		name: 'pagerDutySubscriptionCheck',
		icon: 'file:pagerDuty.svg',
		group: ['transform'],
		version: 1,
		subtitle: 'Check subscriptions',
		description:
			"Re-enables, repairs or re-creates the webhook subscription of this workflow's PagerDuty " +
			'Incident Triggers',
		defaults: { name: 'PagerDuty Subscription Check' },
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		usableAsTool: true,
		credentials: [{ name: 'pagerDutyMitigationApi', required: true }],
		properties: [
			{
				displayName:
					'Put this node in the workflow of the PagerDuty Incident Trigger, after a Schedule ' +
					'Trigger (e.g. the one running the Incident Gate Tick), with the same PagerDuty ' +
					'credential. It checks every PagerDuty Incident Trigger of this workflow once per ' +
					'run.',
				name: 'placementNotice',
				type: 'notice',
				default: '',
			},
		],
	};

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		const output: INodeExecutionData[] = [];
		const pairedItem = { item: 0 };
		const triggers = recordedTriggers(this);
		if (triggers.length === 0) {
			const problem =
				'No active PagerDuty Incident Trigger in this workflow has a subscription record. ' +
				'Publish the ' +
				'workflow (a trigger activated by an earlier version: deactivate and activate it once).';
			this.addExecutionHints({ message: problem, location: 'outputPane' });
			return [[{ json: { healthy: false, problem }, pairedItem }]];
		}
		const credentials = await this.getCredentials('pagerDutyMitigationApi');
		const apiToken = String(credentials.apiToken ?? '');
		const credentialId = this.getNode().credentials?.pagerDutyMitigationApi?.id ?? '';
		for (const triggerId of triggers) {
			const record = readRecord(this, triggerId);
			if (!record) continue;
			try {
				if (record.credentialId !== credentialId) {
					throw new NodeOperationError(
						this.getNode(),
						`"${record.triggerName}" uses another PagerDuty credential than this node`,
						{
							description:
								'Select the same PagerDuty credential as the trigger: its signing secret is ' +
								'sealed with it.',
							itemIndex: 0,
						},
					);
				}
				const client = await ProviderClient.create(this, pagerDutyApi, LIFECYCLE_RETRY_POLICY);
				const createOnce = await ProviderClient.create(this, pagerDutyApi, CREATE_ONCE_POLICY);
				const secret = signingSecretOf(this, triggerId, record, apiToken);
				const repair = await repairSubscription(
					client,
					createOnce,
					{
						subscriptionId: record.subscriptionId,
						secretReadable: secret !== undefined,
						foreignSignatures: takeForeignSignatures(this, triggerId) > 0,
					},
					record.wanted,
					() => readRecord(this, triggerId) !== undefined,
				);
				if (repair.newSecret || repair.subscriptionId !== record.subscriptionId) {
					writeRecord(this, triggerId, {
						...record,
						subscriptionId: repair.subscriptionId,
						secret: repair.newSecret
							? sealFor(this, triggerId, repair.newSecret, apiToken)
							: record.secret,
						updatedAt: Date.now(),
					});
				}
				if (repair.repairs.length > 0) {
					this.addExecutionHints({
						message:
							`PagerDuty subscription of "${record.triggerName}": ` + repair.repairs.join('; '),
						location: 'outputPane',
					});
				}
				output.push({
					json: {
						trigger: record.triggerName,
						subscriptionId: repair.subscriptionId,
						healthy: repair.repairs.length === 0,
						repairs: repair.repairs,
						checkedAt: new Date().toISOString(),
					},
					pairedItem,
				});
			} catch (error) {
				// Deactivated while this check ran: deactivation deletes the subscription, nothing to check.
				if (error instanceof TriggerDeactivated) continue;
				const nodeError = toNodeError(this, error, 0);
				if (!this.continueOnFail()) throw nodeError;
				output.push({
					json: {
						error: nodeError.message,
						description: nodeError.description ?? null,
						provider: 'PagerDuty',
						target: record.triggerName,
						operation: 'check',
					} as IDataObject,
					pairedItem,
				});
			}
		}
		return [output];
	}
}
