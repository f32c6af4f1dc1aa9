#!/usr/bin/env node
// `npm run bench`: runs the benchmark sections (all, or those named as arguments) straight from the
// TypeScript sources, transpiled on load (scripts/typescript.js): no ts-node and no build. `npm run
// typecheck` checks bench/.
'use strict';

require('../scripts/dependencies').ensureDependencies();
require('../scripts/typescript').registerTypeScript();

require('./main.ts')
	.main(process.argv.slice(2))
	.then((ok) => (process.exitCode = ok ? 0 : 1))
	.catch((error) => {
		console.error(error);
		process.exitCode = 1;
	});
