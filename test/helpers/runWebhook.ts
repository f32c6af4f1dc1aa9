import type {
	ICredentialDataDecryptedObject,
	ICredentialType,
	IDataObject,
	IHookFunctions,
	IHttpRequestOptions,
	INode,
	INodeType,
	IWebhookFunctions,
	IWebhookResponseData,
} from 'n8n-workflow';
import { NodeApiError } from 'n8n-workflow';

import { authenticate, performRequest, workflowNode } from './runNode';

/**
 * Runs a trigger's webhookMethods (IHookFunctions) and webhook() (IWebhookFunctions) in-process,
 * with the parts of n8n's contexts these triggers use: node parameters, credentials applied from
 * the credential type's `authenticate`, node static data, and an express-like request (raw body +
 * headers) and response. The real-n8n suite (test/e2e/triggers.test.ts) checks the same nodes
 * inside n8n.
 */

export interface TriggerOptions {
	parameters: Record<string, unknown>;
	credentials?: Record<string, ICredentialDataDecryptedObject>;
	credentialTypes?: ICredentialType[];
	/** The node's static data ('node'); shared between hook calls and deliveries like n8n's. */
	staticData: IDataObject;
	webhookUrl?: string;
	workflowId?: string;
}

export interface WebhookCall {
	/** Sent as is: the bytes signatures are computed over. */
	rawBody: string | Buffer;
	headers?: Record<string, string>;
}

export interface WebhookOutcome {
	/** HTTP status the sender saw. */
	status: number;
	/**
	 * What the sender received: the node's own refusal, or n8n's answer for a started/acknowledged
	 * delivery.
	 */
	responseBody: unknown;
	/** Items that would start an execution; undefined when none starts. */
	items?: IDataObject[];
	result: IWebhookResponseData;
}

export const TEST_WEBHOOK_URL = 'https://n8n.example.test/webhook/4f6d2c1e-trigger/webhook';

const nodeOf = (node: INodeType, options: TriggerOptions): INode =>
	workflowNode(node, 'trigger-node', options.parameters);

function baseContext(node: INodeType, options: TriggerOptions) {
	const info = nodeOf(node, options);
	const getCredentials = async (name: string) => {
		const credentials = options.credentials?.[name];
		if (!credentials) throw new Error(`Node does not have any credentials of type "${name}" set`);
		return credentials;
	};
	const getNodeParameter = (
		name: string,
		fallback?: unknown,
		extract?: { extractValue?: boolean },
	) => {
		const value =
			name in options.parameters
				? options.parameters[name]
				: (node.description.properties.find((p) => p.name === name)?.default ?? fallback);
		if (extract?.extractValue && typeof value === 'object' && value !== null && '__rl' in value) {
			return (value as unknown as { value: unknown }).value;
		}
		return value;
	};
	const warnings: string[] = [];
	return {
		info,
		warnings,
		context: {
			getNode: () => info,
			getWorkflow: () => ({
				id: options.workflowId ?? 'wf-test',
				name: 'Trigger test',
				active: true,
			}),
			getNodeParameter,
			getCredentials,
			getWorkflowStaticData: (type: string) => {
				if (type !== 'node') throw new Error('test: these triggers keep node static data');
				return options.staticData;
			},
			getMode: () => 'webhook',
			getActivationMode: () => 'activate',
			logger: {
				debug() {},
				info() {},
				error() {},
				warn: (message: string) => warnings.push(message),
			},
			helpers: {
				async httpRequestWithAuthentication(typeName: string, request: IHttpRequestOptions) {
					const type = options.credentialTypes?.find((t) => t.name === typeName);
					if (!type) throw new Error(`test: no credential type ${typeName}`);
					const authenticated = await authenticate(type, await getCredentials(typeName), request);
					try {
						return await performRequest(authenticated);
					} catch (error) {
						throw new NodeApiError(info, error as never);
					}
				},
				returnJsonArray: (items: IDataObject[]) => items.map((json) => ({ json })),
			},
		},
	};
}

/** Runs `checkExists`, `create` or `delete` of the trigger's default webhook. */
export async function runHook(
	node: INodeType,
	method: 'checkExists' | 'create' | 'delete',
	options: TriggerOptions,
) {
	const { context, warnings } = baseContext(node, options);
	const hookContext = {
		...context,
		getNodeWebhookUrl: () => options.webhookUrl ?? TEST_WEBHOOK_URL,
		getWebhookName: () => 'default',
	} as unknown as IHookFunctions;
	const fn = node.webhookMethods?.default?.[method];
	if (!fn) throw new Error(`no webhook method ${method}`);
	const result = await fn.call(hookContext);
	return { result, warnings };
}

/** Activation as n8n does it: create only when checkExists says there is nothing to keep. */
export async function activate(node: INodeType, options: TriggerOptions): Promise<void> {
	const { result: exists } = await runHook(node, 'checkExists', options);
	if (!exists) await runHook(node, 'create', options);
}

/** One HTTP request to the trigger's production URL. */
export async function callWebhook(
	node: INodeType,
	options: TriggerOptions,
	call: WebhookCall,
): Promise<WebhookOutcome & { warnings: string[] }> {
	const { context, warnings } = baseContext(node, options);
	const headers: Record<string, string> = {};
	for (const [name, value] of Object.entries(call.headers ?? {}))
		headers[name.toLowerCase()] = value;
	const rawBody = Buffer.isBuffer(call.rawBody) ? call.rawBody : Buffer.from(call.rawBody, 'utf8');
	let sent: { status: number; body: unknown } | undefined;
	const response = {
		statusCode: 200,
		status(code: number) {
			this.statusCode = code;
			return this;
		},
		json(body: unknown) {
			sent = { status: this.statusCode, body };
			return this;
		},
		send(body: unknown) {
			sent = { status: this.statusCode, body };
			return this;
		},
		end() {
			sent ??= { status: this.statusCode, body: undefined };
			return this;
		},
	};
	const webhookContext = {
		...context,
		getRequestObject: () => ({
			rawBody,
			headers,
			header: (name: string) => headers[name.toLowerCase()],
		}),
		getResponseObject: () => response,
		getHeaderData: () => headers,
		getBodyData: () => ({}),
	} as unknown as IWebhookFunctions;
	const result = await node.webhook!.call(webhookContext);
	const items = result.workflowData?.[0]?.map((item) => item.json);
	if (result.noWebhookResponse) {
		if (!sent)
			throw new Error('test: noWebhookResponse without an answer would leave the sender hanging');
		return { status: sent.status, responseBody: sent.body, items, result, warnings };
	}
	// n8n answers 200 with webhookResponse (or its default message) when the node does not answer
	// itself.
	return {
		status: 200,
		responseBody: result.webhookResponse ?? { message: 'Workflow was started' },
		items,
		result,
		warnings,
	};
}
