// Copies node and credential icons (and codex files) next to the compiled JavaScript,
// where n8n resolves `icon: 'file:x.svg'` relative to the node file.
const { src, dest, task } = require('gulp');

task('build:icons', () =>
	src(['nodes/**/*.{png,svg}', 'nodes/**/*.node.json', 'credentials/**/*.{png,svg}'], {
		base: '.',
		encoding: false,
	}).pipe(dest('dist')),
);
