// n8n's community-node rules on the package itself (nodes, credentials, package.json), typescript-eslint's
// recommended rules on the TypeScript around it (tests, simulators, benchmarks, scripts), and ESLint's recommended
// rules on the plain Node.js scripts. We use n8n's self-hosted rule set (recommendedWithoutN8nCloudSupport)
// because this package targets self-hosted n8n; the README lists every rule switched off here and why.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';
import * as jsoncParser from 'jsonc-eslint-parser';
import { n8nCommunityNodesPlugin } from '@n8n/eslint-plugin-community-nodes';

const PACKAGE = ['nodes/**/*.ts', 'credentials/**/*.ts', 'package.json'];
const TOOLING_TS = ['test/**/*.ts', 'bench/**/*.ts', 'scripts/**/*.ts'];

export default [
	{ ignores: ['dist/**', 'node_modules/**', '.cache/**', 'coverage/**', 'examples/**', 'docs/**'] },
	{ files: ['**/*.ts'], languageOptions: { parser: tseslint.parser } },
	{ files: ['package.json'], languageOptions: { parser: jsoncParser } },
	{
		files: PACKAGE,
		...n8nCommunityNodesPlugin.configs.recommendedWithoutN8nCloudSupport,
	},
	{
		files: PACKAGE,
		rules: {
			// aws4 (SigV4) and zod (input validation) are deliberate, small runtime dependencies: see README.
			'@n8n/community-nodes/no-runtime-dependencies': 'off',
			// Transports throw typed ProviderError/InputError; the one per-item runner (nodes/shared/provider.ts)
			// turns each into NodeApiError/NodeOperationError with its itemIndex, which this rule cannot follow.
			'@n8n/community-nodes/require-node-api-error': 'off',
		},
	},
	...tseslint.configs.recommended.map((config) => ({ ...config, files: TOOLING_TS })),
	{
		files: TOOLING_TS,
		rules: {
			// `const { secret, ...rest } = x` is how tests and simulators leave a field out of a copy.
			'@typescript-eslint/no-unused-vars': ['error', { ignoreRestSiblings: true }],
		},
	},
	{
		files: ['**/*.js', '**/*.mjs'],
		...js.configs.recommended,
		languageOptions: { ecmaVersion: 2022, globals: { ...globals.node } },
	},
	{
		files: ['**/*.js', '**/*.mjs'],
		rules: { 'no-unused-vars': ['error', { ignoreRestSiblings: true }] },
	},
	{ files: ['**/*.js'], languageOptions: { sourceType: 'commonjs' } },
];
