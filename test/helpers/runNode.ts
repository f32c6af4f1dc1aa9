import type {
	ICredentialDataDecryptedObject,
	ICredentialType,
	IDataObject,
	IExecuteFunctions,
	IHttpRequestOptions,
	ILoadOptionsFunctions,
	INode,
	INodeExecutionData,
	INodeListSearchResult,
	INodeType,
	NodeExecutionHint,
} from 'n8n-workflow';
import { NodeApiError } from 'n8n-workflow';

/**
 * Runs a node's execute() in-process with the parts of n8n's execution context these nodes use. HTTP goes over
 * real sockets to the simulators; credentials are applied from the credential type's own `authenticate`
 * definition, as n8n does. The real-n8n suite (test/e2e) checks the same nodes inside n8n itself.
 */

export interface RunOptions {
	parameters: Record<string, unknown>;
	/** Per-item overrides of parameters, by item index. */
	itemParameters?: Array<Record<string, unknown>>;
	credentials: Record<string, ICredentialDataDecryptedObject>;
	credentialTypes: ICredentialType[];
	items?: INodeExecutionData[];
	staticData?: IDataObject;
	continueOnFail?: boolean;
	/** The id getWorkflow() reports (default "test-workflow"). */
	workflowId?: string;
}

export interface RunResult {
	output: INodeExecutionData[][];
	staticData: IDataObject;
	/** What the node passed to addExecutionHints (shown in n8n's output pane). */
	hints: NodeExecutionHint[];
}

function resolveTemplate(value: unknown, credentials: ICredentialDataDecryptedObject): unknown {
	if (typeof value !== 'string' || !value.startsWith('=')) return value;
	return value
		.slice(1)
		.replace(/\{\{\s*\$credentials\.(\w+)\s*\}\}/g, (_, key: string) =>
			String(credentials[key] ?? ''),
		);
}

/** Applies a credential type's `authenticate` to a request, like n8n's CredentialsHelper. */
export async function authenticate(
	type: ICredentialType,
	credentials: ICredentialDataDecryptedObject,
	options: IHttpRequestOptions,
): Promise<IHttpRequestOptions> {
	const auth = type.authenticate;
	if (!auth) return options;
	if (typeof auth === 'function') return await auth(credentials, options);
	const props = auth.properties;
	const result = { ...options, headers: { ...options.headers }, qs: { ...options.qs } };
	for (const [name, value] of Object.entries(props.headers ?? {}))
		result.headers[name] = resolveTemplate(value, credentials) as string;
	for (const [name, value] of Object.entries(props.qs ?? {}))
		result.qs[name] = resolveTemplate(value, credentials) as string;
	if (props.auth) {
		result.auth = {
			username: resolveTemplate(props.auth.username, credentials) as string,
			password: resolveTemplate(props.auth.password, credentials) as string,
		};
	}
	return result;
}

/** What `performRequest` answers with `returnFullResponse`. */
export interface FullResponse<Body = unknown> {
	statusCode: number;
	body: Body;
}

/**
 * Sends a request authenticated by a credential type, as n8n's credential test and
 * httpRequestWithAuthentication do, and answers the full response whatever its status.
 */
export async function sendWithCredential<Body = unknown>(
	type: ICredentialType,
	credentials: ICredentialDataDecryptedObject,
	request: IHttpRequestOptions,
): Promise<FullResponse<Body>> {
	const options = await authenticate(type, credentials, {
		...request,
		returnFullResponse: true,
		ignoreHttpStatusErrors: true,
	});
	return (await performRequest(options)) as FullResponse<Body>;
}

/** A minimal n8n httpRequest over fetch: query string, JSON or form bodies, Basic auth, full responses. */
export async function performRequest(options: IHttpRequestOptions): Promise<unknown> {
	const url = new URL(options.url, options.baseURL);
	for (const [key, value] of Object.entries(options.qs ?? {})) {
		if (value !== undefined && value !== null) url.searchParams.append(key, String(value));
	}
	const headers: Record<string, string> = {};
	for (const [key, value] of Object.entries(options.headers ?? {}))
		headers[key.toLowerCase()] = String(value);
	if (options.auth) {
		headers.authorization = `Basic ${Buffer.from(`${options.auth.username}:${options.auth.password}`).toString('base64')}`;
	}
	let body: string | undefined;
	if (options.body instanceof URLSearchParams) {
		body = options.body.toString();
		headers['content-type'] ??= 'application/x-www-form-urlencoded';
	} else if (typeof options.body === 'string') {
		body = options.body;
	} else if (options.body !== undefined) {
		body = JSON.stringify(options.body);
		headers['content-type'] ??= 'application/json';
	}
	let response: Response;
	try {
		response = await fetch(url, {
			method: options.method ?? 'GET',
			headers,
			body,
			signal: options.timeout ? AbortSignal.timeout(options.timeout) : undefined,
		});
	} catch (error) {
		const cause = (error as { cause?: { code?: string } }).cause;
		const code =
			(error as Error).name === 'TimeoutError' ? 'ECONNABORTED' : (cause?.code ?? 'ECONNRESET');
		throw Object.assign(new Error(`request failed: ${code}`), { code });
	}
	const text = await response.text();
	if (!options.ignoreHttpStatusErrors && response.status >= 400) {
		throw Object.assign(new Error(`Request failed with status code ${response.status}`), {
			status: response.status,
		});
	}
	const responseHeaders: Record<string, string> = {};
	response.headers.forEach((value, key) => (responseHeaders[key] = value));
	let parsed: unknown = text;
	if (options.encoding !== 'text' && options.json !== false) {
		try {
			parsed = JSON.parse(text);
		} catch {
			parsed = text;
		}
	}
	return options.returnFullResponse
		? {
				body: parsed,
				headers: responseHeaders,
				statusCode: response.status,
				statusMessage: response.statusText,
			}
		: parsed;
}

/** The node as n8n passes it to the context (getNode()): this package's type, version 1, the parameters. */
export function workflowNode(
	node: INodeType,
	id: string,
	parameters: Record<string, unknown>,
): INode {
	return {
		id,
		name: node.description.displayName,
		type: `n8n-nodes-ddos-mitigation.${node.description.name}`,
		typeVersion: 1,
		position: [0, 0],
		parameters: parameters as INode['parameters'],
	};
}

function makeContext(
	node: INodeType,
	options: RunOptions,
	staticData: IDataObject,
	hints: NodeExecutionHint[] = [],
) {
	const items = options.items ?? [{ json: {} }];
	const nodeInfo = workflowNode(node, 'test-node', options.parameters);
	const credentialType = (name: string) => {
		const type = options.credentialTypes.find((t) => t.name === name);
		if (!type) throw new Error(`test: no credential type ${name}`);
		return type;
	};
	const getCredentials = async (name: string) => {
		const credentials = options.credentials[name];
		if (!credentials) throw new Error(`Node does not have any credentials of type "${name}" set`);
		return credentials;
	};
	const parameter = (
		name: string,
		itemIndex: number,
		fallback?: unknown,
		extract?: { extractValue?: boolean },
	) => {
		const perItem = options.itemParameters?.[itemIndex] ?? {};
		const value =
			name in perItem
				? perItem[name]
				: name in options.parameters
					? options.parameters[name]
					: undefined;
		const resolved = value === undefined ? (fallback ?? defaultOf(node, name)) : value;
		if (
			extract?.extractValue &&
			typeof resolved === 'object' &&
			resolved !== null &&
			'__rl' in resolved
		) {
			return (resolved as unknown as { value: unknown }).value;
		}
		return resolved;
	};
	const helpers = {
		async httpRequestWithAuthentication(
			this: unknown,
			typeName: string,
			request: IHttpRequestOptions,
		) {
			const credentials = await getCredentials(typeName);
			const authenticated = await authenticate(credentialType(typeName), credentials, request);
			try {
				return await performRequest(authenticated);
			} catch (error) {
				// n8n wraps transport errors in NodeApiError with the original as cause.
				throw new NodeApiError(nodeInfo, error as never);
			}
		},
		async httpRequest(request: IHttpRequestOptions) {
			return await performRequest(request);
		},
	};
	return {
		getInputData: () => items,
		getNode: () => nodeInfo,
		getNodeParameter: parameter,
		getCurrentNodeParameter: (name: string, extract?: { extractValue?: boolean }) =>
			parameter(name, 0, undefined, extract),
		getCredentials,
		getWorkflowStaticData: () => staticData,
		getWorkflow: () => ({ id: options.workflowId ?? 'test-workflow', name: 'test', active: true }),
		continueOnFail: () => options.continueOnFail ?? false,
		getMode: () => 'trigger',
		addExecutionHints: (...added: NodeExecutionHint[]) => hints.push(...added),
		helpers,
		logger: { debug() {}, info() {}, warn() {}, error() {} },
	};
}

function defaultOf(node: INodeType, name: string): unknown {
	return node.description.properties.find((p) => p.name === name)?.default;
}

export async function runNode(node: INodeType, options: RunOptions): Promise<RunResult> {
	const staticData = options.staticData ?? {};
	const hints: NodeExecutionHint[] = [];
	const ctx = makeContext(node, options, staticData, hints) as unknown as IExecuteFunctions;
	const output = (await node.execute!.call(ctx)) as INodeExecutionData[][];
	return { output, staticData, hints };
}

export async function listSearch(
	node: INodeType,
	method: string,
	options: RunOptions,
	filter?: string,
	paginationToken?: string,
): Promise<INodeListSearchResult> {
	const ctx = makeContext(node, options, {}) as unknown as ILoadOptionsFunctions;
	const fn = node.methods?.listSearch?.[method];
	if (!fn) throw new Error(`no listSearch method ${method}`);
	return await fn.call(ctx, filter, paginationToken);
}

/** The json of the first output's items. */
export const jsonOf = (result: RunResult) => result.output[0].map((item) => item.json);

/** Runs a node that must fail and returns the error n8n would show; a run that succeeds fails the test. */
export async function failureOf(node: INodeType, options: RunOptions): Promise<NodeFailure> {
	try {
		await runNode(node, options);
	} catch (error) {
		return error as NodeFailure;
	}
	throw new Error('expected the run to fail');
}

/** What tests read of a NodeApiError or NodeOperationError. */
export interface NodeFailure extends Error {
	description?: string | null;
	httpCode?: string | null;
}

/** Everything n8n shows of a failure (its message, description and own fields) as one text. */
export const shownText = (failure: NodeFailure) =>
	JSON.stringify({ ...failure, message: failure.message, description: failure.description });

/** The node's output under Continue On Fail as one text: what a workflow sees of a failure. */
export async function continueOnFailOutput(node: INodeType, options: RunOptions): Promise<string> {
	return JSON.stringify((await runNode(node, { ...options, continueOnFail: true })).output);
}

/**
 * Runs of a node as separate workflow executions (fresh static data each, as in another workflow or a manual
 * run): `run` returns the first output item, `failure` (one attempt) the error n8n shows. `node` is read at
 * each run, so a test can swap in a restarted node.
 */
export function separateExecutions(
	node: () => INodeType,
	runOptions: (parameters: RunOptions['parameters'], extra: Partial<RunOptions>) => RunOptions,
	params: (operation: string, extra?: Record<string, unknown>) => RunOptions['parameters'],
) {
	const options = (parameters: RunOptions['parameters']) =>
		runOptions(parameters, { staticData: {} });
	return {
		run: async (operation: string, extra: Record<string, unknown> = {}) =>
			jsonOf(await runNode(node(), options(params(operation, extra))))[0],
		failure: (operation: string, extra: Record<string, unknown> = {}) =>
			failureOf(
				node(),
				options(params(operation, { requestOptions: { maxAttempts: 1 }, ...extra })),
			),
	};
}
