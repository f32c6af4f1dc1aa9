import { createServer, type Server } from 'node:http';

import type { Delivery, IncidentAction } from './detectors';

/**
 * The demo's status page (HTML that refreshes itself every 2 s, and the same as JSON at /state) and
 * its control endpoint POST /incidents/<id>/open|resolve, which scripts/demo-incident.js calls.
 */

export interface RequestSeen {
	at: string;
	simulator: string;
	method: string;
	path: string;
	/** HTTP status, or what a daemon did with it (a BGP route received, a command recorded). */
	status: number | string;
}

export interface DemoState {
	n8n: string;
	holdDown: { withdrawDelaySeconds: number; tickSeconds: number };
	simulators: Array<{
		name: string;
		baseUrl: string;
		credential: string;
		mitigating: boolean;
		resources: string[];
		/** Successful write calls so far. */
		writes: number;
		/** Each time mitigation went on or off, as seen by the demo. */
		changes: Array<{ at: string; mitigating: boolean }>;
	}>;
	incidents: Array<{ at: string; action: IncidentAction; id: string; deliveries: Delivery[] }>;
	/** Newest first. */
	requests: RequestSeen[];
}

const escape = (text: string) =>
	text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
const time = (iso: string) => iso.slice(11, 19);

const STYLE = [
	'body{font:14px system-ui,sans-serif;margin:1.5em;color:#222}' +
		'section{border:1px solid #ccc;border-radius:6px;padding:.5em 1em;margin:.5em 0}',
	'section.on{border-color:#c33;background:#fff3f3}h2{font-size:1em;margin:.3em 0}' +
		'h2 span{font-weight:normal;color:#666}.on h2 span{color:#c33;font-weight:bold}',
	'ul{margin:.2em 0;padding-left:1.2em}.meta{color:#777;font-size:.85em;margin:.2em 0}' +
		'table{border-collapse:collapse}td{padding:1px 8px;font-family:monospace;vertical-align:top}',
	'tr.write{background:#fff6d6}' +
		'.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(420px,1fr));gap:0 1em}',
].join('\n');

/** One table row of these cells. */
const row = (cells: Array<string | number>, attributes = '') =>
	`<tr${attributes}>${cells.map((cell) => `<td>${cell}</td>`).join('')}</tr>`;

function render(state: DemoState): string {
	const simulators = state.simulators
		.map((s) => {
			const status = s.name === 'PagerDuty' ? 'detector' : s.mitigating ? 'MITIGATING' : 'idle';
			return (
				`<section class="${s.mitigating ? 'on' : 'off'}">` +
				`<h2>${escape(s.name)} <span>${status}</span></h2>\n` +
				`<ul>${s.resources.map((r) => `<li>${escape(r)}</li>`).join('')}</ul>\n` +
				`<p class="meta">${s.writes} write calls · credential "${escape(s.credential)}" · ` +
				`${escape(s.baseUrl)}</p></section>`
			);
		})
		.join('\n');
	const incidents = state.incidents
		.slice(-10)
		.reverse()
		.map((i) =>
			row([
				time(i.at),
				`${i.action} ${escape(i.id)}`,
				i.deliveries.map((d) => `${escape(d.detector)}: ${escape(String(d.status))}`).join('<br>'),
			]),
		)
		.join('');
	const requests = state.requests
		.slice(0, 30)
		.map((r) =>
			row(
				[time(r.at), escape(r.simulator), r.method, escape(r.path), r.status],
				` class="${r.method === 'GET' ? '' : 'write'}"`,
			),
		)
		.join('');
	const none = '<tr><td>none yet</td></tr>';
	const { withdrawDelaySeconds, tickSeconds } = state.holdDown;
	return [
		'<!doctype html><html><head><meta charset="utf-8"><meta http-equiv="refresh" content="2">' +
			'<title>DDoS mitigation demo</title>',
		`<style>${STYLE}</style></head><body>`,
		'<h1>DDoS mitigation demo</h1>',
		`<p>n8n: <a href="${escape(state.n8n)}">${escape(state.n8n)}</a> · ` +
			`hold-down ${withdrawDelaySeconds} s, Tick every ${tickSeconds} s ` +
			'(the examples use minutes) · this page refreshes every 2 s · ' +
			'<a href="/state">JSON</a></p>',
		`<div class="grid">${simulators}</div>`,
		`<h2>Incidents sent</h2><table>${incidents || none}</table>`,
		'<h2>Last requests the simulators received (writes highlighted)</h2>' +
			`<table>${requests || none}</table>`,
		'</body></html>',
	].join('\n');
}

export async function startStatusPage(
	port: number,
	handlers: { state(): DemoState; fire(action: IncidentAction, id: string): Promise<Delivery[]> },
): Promise<Server> {
	const server = createServer((req, res) => {
		const url = new URL(req.url ?? '/', 'http://127.0.0.1');
		const incident = /^\/incidents\/([^/]+)\/(open|resolve)$/.exec(url.pathname);
		const reply = (status: number, type: string, body: string) =>
			res.writeHead(status, { 'content-type': type }).end(body);
		if (req.method === 'POST' && incident) {
			handlers.fire(incident[2] as IncidentAction, decodeURIComponent(incident[1])).then(
				(deliveries) => reply(200, 'application/json', JSON.stringify({ deliveries })),
				(error: Error) => reply(500, 'application/json', JSON.stringify({ error: error.message })),
			);
		} else if (req.method === 'GET' && url.pathname === '/state')
			reply(200, 'application/json', JSON.stringify(handlers.state(), null, 2));
		else if (req.method === 'GET' && url.pathname === '/')
			reply(200, 'text/html; charset=utf-8', render(handlers.state()));
		else reply(404, 'text/plain', 'not found');
	});
	await new Promise<void>((resolve, reject) => {
		server.once('error', reject);
		server.listen(port, '127.0.0.1', resolve);
	});
	return server;
}
