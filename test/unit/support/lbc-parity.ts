/**
 * How each case of the LBC's Service model-building tables (fixtures/lbc/case-names.json) stands in our unit
 * tests as they run: a passing row named by its test function and exact case name, a row of a deliberate
 * difference (its name goes on `(deliberate: …)`), or missing. lbc-parity.test.ts holds docs/lbc-parity.md to
 * these counts.
 *
 * Run: sh scripts/toolchain.sh node test/unit/support/lbc-parity.ts   (prints the table for docs/lbc-parity.md)
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { LbcTestFunction } from './extract-lbc-case-names.ts';

export const UNIT_DIR = new URL('..', import.meta.url).pathname;

export type Status = 'agree' | 'deliberate' | 'missing';

export interface Count {
  cases: number;
  ported: number;
  agree: number;
  deliberate: number;
}

export const lbcFunctions = (): LbcTestFunction[] =>
  (JSON.parse(readFileSync(join(UNIT_DIR, 'fixtures/lbc/case-names.json'), 'utf8')) as { functions: LbcTestFunction[] }).functions;

/** A test as vitest's JSON reporter lists it: describe titles and its own, joined; whether it passed. */
export interface RanTest {
  fullName: string;
  passed: boolean;
}

/**
 * Runs the unit test files that name an LBC test function (their rows as vitest names them, tables expanded)
 * and lists their tests. A nested vitest: the names are only known at run time.
 */
export function runLbcRows(): RanTest[] {
  const files = lbcTestFiles(UNIT_DIR);
  const out = join(mkdtempSync(join(tmpdir(), 'cpl-lbc-parity-')), 'rows.json');
  try {
    const vitest = join(UNIT_DIR, '../../node_modules/vitest/vitest.mjs');
    const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('VITEST')));
    spawnSync(process.execPath, [vitest, 'run', '--project', 'unit', '--reporter=json', `--outputFile=${out}`, ...files], { cwd: join(UNIT_DIR, '../..'), env, stdio: 'ignore' });
    const report = JSON.parse(readFileSync(out, 'utf8')) as { testResults: { assertionResults: { ancestorTitles: string[]; title: string; status: string }[] }[] };
    return report.testResults.flatMap((file) => file.assertionResults.map((t) => ({ fullName: [...t.ancestorTitles, t.title].join(' '), passed: t.status === 'passed' })));
  } finally {
    rmSync(dirname(out), { recursive: true, force: true });
  }
}

/** Unit test files that name an LBC test function (this accounting's own test left out). */
function lbcTestFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return lbcTestFiles(path);
    return entry.name.endsWith('.test.ts') && entry.name !== 'lbc-parity.test.ts' && /\bTest_\w+/.test(readFileSync(path, 'utf8')) ? [path] : [];
  });
}

/**
 * A case's standing among the tests run: a passing test whose name holds its test function and its exact case
 * name (trimmed) in double quotes; deliberate when that name goes on `(deliberate: …)`.
 */
export function caseStatus(tests: readonly RanTest[], testFunction: string, caseName: string): Status {
  const rows = rowsOf(tests, testFunction, caseName);
  if (rows.length === 0) return 'missing';
  return rows.some((t) => t.fullName.includes(`"${caseName.trim()}" (deliberate`)) ? 'deliberate' : 'agree';
}

const rowsOf = (tests: readonly RanTest[], testFunction: string, caseName: string) =>
  tests.filter((t) => t.passed && t.fullName.includes(testFunction) && t.fullName.includes(`"${caseName.trim()}"`));

/** Why a deliberate row differs, as its name says after `(deliberate: `. */
export function deliberateReason(tests: readonly RanTest[], testFunction: string, caseName: string): string | undefined {
  const marker = `"${caseName.trim()}" (deliberate: `;
  const name = rowsOf(tests, testFunction, caseName).find((t) => t.fullName.includes(marker))?.fullName;
  return name?.slice(name.indexOf(marker) + marker.length).replace(/\)[^)]*$/, '');
}

/** Per test function, each case's standing. */
export function parity(tests: readonly RanTest[]): { fn: LbcTestFunction; statuses: (readonly [string, Status])[] }[] {
  return lbcFunctions().map((fn) => ({ fn, statuses: fn.cases.map((name) => [name, caseStatus(tests, fn.name, name)] as const) }));
}

export function counts(statuses: readonly (readonly [string, Status])[]): Count {
  const count = (status: Status) => statuses.filter(([, s]) => s === status).length;
  return { cases: statuses.length, ported: statuses.length - count('missing'), agree: count('agree'), deliberate: count('deliberate') };
}

/** docs/lbc-parity.md's table: `| \`Test_…\` | cases | ported | agree | deliberate |` rows by function. */
export function documentedCounts(doc: string): Map<string, Count> {
  const rows = [...doc.matchAll(/^\| `(Test_\w+)` \| (\d+) \| (\d+) \| (\d+) \| (\d+) \|$/gm)];
  return new Map(rows.map((m) => [m[1]!, { cases: Number(m[2]), ported: Number(m[3]), agree: Number(m[4]), deliberate: Number(m[5]) }]));
}

function main(): void {
  const tests = runLbcRows();
  const standing = parity(tests);
  const rows = standing.map(({ fn, statuses }) => ({ fn, ...counts(statuses) }));
  const total = (key: keyof Count) => rows.reduce((n, r) => n + r[key], 0);
  const lines = [
    '| LBC test (file) | cases | ported | agree | deliberate |',
    '| --- | ---: | ---: | ---: | ---: |',
    ...rows.map((r) => `| \`${r.fn.name}\` | ${r.cases} | ${r.ported} | ${r.agree} | ${r.deliberate} |`),
    `| **total** | **${total('cases')}** | **${total('ported')}** | **${total('agree')}** | **${total('deliberate')}** |`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  for (const { fn, statuses } of standing) {
    for (const [name, s] of statuses) if (s !== 'agree') process.stderr.write(`${s}: ${fn.name} "${name}"${s === 'deliberate' ? `: ${deliberateReason(tests, fn.name, name)}` : ''}\n`);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) main();
