// Installs this project's npm dependencies when they are missing or older than package-lock.json,
// so that `npm start`, `npm test` and `npm run bench` work on a fresh clone with nothing run before
// them.
'use strict';

const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const REPO = path.resolve(__dirname, '..');

function ensureDependencies() {
	// npm writes this copy of the lock on every install: older than the lock (or absent) means
	// install again.
	const installed = path.join(REPO, 'node_modules', '.package-lock.json');
	const lock = path.join(REPO, 'package-lock.json');
	if (fs.existsSync(installed) && fs.statSync(installed).mtimeMs >= fs.statSync(lock).mtimeMs)
		return;
	process.stderr.write('[deps] installing the npm dependencies (npm install)\n');
	// `npm install` honours the lock; `npm ci` refuses it here (the registry lacks some of jest's
	// optional non-Linux bindings).
	execFileSync('npm', ['install', '--no-audit', '--no-fund'], { cwd: REPO, stdio: 'inherit' });
}

if (require.main === module) ensureDependencies();

module.exports = { ensureDependencies };
