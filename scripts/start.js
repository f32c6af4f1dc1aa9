// `npm start`: a local n8n on http://127.0.0.1:5678 with this package installed as a community
// package, an owner account ready to sign in, and workflows kept between runs (in .cache/n8n-user).
// Ctrl-C stops it. `npm start -- --demo`: the same n8n with the examples wired to local provider
// simulators (scripts/demo/), in its own folder (.cache/n8n-demo) that starts afresh every time.
'use strict';

const path = require('node:path');
const fs = require('node:fs');
const { ensureDependencies } = require('./dependencies');
const { N8nInstance, REPO, buildAndPack, installPackage, N8N_VERSION } = require('./n8nHarness');

const owner = {
	email: process.env.N8N_OWNER_EMAIL || 'operator@example.com',
	password: process.env.N8N_OWNER_PASSWORD || 'Mitigate-2026',
};
const demoMode = process.argv.slice(2).includes('--demo');

/** The demo's n8n database goes on every start, so gate state and simulators (both fresh) agree. */
function demoUserFolder() {
	const folder = process.env.N8N_DDOS_DEMO_FOLDER || path.join(REPO, '.cache', 'n8n-demo');
	const n8nData = path.join(folder, '.n8n');
	if (fs.existsSync(n8nData)) {
		for (const file of fs.readdirSync(n8nData).filter((name) => name.startsWith('database.sqlite')))
			fs.rmSync(path.join(n8nData, file));
	}
	return folder;
}

async function main() {
	ensureDependencies();
	const userFolder = demoMode
		? demoUserFolder()
		: process.env.N8N_DDOS_USER_FOLDER || path.join(REPO, '.cache', 'n8n-user');
	fs.mkdirSync(userFolder, { recursive: true });
	const n8n = new N8nInstance({ userFolder, port: Number(process.env.PORT || 5678), owner });
	await n8n.prepare();
	installPackage(userFolder, buildAndPack(path.join(REPO, '.cache', 'pack')));

	let demo;
	const stop = async () => {
		await n8n.stop();
		await demo?.stop();
		process.exit(0);
	};
	process.on('SIGINT', stop);
	process.on('SIGTERM', stop);

	if (demoMode) {
		require('./typescript').registerTypeScript();
		const { prepareDemo, DEFAULT_STATUS_PORT } = require('./demo/demo.ts');
		demo = await prepareDemo(n8n, {
			statusPort: Number(process.env.DEMO_PORT || DEFAULT_STATUS_PORT),
			timings: { withdrawDelaySeconds: 20, tickSeconds: 5 },
			log: (line) => process.stdout.write(`[demo] ${line}\n`),
		});
	}

	// The demo keeps n8n's own output in its log file so that the terminal shows the demo's calls.
	await n8n.start({ foreground: !demoMode });
	await demo?.waitUntilLive();
	process.stdout.write(
		[
			'',
			`n8n ${N8N_VERSION} is ready with n8n-nodes-ddos-mitigation ` +
				`loaded${demoMode ? ', in demo mode' : ''}.`,
			`  Open:      ${n8n.url}`,
			`  Sign in:   ${owner.email} / ${owner.password}`,
			`  Data:      ${userFolder}${demoMode ? ' (starts afresh on every demo start)' : ''}`,
			...(demoMode
				? [
						`  n8n log:   ${n8n.logFile}`,
						'',
						...demo.instructions(),
						'',
						'Demo ready. Every call that changes a simulator is logged ' +
							'below. Ctrl-C stops n8n and the simulators.',
					]
				: [
						'  Search the node panel for "Cloudflare", "Incident Gate" ' +
							'or "DDoS". Ctrl-C stops n8n.',
						'  New here? `npm start -- --demo` runs the examples against ' +
							'local provider simulators.',
					]),
			'',
		].join('\n'),
	);
}

main().catch((error) => {
	process.stderr.write(`${error.stack || error}\n`);
	process.exit(1);
});
