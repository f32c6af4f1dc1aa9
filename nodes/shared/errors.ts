import type {
	IExecuteFunctions,
	IHookFunctions,
	ILoadOptionsFunctions,
	JsonObject,
} from 'n8n-workflow';
import { NodeApiError, NodeOperationError } from 'n8n-workflow';

import { redact } from './redact';

/**
 * A provider answered with an error, or could not be reached. Transports throw this; the node
 * runner turns it into a NodeApiError with the item index. It carries only what is safe to show:
 * never request headers or bodies.
 */
export class ProviderError extends Error {
	constructor(
		message: string,
		readonly details: {
			provider: string;
			/** What to do about it, in the user's words (shown as the error description in n8n). */
			hint?: string;
			httpCode?: number;
			/** The provider's own error code, e.g. Cloudflare 10000 or OVH NOT_GRANTED_CALL. */
			providerCode?: string | number;
			/** Provider message as returned, for support tickets. */
			providerMessage?: string;
		},
	) {
		super(message);
		this.name = 'ProviderError';
	}
}

/** Bad input found before any call to the provider; nothing was changed. */
export class InputError extends Error {
	constructor(
		message: string,
		readonly hint?: string,
	) {
		super(message);
		this.name = 'InputError';
	}
}

type NodeContext = IExecuteFunctions | ILoadOptionsFunctions | IHookFunctions;

/**
 * Converts anything thrown by an operation into the n8n error a user sees on the node, with its
 * item index.
 */
export function toNodeError(
	ctx: NodeContext,
	error: unknown,
	itemIndex: number,
): NodeApiError | NodeOperationError {
	if (error instanceof NodeApiError || error instanceof NodeOperationError) return error;
	if (error instanceof ProviderError) {
		const { provider, httpCode, providerCode } = error.details;
		const [message, hint, providerMessage] = [
			error.message,
			error.details.hint,
			error.details.providerMessage,
		].map((t) => (t === undefined ? undefined : redact(t)));
		const response: JsonObject = { provider, message: message! };
		if (providerCode !== undefined) response.code = providerCode;
		if (providerMessage !== undefined) response.providerMessage = providerMessage;
		return new NodeApiError(ctx.getNode(), response, {
			itemIndex,
			message,
			description: hint,
			httpCode: httpCode === undefined ? undefined : String(httpCode),
		});
	}
	if (error instanceof InputError) {
		return new NodeOperationError(ctx.getNode(), error.message, {
			itemIndex,
			description: error.hint,
		});
	}
	const message = error instanceof Error ? error.message : String(error);
	return new NodeOperationError(ctx.getNode(), message, { itemIndex });
}
