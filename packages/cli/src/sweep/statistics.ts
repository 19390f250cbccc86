import { holm } from '../experiments/summary.js';
import type { SweepFile, SweepPoint } from './state.js';

/** The baselines every persistent method of a point is compared with, as each run's results give them. */
export const SWEEP_BASELINES = ['reinit', 'standard-long'] as const;
export type SweepBaseline = (typeof SWEEP_BASELINES)[number];

type PairedEntry = NonNullable<SweepPoint['pairedVsReinit']>[string];
export type GridStats = PairedEntry['valMetric'] & {
  ci95?: [number, number] | null;
  p?: number | null;
  pHolm?: number | null;
  /** p Holm-adjusted across every comparison of the grid (all done points, both baselines) of the same split. */
  pHolmGrid?: number | null;
};

export interface GridComparison {
  point: SweepPoint;
  method: string;
  baseline: SweepBaseline;
  split: 'valMetric' | 'testMetric';
  stats: GridStats;
}

function pairedOf(point: SweepPoint, baseline: SweepBaseline) {
  return baseline === 'reinit' ? point.pairedVsReinit : point.pairedVsStandardLong;
}

/** Every paired comparison of the sweep's done points: point by point, baseline by baseline, method by method. */
export function gridComparisons(sweep: Pick<SweepFile, 'points'>): GridComparison[] {
  return sweep.points
    .filter((point) => point.status === 'done')
    .flatMap((point) =>
      SWEEP_BASELINES.flatMap((baseline) =>
        Object.entries(pairedOf(point, baseline) ?? {}).flatMap(([method, entry]) =>
          (['valMetric', 'testMetric'] as const).map((split) => ({
            point,
            method,
            baseline,
            split,
            stats: entry[split] as GridStats,
          })),
        ),
      ),
    );
}

/**
 * Sets `pHolmGrid` on every paired comparison of the done points: its p-value Holm-adjusted across
 * the grid's comparisons of the same split (every point, persistent method and baseline), the
 * correction a reader needs before picking the best cell of a grid. Each run's own `pHolm` stays:
 * it corrects only across that point's comparisons.
 */
export function adjustAcrossGrid(sweep: Pick<SweepFile, 'points'>): void {
  const all = gridComparisons(sweep);
  for (const split of ['valMetric', 'testMetric'] as const) {
    const family = all.filter((c) => c.split === split);
    const adjusted = holm(family.map((c) => (typeof c.stats.p === 'number' ? c.stats.p : null)));
    family.forEach((c, i) => {
      c.stats.pHolmGrid = adjusted[i];
    });
  }
}
