import { METHODS } from '../core/index.js';
import type { Results, RunRecord, Stats } from '../report/results-schema.js';

/** Mean, sample standard deviation and median of the finite values. */
export function describe(values: readonly (number | null)[]): Stats {
  const finite = values.filter((v): v is number => v !== null && Number.isFinite(v)).sort((a, b) => a - b);
  const n = finite.length;
  if (n === 0) return { mean: null, std: null, median: null, n };
  const mean = finite.reduce((a, b) => a + b, 0) / n;
  const std = n > 1 ? Math.sqrt(finite.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1)) : 0;
  const median = n % 2 ? finite[(n - 1) / 2] : (finite[n / 2 - 1] + finite[n / 2]) / 2;
  return { mean, std, median, n };
}

export function summarize(runs: readonly RunRecord[]): Results['summary'] {
  const summary: Results['summary'] = {};
  for (const method of METHODS) {
    const mine = runs.filter((run) => run.method === method);
    if (!mine.length) continue;
    const withSuccess = mine.filter((run) => run.success !== undefined);
    summary[method] = {
      runs: mine.length,
      ...(withSuccess.length
        ? { successRate: withSuccess.filter((run) => run.success).length / withSuccess.length }
        : {}),
      diverged: mine.filter((run) => run.iterations[run.selectedIteration].diverged).length,
      valMetric: describe(mine.map((run) => run.final.valMetric)),
      testMetric: describe(mine.map((run) => run.final.testMetric)),
    };
  }
  return summary;
}

/** persistent − reinit on the seeds both ran. */
export function pairedDifference(runs: readonly RunRecord[]): Results['paired'] {
  const bySeed = (method: string) => new Map(runs.filter((run) => run.method === method).map((run) => [run.seed, run]));
  const persistent = bySeed('persistent');
  const reinit = bySeed('reinit');
  const seeds = [...persistent.keys()].filter((seed) => reinit.has(seed));
  if (!seeds.length) return null;
  const difference = (pick: (run: RunRecord) => number | null) =>
    describe(
      seeds.map((seed) => {
        const a = pick(persistent.get(seed) as RunRecord);
        const b = pick(reinit.get(seed) as RunRecord);
        return a === null || b === null ? null : a - b;
      }),
    );
  return { valMetric: difference((run) => run.final.valMetric), testMetric: difference((run) => run.final.testMetric) };
}
