import type { Figure } from './types.ts';
import type { BenchResult } from './runner.ts';

const formatNumber = (n: number): string => (Number.isInteger(n) ? String(n) : Number.isNaN(n) ? 'n/a' : n.toFixed(n < 10 ? 2 : 1).replace(/\.?0+$/, ''));

/** A figure as one table cell: counts by key as `key n` sorted by count, most first. */
export function formatFigure(value: Figure): string {
  if (typeof value === 'number') return formatNumber(value);
  if (typeof value === 'string') return value;
  const entries = Object.entries(value).sort(([ka, a], [kb, b]) => b - a || ka.localeCompare(kb));
  return entries.length === 0 ? '–' : entries.map(([k, n]) => `${k} ${formatNumber(n)}`).join(', ');
}

/** The whole run as one markdown table (scenario | figure | value), with the run's provenance above it. */
export function markdownTable(result: BenchResult): string {
  const lines = [
    `Commit ${result.git.commit.slice(0, 12)}${result.git.dirty ? ' (with uncommitted changes)' : ''}, ${result.size} sizes, Node ${result.node}, ` +
      `${result.machine.cpus} × ${result.machine.cpuModel}, ${(result.machine.memoryBytes / 2 ** 30).toFixed(0)} GiB; ${result.startedAt}; total ${(result.durationMs / 1000).toFixed(0)} s.`,
    '',
    '| scenario | figure | value |',
    '| --- | --- | --- |',
  ];
  for (const scenario of result.scenarios) {
    const size = Object.entries(scenario.size).map(([k, v]) => `${k}=${v}`).join(' ');
    lines.push(`| **${scenario.name}** | size | ${size} |`);
    if (!scenario.ok) lines.push(`| ${scenario.name} | FAILED | ${(scenario.error ?? '').split('\n')[0]!.replace(/\|/g, '\\|')} |`);
    for (const [name, value] of Object.entries(scenario.figures)) lines.push(`| ${scenario.name} | ${name} | ${formatFigure(value).replace(/\|/g, '\\|')} |`);
    lines.push(`| ${scenario.name} | scenario wall time (setup + cleanup) | ${(scenario.durationMs / 1000).toFixed(1)} s |`);
  }
  return lines.join('\n');
}
