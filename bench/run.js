#!/usr/bin/env node
// `npm run bench`: runs the benchmark sections (all, or those named as arguments) straight from the TypeScript
// sources. Transpiling them (types stripped, not checked) with the project's own TypeScript needs no ts-node and no build;
// `npm run typecheck` checks bench/ like the rest.
'use strict';

const fs = require('node:fs');
const ts = require('typescript');

function compileTypeScript(module, filename) {
	const { outputText } = ts.transpileModule(fs.readFileSync(filename, 'utf8'), {
		fileName: filename,
		compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
	});
	module._compile(outputText, filename);
}

// '.ts' goes first: Node tries extensions in this order, and `import './X.node'` must find X.node.ts, not the
// X.node.json codex file next to it.
const builtIn = { ...require.extensions };
for (const extension of Object.keys(builtIn)) delete require.extensions[extension];
Object.assign(require.extensions, { '.ts': compileTypeScript }, builtIn);

require('./main.ts')
	.main(process.argv.slice(2))
	.then((ok) => (process.exitCode = ok ? 0 : 1))
	.catch((error) => {
		console.error(error);
		process.exitCode = 1;
	});
