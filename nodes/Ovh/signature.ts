import { createHash } from 'node:crypto';
import type {
	ICredentialDataDecryptedObject,
	IDataObject,
	IHttpRequestOptions,
} from 'n8n-workflow';

import { processMemory } from '../shared/processMemory';

/**
 * OVHcloud request signing, as the official clients (python-ovh, node-ovh, go-ovh) do it: "$1$" +
 * sha1_hex(applicationSecret + "+" + consumerKey + "+" + METHOD + "+" + fullUrl + "+" + body + "+"
 * + timestamp), where fullUrl is the exact URL sent (percent-encoded path and query string) and
 * body the exact bytes sent. Used by the credential's `authenticate`, so every request goes through
 * n8n's credential system.
 */

/** API roots of the official clients' endpoint names. */
export const OVH_ENDPOINTS: Record<string, { name: string; url: string; createToken: string }> = {
	'ovh-eu': {
		name: 'OVHcloud Europe',
		url: 'https://eu.api.ovh.com/1.0',
		createToken: 'https://eu.api.ovh.com/createToken/',
	},
	'ovh-ca': {
		name: 'OVHcloud Canada',
		url: 'https://ca.api.ovh.com/1.0',
		createToken: 'https://ca.api.ovh.com/createToken/',
	},
	'ovh-us': {
		name: 'OVHcloud US',
		url: 'https://api.us.ovhcloud.com/1.0',
		createToken: 'https://api.us.ovhcloud.com/createToken/',
	},
	'kimsufi-eu': {
		name: 'Kimsufi Europe',
		url: 'https://eu.api.kimsufi.com/1.0',
		createToken: 'https://eu.api.kimsufi.com/createToken/',
	},
	'kimsufi-ca': {
		name: 'Kimsufi Canada',
		url: 'https://ca.api.kimsufi.com/1.0',
		createToken: 'https://ca.api.kimsufi.com/createToken/',
	},
	'soyoustart-eu': {
		name: 'So you Start Europe',
		url: 'https://eu.api.soyoustart.com/1.0',
		createToken: 'https://eu.api.soyoustart.com/createToken/',
	},
	'soyoustart-ca': {
		name: 'So you Start Canada',
		url: 'https://ca.api.soyoustart.com/1.0',
		createToken: 'https://ca.api.soyoustart.com/createToken/',
	},
};

export const TIMESTAMP_HEADER = 'X-Ovh-Timestamp';

/** The API root: the credential's Base URL when set, otherwise the chosen endpoint's. */
export function ovhBaseUrl(credentials: ICredentialDataDecryptedObject): string {
	const configured = typeof credentials.baseUrl === 'string' ? credentials.baseUrl.trim() : '';
	const endpoint =
		OVH_ENDPOINTS[String(credentials.endpoint ?? 'ovh-eu')] ?? OVH_ENDPOINTS['ovh-eu'];
	return (configured || endpoint.url).replace(/\/+$/, '');
}

export function ovhSignature(parts: {
	applicationSecret: string;
	consumerKey: string;
	method: string;
	url: string;
	body: string;
	timestamp: string;
}): string {
	const { applicationSecret, consumerKey, method, url, body, timestamp } = parts;
	const payload = [applicationSecret, consumerKey, method.toUpperCase(), url, body, timestamp].join(
		'+',
	);
	return '$1$' + createHash('sha1').update(payload, 'utf8').digest('hex');
}

const clockOffsets = processMemory.ovhClockOffsets;

export const ovhClock = {
	offset: (baseUrl: string) => clockOffsets.get(baseUrl),
	/** Records the offset from a GET /auth/time answer (server epoch seconds). */
	record(baseUrl: string, serverEpoch: number, sentAtMs: number, receivedAtMs: number): number {
		const localMid = (sentAtMs + receivedAtMs) / 2000;
		const offset = Math.round(serverEpoch - localMid);
		clockOffsets.set(baseUrl, offset);
		return offset;
	},
	now: (offset: number) => String(Math.floor(Date.now() / 1000) + offset),
};

/**
 * Reads OVH's clock directly: only for requests that do not come from the node (the credential
 * test).
 */
async function fetchServerOffset(baseUrl: string): Promise<number> {
	const sentAt = Date.now();
	const response = await fetch(`${baseUrl}/auth/time`, { signal: AbortSignal.timeout(10_000) });
	const epoch = Number(await response.text());
	if (!response.ok || !Number.isFinite(epoch))
		throw new Error(`GET ${baseUrl}/auth/time answered HTTP ${response.status}`);
	return ovhClock.record(baseUrl, epoch, sentAt, Date.now());
}

function headerValue(headers: IDataObject | undefined, name: string): string | undefined {
	const key = Object.keys(headers ?? {}).find((k) => k.toLowerCase() === name.toLowerCase());
	return key === undefined ? undefined : String(headers![key]);
}

/**
 * The credential's `authenticate`: adds the OVH headers over the exact URL and body that will be
 * sent.
 */
export async function signOvhRequest(
	credentials: ICredentialDataDecryptedObject,
	requestOptions: IHttpRequestOptions,
): Promise<IHttpRequestOptions> {
	const options: IHttpRequestOptions = {
		...requestOptions,
		headers: { ...requestOptions.headers },
	};
	const headers = options.headers as IDataObject;
	const baseUrl = ovhBaseUrl(credentials);

	// Relative URLs (the credential test) resolve against the chosen endpoint.
	let url = options.url;
	if (!/^https?:\/\//i.test(url))
		url = (options.baseURL ? options.baseURL.replace(/\/+$/, '') : baseUrl) + url;
	delete options.baseURL;
	// The query string goes into the URL itself, so the signed URL is the one sent.
	const query = new URLSearchParams();
	for (const [key, value] of Object.entries(options.qs ?? {})) {
		if (value !== undefined && value !== null) query.append(key, String(value));
	}
	delete options.qs;
	if ([...query.keys()].length) url += (url.includes('?') ? '&' : '?') + query.toString();
	options.url = url;

	// Sign the bytes that are sent: a string body as is, an object as the JSON we then send.
	let body = '';
	if (typeof options.body === 'string') {
		body = options.body;
	} else if (
		options.body &&
		typeof options.body === 'object' &&
		Object.keys(options.body).length > 0
	) {
		body = JSON.stringify(options.body);
		options.body = body;
		if (headerValue(headers, 'content-type') === undefined)
			headers['Content-Type'] = 'application/json';
	} else {
		delete options.body;
	}

	headers['X-Ovh-Application'] = String(credentials.applicationKey ?? '').trim();
	// /auth/time is public; signing it would need the time it is asked for.
	if (/\/auth\/time(\?|$)/.test(url)) return options;

	let timestamp = headerValue(headers, TIMESTAMP_HEADER);
	if (timestamp === undefined) {
		let offset = ovhClock.offset(baseUrl);
		if (offset === undefined) {
			try {
				offset = await fetchServerOffset(baseUrl);
			} catch {
				// Unreachable clock: sign with this machine's time; OVH answers QUERY_TIME_OUT if it is
				// off.
				offset = 0;
			}
		}
		timestamp = ovhClock.now(offset);
		headers[TIMESTAMP_HEADER] = timestamp;
	}
	const consumerKey = String(credentials.consumerKey ?? '').trim();
	headers['X-Ovh-Consumer'] = consumerKey;
	headers['X-Ovh-Signature'] = ovhSignature({
		applicationSecret: String(credentials.applicationSecret ?? '').trim(),
		consumerKey,
		method: options.method ?? 'GET',
		url,
		body,
		timestamp,
	});
	return options;
}
