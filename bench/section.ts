/**
 * A benchmark section: one part of `npm run bench` (gate, end to end, storm, provider efficiency).
 * A section measures, and where the issue asks for a ratio, measures its baseline in the same run,
 * so that both figures come from the same machine under the same load.
 */

export interface Table {
	columns: string[];
	rows: Array<Array<string | number>>;
}

export interface SectionResult {
	table: Table;
	/** Machine-readable figures, written to bench-results/latest.json under the section's id. */
	figures: unknown;
	/**
	 * Broken promises found while measuring (e.g. a write on an idempotent repeat); any makes the run
	 * fail.
	 */
	failures: string[];
	notes?: string[];
}

export interface Section {
	/** Command-line name and key in latest.json, e.g. "provider-efficiency". */
	id: string;
	title: string;
	run(): Promise<SectionResult>;
}

/** A Markdown table: readable in a terminal, pasted as is into the README. */
export function formatTable({ columns, rows }: Table): string {
	const cells = [columns, ...rows.map((row) => row.map(String))];
	const widths = columns.map((_, i) => Math.max(...cells.map((row) => row[i].length)));
	const line = (row: string[]) => `| ${row.map((cell, i) => cell.padEnd(widths[i])).join(' | ')} |`;
	return [line(cells[0]), line(widths.map((w) => '-'.repeat(w))), ...cells.slice(1).map(line)].join(
		'\n',
	);
}
