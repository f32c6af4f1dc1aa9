// n8n's community-node rules. We use the self-hosted rule set (recommendedWithoutN8nCloudSupport) because this
// package targets self-hosted n8n; the README lists every rule switched off here and why.
import tseslint from 'typescript-eslint';
import * as jsoncParser from 'jsonc-eslint-parser';
import { n8nCommunityNodesPlugin } from '@n8n/eslint-plugin-community-nodes';

export default [
	{
		ignores: [
			'dist/**',
			'node_modules/**',
			'.cache/**',
			'test/**',
			'scripts/**',
			'examples/**',
			'*.js',
			'*.mjs',
		],
	},
	{ files: ['**/*.ts'], languageOptions: { parser: tseslint.parser } },
	{ files: ['package.json'], languageOptions: { parser: jsoncParser } },
	{
		files: ['**/*.ts', 'package.json'],
		...n8nCommunityNodesPlugin.configs.recommendedWithoutN8nCloudSupport,
	},
	{
		files: ['**/*.ts', 'package.json'],
		rules: {
			// aws4 (SigV4) and zod (input validation) are deliberate, small runtime dependencies: see README.
			'@n8n/community-nodes/no-runtime-dependencies': 'off',
			// Transports throw typed ProviderError/InputError; the one per-item runner (nodes/shared/provider.ts)
			// turns each into NodeApiError/NodeOperationError with its itemIndex, which this rule cannot follow.
			'@n8n/community-nodes/require-node-api-error': 'off',
		},
	},
];
