// Lets a script require the project's TypeScript (the demo's simulators live under test/ and never
// ship) without a build step: each file is transpiled on load with the project's own TypeScript,
// types stripped, not checked; `npm run typecheck` checks them like the rest.
'use strict';

const fs = require('node:fs');

function compileTypeScript(module, filename) {
	const ts = require('typescript');
	const { outputText } = ts.transpileModule(fs.readFileSync(filename, 'utf8'), {
		fileName: filename,
		compilerOptions: {
			module: ts.ModuleKind.CommonJS,
			target: ts.ScriptTarget.ES2022,
			esModuleInterop: true,
		},
	});
	module._compile(outputText, filename);
}

function registerTypeScript() {
	if (require.extensions['.ts'] === compileTypeScript) return;
	// '.ts' goes first: Node tries extensions in this order, and `import './X.node'` must find
	// X.node.ts, not the X.node.json codex file next to it.
	const builtIn = { ...require.extensions };
	for (const extension of Object.keys(builtIn)) delete require.extensions[extension];
	Object.assign(require.extensions, { '.ts': compileTypeScript }, builtIn);
}

module.exports = { registerTypeScript };
