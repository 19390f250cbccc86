import { formatNumber } from '../report/format.js';
import type { Results, Stats } from '../report/results-schema.js';

function meanStd(stats: Stats): string {
  return `${formatNumber(stats.mean)} ± ${formatNumber(stats.std)}`;
}

/** A plain-text table of a run's summary, as `pn demo` and `pn run` print it. */
export function summaryTable(results: Results): string {
  const metric = results.metric.name;
  const header = [
    'method',
    'runs',
    'success',
    `median val ${metric}`,
    `mean ± std val ${metric}`,
    `median test ${metric}`,
  ];
  const rows = Object.entries(results.summary).map(([method, s]) => [
    method,
    String(s.runs),
    s.successRate === undefined ? '—' : `${Math.round(s.successRate * 100)}%`,
    formatNumber(s.valMetric.median),
    meanStd(s.valMetric),
    formatNumber(s.testMetric.median),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => cell.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  const lines = [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
  const paired = results.pairedVsReinit ?? (results.paired ? { persistent: results.paired } : {});
  if (Object.keys(paired).length) lines.push('');
  for (const [method, { valMetric }] of Object.entries(paired)) {
    lines.push(
      `paired ${method} − reinit, val ${metric} (${valMetric.n} seeds): mean ${meanStd(valMetric)}, median ${formatNumber(valMetric.median)}` +
        ` (${results.metric.higherIsBetter ? 'higher' : 'lower'} is better)`,
    );
  }
  return lines.join('\n');
}
