// Fires a test incident into the demo started by `npm start -- --demo`:
//   node scripts/demo-incident.js open|resolve <incident id> [--port <status page port>]
// The demo's detectors (PagerDuty's simulator, FastNetMon, Alertmanager) report it to the imported
// workflows.
'use strict';

const USAGE = 'usage: node scripts/demo-incident.js open|resolve <incident id> [--port 5680]';

async function main(args) {
	const portAt = args.indexOf('--port');
	const port = portAt === -1 ? 5680 : Number(args.splice(portAt, 2)[1]);
	const [action, id] = args;
	if (!['open', 'resolve'].includes(action) || !id || !Number.isInteger(port))
		throw new Error(USAGE);

	let response;
	try {
		response = await fetch(
			`http://127.0.0.1:${port}/incidents/${encodeURIComponent(id)}/${action}`,
			{ method: 'POST' },
		);
	} catch {
		throw new Error(`No demo answers on port ${port}. Start it with: npm start -- --demo`);
	}
	const result = await response.json();
	if (response.status !== 200)
		throw new Error(`The demo could not send the incident: ${result.error}`);
	for (const { detector, status } of result.deliveries)
		process.stdout.write(`${detector} -> n8n ${status}\n`);
	if (result.deliveries.length === 0)
		throw new Error('No imported workflow has a trigger the demo can reach.');
	// n8n answers a webhook with 200 once it has accepted the event.
	if (result.deliveries.some(({ status }) => status !== 200))
		throw new Error('Some deliveries were refused; see the n8n log the demo printed.');
	process.stdout.write(
		`Incident ${id} ` +
			`${action === 'open' ? 'opened' : 'resolved'}. Watch ` +
			`http://127.0.0.1:${port}/\n`,
	);
}

main(process.argv.slice(2)).catch((error) => {
	process.stderr.write(`${error.message}\n`);
	process.exit(1);
});
