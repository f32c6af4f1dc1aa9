import type { IDataObject, IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';

import { ActivationRecords } from './activationRecords';
import { toNodeError } from './errors';
import {
	DEFAULT_RETRY_POLICY,
	ProviderClient,
	type ProviderApiSpec,
	type RetryPolicy,
} from './http';

/** The fields every provider node's output item carries (CONTRACT.md), plus provider details. */
export interface MitigationResult extends IDataObject {
	/** Mitigation is on after the call, or as read. */
	active: boolean;
	/** This call changed the provider's state. */
	changed: boolean;
}

export interface OperationContext<Api = ProviderClient> {
	ctx: IExecuteFunctions;
	itemIndex: number;
	api: Api;
	records: ActivationRecords;
}

export type Operation<Target, Api = ProviderClient> = (
	target: Target,
	op: OperationContext<Api>,
) => Promise<MitigationResult | IDataObject | IDataObject[]>;

/**
 * One mitigation provider, as all eight nodes share it: how to read and validate the target of an item, and the
 * three contract operations plus any provider extras. The runner below does everything else.
 */
export interface MitigationProvider<Target, Api = ProviderClient> {
	/** Node type name, e.g. "cloudflareMagicTransit"; goes into every output item as `provider`. */
	name: string;
	/** An HTTP provider's API (the runner opens a ProviderClient), or a connector for another protocol. */
	api: Api extends ProviderClient ? ProviderApiSpec : ApiConnector<Api>;
	/** Reads and validates the item's target parameters; throws InputError before any request is made. */
	readTarget(ctx: IExecuteFunctions, itemIndex: number, operation: string): Target;
	/** The string put in the output's `target` field. */
	describeTarget(target: Target): string;
	operations: {
		getStatus: Operation<Target, Api>;
		activate: Operation<Target, Api>;
		withdraw: Operation<Target, Api>;
	} & Record<string, Operation<Target, Api>>;
}

/** A provider that does not speak HTTP (gobgpd's gRPC API) opens and closes its own client. */
export interface ApiConnector<Api> {
	open(ctx: IExecuteFunctions, policy: RetryPolicy): Promise<Api>;
	close(api: Api): void;
}

/** execute() of every provider node: per item, with continueOnFail and pairedItem as n8n expects. */
export async function runProvider<Target, Api = ProviderClient>(
	ctx: IExecuteFunctions,
	provider: MitigationProvider<Target, Api>,
): Promise<INodeExecutionData[][]> {
	const items = ctx.getInputData();
	const output: INodeExecutionData[] = [];
	const records = new ActivationRecords(ctx);
	let client: Api | undefined;
	let clientPolicyKey: string | undefined;
	const spec = provider.api as ProviderApiSpec | ApiConnector<Api>;
	const connector = 'open' in spec ? spec : undefined;
	const open = async (policy: RetryPolicy) =>
		connector
			? await connector.open(ctx, policy)
			: ((await ProviderClient.create(ctx, spec as ProviderApiSpec, policy)) as Api);
	const close = () => {
		if (client !== undefined) connector?.close(client);
	};

	for (let itemIndex = 0; itemIndex < items.length; itemIndex++) {
		try {
			const operation = ctx.getNodeParameter('operation', itemIndex) as string;
			const run = provider.operations[operation];
			if (!run) throw new Error(`Unknown operation '${operation}'`);
			const target = provider.readTarget(ctx, itemIndex, operation);
			const policy = readRetryPolicy(ctx, itemIndex);
			const policyKey = JSON.stringify(policy);
			if (!client || policyKey !== clientPolicyKey) {
				close();
				client = await open(policy);
				clientPolicyKey = policyKey;
			}
			const result = await run(target, { ctx, itemIndex, api: client, records });
			const rows = Array.isArray(result) ? result : [result];
			for (const row of rows) {
				output.push({
					json: {
						provider: provider.name,
						target: provider.describeTarget(target),
						operation,
						...row,
					},
					pairedItem: { item: itemIndex },
				});
			}
		} catch (error) {
			const nodeError = toNodeError(ctx, error, itemIndex);
			if (ctx.continueOnFail()) {
				output.push({
					json: { error: nodeError.message, description: nodeError.description ?? null },
					pairedItem: { item: itemIndex },
				});
				continue;
			}
			close();
			throw nodeError;
		}
	}
	close();
	return [output];
}

function readRetryPolicy(ctx: IExecuteFunctions, itemIndex: number): RetryPolicy {
	const options = ctx.getNodeParameter('requestOptions', itemIndex, {}) as {
		maxAttempts?: number;
		maxRetryTime?: number;
		timeout?: number;
	};
	return {
		...DEFAULT_RETRY_POLICY,
		maxAttempts: options.maxAttempts ?? DEFAULT_RETRY_POLICY.maxAttempts,
		maxRetryTimeMs: (options.maxRetryTime ?? DEFAULT_RETRY_POLICY.maxRetryTimeMs / 1000) * 1000,
		timeoutMs: (options.timeout ?? DEFAULT_RETRY_POLICY.timeoutMs / 1000) * 1000,
	};
}

/** Reads a resource-locator (or plain string) parameter as its value. */
export function readLocator(ctx: IExecuteFunctions, name: string, itemIndex: number): string {
	const value = ctx.getNodeParameter(name, itemIndex, '', { extractValue: true }) as unknown;
	if (typeof value === 'object' && value !== null && 'value' in value)
		return String((value as { value: unknown }).value ?? '');
	return String(value ?? '');
}
