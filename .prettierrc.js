// n8n-nodes-starter's settings, so the code reads like n8n's own nodes.
module.exports = {
	semi: true,
	trailingComma: 'all',
	bracketSpacing: true,
	useTabs: true,
	tabWidth: 2,
	arrowParens: 'always',
	singleQuote: true,
	quoteProps: 'as-needed',
	endOfLine: 'lf',
	printWidth: 100,
	// npm rewrites package.json and package-lock.json with two spaces: keep them that way.
	overrides: [{ files: ['package.json'], options: { useTabs: false } }],
};
