import { formatInterval, formatNumber, formatP, textTable, verdict } from '../report/format.js';
import type { Paired, Results, Stats } from '../report/results-schema.js';

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
  const lines = [textTable(header, rows)];
  const baselines: [string, Record<string, Paired> | undefined][] = [
    ['reinit', results.pairedVsReinit ?? (results.paired ? { persistent: results.paired } : undefined)],
    ['standard-long', results.pairedVsStandardLong],
  ];
  const { higherIsBetter } = results.metric;
  const comparisons = baselines.flatMap(([baseline, byMethod]) =>
    Object.entries(byMethod ?? {}).map(([method, { valMetric }]) => {
      const interval =
        valMetric.ci95 === undefined ? '' : `, 95% CI ${formatInterval(valMetric.ci95)}, p ${formatP(valMetric.p)}`;
      return (
        `${method} − ${baseline}, val ${metric} (${valMetric.n} seeds): mean ${meanStd(valMetric)}${interval}` +
        (valMetric.ci95 === undefined ? '' : `: ${verdict(valMetric, higherIsBetter)}`)
      );
    }),
  );
  if (comparisons.length)
    lines.push(
      '',
      `paired differences (${higherIsBetter ? 'higher' : 'lower'} is better; 95% CI of the mean):`,
      ...comparisons,
    );
  return lines.join('\n');
}
