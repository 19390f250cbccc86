import { parseMethod } from 'persistent-neurons';
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

/** Per method, in the order the runs list them (the config's). */
export function summarize(runs: readonly RunRecord[]): Results['summary'] {
  const summary: Results['summary'] = {};
  for (const method of new Set(runs.map((run) => run.method))) {
    const mine = runs.filter((run) => run.method === method);
    const withSuccess = mine.filter((run) => run.success !== undefined);
    summary[method] = {
      runs: mine.length,
      ...(withSuccess.length
        ? { successRate: withSuccess.filter((run) => run.success).length / withSuccess.length }
        : {}),
      diverged: mine.filter((run) => run.trajectories[run.selectedTrajectory].diverged).length,
      valMetric: describe(mine.map((run) => run.final.valMetric)),
      testMetric: describe(mine.map((run) => run.final.testMetric)),
    };
  }
  return summary;
}

/** `method` − reinit (persistent − reinit by default) on the seeds both ran; null when either is missing. */
export function pairedDifference(runs: readonly RunRecord[], method = 'persistent'): Results['paired'] {
  const bySeed = (method: string) => new Map(runs.filter((run) => run.method === method).map((run) => [run.seed, run]));
  const persistent = bySeed(method);
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

/** The paired difference to reinit of every persistent method of the runs, full and scoped. */
export function pairedVsReinit(runs: readonly RunRecord[]): NonNullable<Results['pairedVsReinit']> {
  const persistent = [...new Set(runs.map((run) => run.method))].filter(
    (method) => parseMethod(method)?.method === 'persistent',
  );
  return Object.fromEntries(
    persistent.flatMap((method) => {
      const paired = pairedDifference(runs, method);
      return paired ? [[method, paired]] : [];
    }),
  );
}
