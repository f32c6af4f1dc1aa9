// `npm run screenshot [-- <workflow.json> [<output.png>]]`: opens a workflow in the editor of a
// real, local n8n (with this package installed as a community package) in Debian's headless
// Chromium and saves a picture of the canvas, by default docs/workflow.png for the README. Without
// a workflow file it draws Webhook -> Magic Transit -> Under Attack.
'use strict';

const { execFileSync } = require('node:child_process');
const { randomUUID } = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { N8nInstance, REPO, buildAndPack, ensureN8n, installPackage } = require('./n8nHarness');

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_FLAGS = [
	'--headless',
	'--no-sandbox',
	'--disable-gpu',
	'--disable-background-networking',
	'--disable-component-update',
	'--disable-sync',
	'--no-first-run',
];
const VIEWPORT = { width: 1280, height: 720 };
const owner = { email: 'operator@example.com', password: 'Screenshot-2026' };

function log(message) {
	process.stderr.write(`[screenshot] ${message}\n`);
}

function ensureChromium() {
	if (fs.existsSync(CHROMIUM)) return;
	log("installing Debian's chromium");
	const install = () =>
		execFileSync('apt-get', ['install', '-y', 'chromium'], {
			stdio: 'inherit',
			env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
		});
	try {
		install();
	} catch {
		execFileSync('apt-get', ['update'], { stdio: 'inherit' });
		install();
	}
}

/** The project's playwright-core if it has one, else the copy n8n itself depends on. */
function playwright() {
	return require(require.resolve('playwright-core', { paths: [REPO, ensureN8n().modules] }));
}

function cloudflareWorkflow() {
	const account = { __rl: true, mode: 'id', value: '023e105f4ecef8ad9ca31a8372d0c353' };
	const credentials = {
		cloudflareMitigationApi: { id: 'cfExample000001', name: 'Cloudflare account' },
	};
	const node = (name, type, position, parameters, extra = {}) => ({
		id: randomUUID(),
		name,
		type,
		typeVersion: 1,
		position,
		parameters,
		...extra,
	});
	return {
		id: 'screenshotCf0001',
		name: 'DDoS alert: Cloudflare mitigation',
		nodes: [
			node(
				'DDoS alert',
				'n8n-nodes-base.webhook',
				[0, 0],
				{ httpMethod: 'POST', path: 'ddos-alert', options: {} },
				{ typeVersion: 2, webhookId: randomUUID() },
			),
			node(
				'Advertise prefix',
				'n8n-nodes-ddos-mitigation.cloudflareMagicTransit',
				[260, 0],
				{
					operation: 'activate',
					accountId: account,
					prefixId: { __rl: true, mode: 'id', value: '2af39739cc4e3b5910c918468bb89828' },
				},
				{ credentials },
			),
			node(
				'Under Attack Mode on',
				'n8n-nodes-ddos-mitigation.cloudflareUnderAttack',
				[520, 0],
				{
					operation: 'activate',
					zoneId: { __rl: true, mode: 'id', value: '9a7806061c88ada191ed06f989cc3dac' },
				},
				{ credentials },
			),
		],
		connections: {
			'DDoS alert': { main: [[{ node: 'Advertise prefix', type: 'main', index: 0 }]] },
			'Advertise prefix': { main: [[{ node: 'Under Attack Mode on', type: 'main', index: 0 }]] },
		},
		active: false,
		settings: { executionOrder: 'v1' },
	};
}

function readWorkflow(file) {
	const parsed = JSON.parse(fs.readFileSync(file, 'utf8'));
	const workflow = Array.isArray(parsed) ? parsed[0] : parsed;
	return { ...workflow, id: workflow.id || 'screenshotWf0001', active: false };
}

/**
 * Credentials the workflow's nodes refer to, with no secrets: they only need to exist for the nodes
 * to look set up.
 */
function placeholderCredentials(workflow) {
	const byId = new Map();
	for (const node of workflow.nodes) {
		for (const [type, { id, name }] of Object.entries(node.credentials || {}))
			byId.set(id, { id, name, type, data: {} });
	}
	return [...byId.values()];
}

async function main() {
	const [workflowFile, output = path.join(REPO, 'docs', 'workflow.png')] = process.argv.slice(2);
	const workflow = workflowFile ? readWorkflow(workflowFile) : cloudflareWorkflow();
	ensureChromium();

	const n8n = await new N8nInstance({ owner }).prepare();
	let browser;
	try {
		installPackage(
			n8n.userFolder,
			buildAndPack(fs.mkdtempSync(path.join(os.tmpdir(), 'ddos-pack-'))),
		);
		const credentials = placeholderCredentials(workflow);
		if (credentials.length > 0) n8n.importCredentials(credentials);
		n8n.importWorkflows([workflow], { publish: false });
		await n8n.start();
		const { cookie } = await n8n.login();

		browser = await playwright().chromium.launch({
			executablePath: CHROMIUM,
			args: CHROMIUM_FLAGS,
		});
		const context = await browser.newContext({ viewport: VIEWPORT, deviceScaleFactor: 2 });
		await context.addCookies(
			cookie.split('; ').map((pair) => {
				const [name, ...value] = pair.split('=');
				return { name, value: value.join('='), url: n8n.url };
			}),
		);
		const page = await context.newPage();
		await page.goto(`${n8n.url}/workflow/${workflow.id}`);
		const nodes = page.locator('[data-test-id="canvas-node"]');
		await nodes.nth(workflow.nodes.length - 1).waitFor({ timeout: 60_000 });
		// Node icons and fonts arrive after the canvas: wait for them, then for the fit-to-view to
		// settle.
		await page.waitForLoadState('networkidle');
		await page.waitForTimeout(1000);
		fs.mkdirSync(path.dirname(output), { recursive: true });
		await page.screenshot({ path: output });
		log(`saved ${path.relative(process.cwd(), output)}`);
	} finally {
		await browser?.close();
		await n8n.stop();
		n8n.cleanup();
	}
}

main().catch((error) => {
	process.stderr.write(`${error.stack || error}\n`);
	process.exit(1);
});
