import { EventEmitter } from 'node:events';
import type {
	ICredentialDataDecryptedObject,
	ICredentialType,
	IDataObject,
	IExecuteFunctions,
	IHookFunctions,
	IHttpRequestOptions,
	INode,
	INodeExecutionData,
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
	/** The workflow's global static data ('global'), shared with other nodes of the workflow. */
	globalStaticData?: IDataObject;
	/** n8n's execution mode: 'manual' for the editor's test URL ("Listen for test event"). */
	mode?: 'webhook' | 'manual';
	/** The id of the credential set on the node, as n8n puts it in the node's `credentials`. */
	credentialId?: string;
	webhookUrl?: string;
	workflowId?: string;
	/**
	 * How n8n answers a request whose webhook() starts an execution, once it has taken (saved or
	 * queued) the execution: 200, or e.g. 500 when it cannot start it.
	 */
	startAnswer?: number;
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

const nodeOf = (node: INodeType, options: TriggerOptions): INode => ({
	...workflowNode(node, 'trigger-node', options.parameters),
	credentials: Object.fromEntries(
		Object.keys(options.credentials ?? {}).map((type) => [
			type,
			{ id: options.credentialId ?? 'credential-1', name: 'test credential' },
		]),
	),
});

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
				if (type === 'node') return options.staticData;
				options.globalStaticData ??= {};
				return options.globalStaticData;
			},
			getMode: () => options.mode ?? 'webhook',
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

/**
 * Runs an action node of the trigger's workflow (same static data) once, as a Schedule Trigger
 * would.
 */
export async function runWorkflowNode(node: INodeType, options: TriggerOptions) {
	const { context } = baseContext(node, options);
	const hints: string[] = [];
	const executeContext = {
		...context,
		getInputData: () => [{ json: {} }],
		continueOnFail: () => false,
		addExecutionHints: (...added: Array<{ message: string }>) =>
			hints.push(...added.map((hint) => hint.message)),
	} as unknown as IExecuteFunctions;
	const output = await node.execute!.call(executeContext);
	return { items: (output as INodeExecutionData[][])[0].map((item) => item.json), hints };
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
	const finished = new EventEmitter();
	const response = {
		statusCode: 200,
		writableFinished: false,
		status(code: number) {
			this.statusCode = code;
			return this;
		},
		json(body: unknown) {
			return this.finish(body);
		},
		send(body: unknown) {
			return this.finish(body);
		},
		end() {
			return this.finish(undefined);
		},
		finish(body: unknown) {
			sent ??= { status: this.statusCode, body };
			this.writableFinished = true;
			finished.emit('finish');
			finished.emit('close');
			return this;
		},
		once(event: 'finish' | 'close', listener: () => void) {
			finished.once(event, listener);
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
	// n8n answers with webhookResponse (or its default message) when the node does not answer
	// itself: after it has taken the execution, if one starts.
	const status = result.workflowData ? (options.startAnswer ?? 200) : 200;
	response.status(status).json(result.webhookResponse);
	return {
		status,
		responseBody: result.webhookResponse ?? { message: 'Workflow was started' },
		items,
		result,
		warnings,
	};
}
