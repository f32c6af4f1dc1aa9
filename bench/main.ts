import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, release, totalmem, type } from 'node:os';
import { join } from 'node:path';

import { endToEnd } from './endToEnd';
import { gate } from './gate';
import { providerEfficiency } from './providerEfficiency';
import { storm } from './storm';
import { formatTable, type Section } from './section';

/** The sections in the order they run; `npm run bench -- <id> ...` runs only those named. */
const SECTIONS: Section[] = [gate, endToEnd, storm, providerEfficiency];

const RESULTS = join(__dirname, '..', 'bench-results', 'latest.json');

function machine() {
	return {
		cpu: cpus()[0]?.model ?? 'unknown',
		cores: cpus().length,
		memoryGiB: Math.round(totalmem() / 2 ** 30),
		os: `${type()} ${release()}`,
		node: process.version,
	};
}

/** The commit measured, marked when the working tree had changes on top of it. */
function commit(): string {
	const git = (...args: string[]) =>
		execFileSync('git', args, { cwd: __dirname, encoding: 'utf8' }).trim();
	try {
		return (
			git('rev-parse', '--short', 'HEAD') +
			(git('status', '--porcelain') ? ' + uncommitted changes' : '')
		);
	} catch {
		return 'unknown';
	}
}

/**
 * Runs the chosen sections, prints their tables, writes latest.json; resolves false if any promise
 * was broken.
 */
export async function main(args: string[]): Promise<boolean> {
	const unknown = args.filter((arg) => !SECTIONS.some((section) => section.id === arg));
	if (unknown.length > 0)
		throw new Error(
			`Unknown section ${unknown.join(', ')}; sections: ${SECTIONS.map((s) => s.id).join(', ')}`,
		);
	const selected =
		args.length > 0 ? SECTIONS.filter((section) => args.includes(section.id)) : SECTIONS;

	const report = {
		ranAt: new Date().toISOString(),
		machine: machine(),
		commit: commit(),
		sections: {} as Record<string, unknown>,
	};
	const { cpu, cores, memoryGiB, os, node } = report.machine;
	console.log(
		`Machine: ${cpu}, ${cores} cores, ${memoryGiB} GiB, ${os}, ` +
			`Node ${node}; commit ${report.commit}\n`,
	);
	let kept = true;
	for (const section of selected) {
		const result = await section.run();
		console.log(`## ${section.title}\n\n${formatTable(result.table)}\n`);
		for (const note of result.notes ?? []) console.log(note);
		for (const failure of result.failures) console.log(`FAILED: ${failure}`);
		console.log();
		report.sections[section.id] = { figures: result.figures, failures: result.failures };
		kept &&= result.failures.length === 0;
	}
	mkdirSync(join(RESULTS, '..'), { recursive: true });
	writeFileSync(RESULTS, JSON.stringify(report, null, 2) + '\n');
	console.log(`Written to ${RESULTS}`);
	return kept;
}
