// `npm start`: a local n8n on http://127.0.0.1:5678 with this package installed as a community package,
// an owner account ready to sign in, and workflows kept between runs (in .cache/n8n-user). Ctrl-C stops it.
'use strict';

const path = require('node:path');
const fs = require('node:fs');
const { N8nInstance, REPO, buildAndPack, installPackage, N8N_VERSION } = require('./n8nHarness');

const owner = {
	email: process.env.N8N_OWNER_EMAIL || 'operator@example.com',
	password: process.env.N8N_OWNER_PASSWORD || 'Mitigate-2026',
};

async function main() {
	const userFolder = process.env.N8N_DDOS_USER_FOLDER || path.join(REPO, '.cache', 'n8n-user');
	fs.mkdirSync(userFolder, { recursive: true });
	const n8n = new N8nInstance({ userFolder, port: Number(process.env.PORT || 5678), owner });
	await n8n.prepare();
	installPackage(userFolder, buildAndPack(path.join(REPO, '.cache', 'pack')));

	const stop = async () => {
		await n8n.stop();
		process.exit(0);
	};
	process.on('SIGINT', stop);
	process.on('SIGTERM', stop);

	await n8n.start({ foreground: true });
	process.stdout.write(
		[
			'',
			`n8n ${N8N_VERSION} is ready with n8n-nodes-ddos-mitigation loaded.`,
			`  Open:      ${n8n.url}`,
			`  Sign in:   ${owner.email} / ${owner.password}`,
			`  Data:      ${userFolder}`,
			'  Search the node panel for "Cloudflare", "Incident Gate" or "DDoS". Ctrl-C stops n8n.',
			'',
		].join('\n'),
	);
}

main().catch((error) => {
	process.stderr.write(`${error.stack || error}\n`);
	process.exit(1);
});
