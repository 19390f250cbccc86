import {
  disposeSnapshot,
  type Granularity,
  methodOptions,
  type PenaltyKind,
  type TrainResult,
  trainPersistent,
} from '../core/index.js';
import { makeKinkData } from '../data/kink.js';
import { formatNumber } from '../report/report.js';
import type { Stats } from '../report/results-schema.js';
import type { KinkConfig } from './kink.js';
import { KinkTask } from './kink-task.js';
import { describe } from './summary.js';
import { seedList } from './types.js';

export interface AblationGrid {
  kinds: PenaltyKind[];
  granularities: Granularity[];
  lambdas: number[];
}

export interface AblationRow {
  kind: PenaltyKind | 'reinit';
  granularity: Granularity | '—';
  lambda: number | null;
  successRate: number;
  /** Selected validation MSE / best linear fit's, over seeds. */
  mseRatio: Stats;
  /** persistent − reinit validation MSE on the same seed. */
  pairedVsReinit: Stats | null;
  /** Seeds where persistent's MSE is below reinit's. */
  winsOverReinit: number | null;
}

/**
 * The kink penalty ablation: every kind × granularity × λ, each over the config's seeds, next to
 * `reinit` on the same seeds. One batched model per kind × granularity trains all λ × seeds.
 */
export function runKinkAblation(
  config: KinkConfig,
  grid: AblationGrid,
  onProgress?: (label: string, done: number, total: number) => void,
): AblationRow[] {
  const data = makeKinkData(config.data);
  const seeds = seedList(config);
  const selectedMse = (result: TrainResult) =>
    result.records.map((history, r) => history[result.selected[r]].valMetric);
  const train = (
    label: string,
    replicaSeeds: number[],
    method: 'reinit' | 'persistent',
    replicaLambda?: number[],
    penalty = config.penalty,
  ) => {
    const task = new KinkTask(data, config.hidden, replicaSeeds, config.batchSize);
    const options = methodOptions(method, { ...config, penalty });
    const total = options.iterations * options.epochs * task.stepsPerEpoch;
    let done = 0;
    const result = trainPersistent(task, {
      ...options,
      replicaLambda,
      onEvent: (event) => {
        if (event.type === 'step') onProgress?.(label, ++done, total);
      },
    });
    const mse = selectedMse(result);
    for (const solution of result.solutions) disposeSnapshot(solution);
    disposeSnapshot(result.theta0);
    task.dispose();
    return mse;
  };
  const threshold = config.successRatio * data.linearFitMse;
  const row = (
    kind: AblationRow['kind'],
    granularity: AblationRow['granularity'],
    lambda: number | null,
    mse: number[],
    reinit?: number[],
  ): AblationRow => ({
    kind,
    granularity,
    lambda,
    successRate: mse.filter((m) => m < threshold).length / mse.length,
    mseRatio: describe(mse.map((m) => m / data.linearFitMse)),
    pairedVsReinit: reinit ? describe(mse.map((m, i) => m - reinit[i])) : null,
    winsOverReinit: reinit ? mse.filter((m, i) => m < reinit[i]).length : null,
  });

  const reinit = train('reinit', seeds, 'reinit');
  const rows: AblationRow[] = [row('reinit', '—', null, reinit)];
  for (const kind of grid.kinds) {
    for (const granularity of grid.granularities) {
      const replicaSeeds = grid.lambdas.flatMap(() => seeds);
      const replicaLambda = grid.lambdas.flatMap((lambda) => seeds.map(() => lambda));
      const penalty = { ...config.penalty, kind, granularity };
      const mse = train(`${kind}/${granularity}`, replicaSeeds, 'persistent', replicaLambda, penalty);
      grid.lambdas.forEach((lambda, l) => {
        rows.push(row(kind, granularity, lambda, mse.slice(l * seeds.length, (l + 1) * seeds.length), reinit));
      });
    }
  }
  return rows;
}

/** The ablation as a Markdown table, best median first within the persistent rows. */
export function ablationTable(rows: readonly AblationRow[]): string {
  const header =
    '| penalty | granularity | λ | success | median MSE / linear | mean ± std | persistent − reinit (median) | seeds better than reinit |';
  const line = (r: AblationRow) =>
    `| ${r.kind} | ${r.granularity} | ${r.lambda ?? '—'} | ${Math.round(r.successRate * 100)}% | ${formatNumber(r.mseRatio.median)} | ` +
    `${formatNumber(r.mseRatio.mean)} ± ${formatNumber(r.mseRatio.std)} | ${formatNumber(r.pairedVsReinit?.median)} | ` +
    `${r.winsOverReinit === null ? '—' : `${r.winsOverReinit}/${r.mseRatio.n}`} |`;
  const sorted = [...rows].sort((a, b) =>
    a.kind === 'reinit'
      ? -1
      : b.kind === 'reinit'
        ? 1
        : (a.mseRatio.median ?? Infinity) - (b.mseRatio.median ?? Infinity),
  );
  return [header, '|---|---|---|---|---|---|---|---|', ...sorted.map(line)].join('\n');
}
