import padjust from '@stdlib/stats-padjust';
import ttest from '@stdlib/stats-ttest';
import { parseMethod } from 'persistent-neurons';
import type { Paired, PairedStats, Results, RunRecord, Stats } from '../report/results-schema.js';

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

/**
 * The paired difference `a − b` over seeds: mean, std, median, n, and from a paired Student t-test
 * the 95% confidence interval of the mean and the two-sided p-value (null below two seeds). When
 * every difference is the same, the interval is that value and p is 0 (1 if it is 0).
 */
export function describePaired(differences: readonly (number | null)[]): PairedStats {
  const stats = describe(differences);
  const finite = differences.filter((d): d is number => d !== null && Number.isFinite(d));
  if (finite.length < 2 || stats.mean === null) return { ...stats, ci95: null, p: null };
  const test = ttest(finite);
  const degenerate = !Number.isFinite(test.ci[0]) || !Number.isFinite(test.ci[1]);
  return {
    ...stats,
    ci95: degenerate ? [stats.mean, stats.mean] : [test.ci[0], test.ci[1]],
    p: degenerate ? Number(stats.mean === 0) : test.pValue,
  };
}

/** Holm's step-down adjustment of p-values for multiple comparisons; nulls stay null and are not counted. */
export function holm(ps: readonly (number | null)[]): (number | null)[] {
  const present = ps.flatMap((p, i) => (p === null ? [] : [i]));
  if (present.length === 0) return ps.map(() => null);
  const adjusted = padjust(
    present.map((i) => ps[i] as number),
    'holm',
  );
  const out: (number | null)[] = ps.map(() => null);
  present.forEach((i, k) => {
    out[i] = adjusted[k];
  });
  return out;
}

/** `method` − `baseline` on the seeds both ran; null when either is missing. */
export function pairedDifference(
  runs: readonly RunRecord[],
  method = 'persistent',
  baseline = 'reinit',
): Paired | null {
  const bySeed = (name: string) => new Map(runs.filter((run) => run.method === name).map((run) => [run.seed, run]));
  const subject = bySeed(method);
  const reference = bySeed(baseline);
  const seeds = [...subject.keys()].filter((seed) => reference.has(seed));
  if (!seeds.length) return null;
  const difference = (pick: (run: RunRecord) => number | null) =>
    describePaired(
      seeds.map((seed) => {
        const a = pick(subject.get(seed) as RunRecord);
        const b = pick(reference.get(seed) as RunRecord);
        return a === null || b === null ? null : a - b;
      }),
    );
  return { valMetric: difference((run) => run.final.valMetric), testMetric: difference((run) => run.final.testMetric) };
}

/** Every persistent method of the runs (full and scoped) − `baseline`, by method. */
export function pairedVs(runs: readonly RunRecord[], baseline: string): Record<string, Paired> {
  const persistent = [...new Set(runs.map((run) => run.method))].filter(
    (method) => parseMethod(method)?.method === 'persistent',
  );
  return Object.fromEntries(
    persistent.flatMap((method) => {
      const paired = pairedDifference(runs, method, baseline);
      return paired ? [[method, paired]] : [];
    }),
  );
}

/**
 * The paired comparisons of a run: every persistent method against reinit and against
 * standard-long, with each split's p-values Holm-adjusted across all of them.
 */
export function pairedComparisons(runs: readonly RunRecord[]): {
  paired: Paired | null;
  pairedVsReinit: Record<string, Paired>;
  pairedVsStandardLong: Record<string, Paired>;
} {
  const pairedVsReinit = pairedVs(runs, 'reinit');
  const pairedVsStandardLong = pairedVs(runs, 'standard-long');
  const all = [...Object.values(pairedVsReinit), ...Object.values(pairedVsStandardLong)];
  for (const split of ['valMetric', 'testMetric'] as const) {
    const adjusted = holm(all.map((entry) => entry[split].p ?? null));
    all.forEach((entry, i) => {
      entry[split].pHolm = adjusted[i];
    });
  }
  return { paired: pairedVsReinit.persistent ?? null, pairedVsReinit, pairedVsStandardLong };
}
