import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Granularity, Method, PenaltyKind } from 'persistent-neurons';
import { readJsonFile } from '../io/files.js';
import { formatNumber } from '../report/format.js';
import { type Results, resultsSchema, type Stats } from '../report/results-schema.js';
import { loadRunConfig, type ResolvedRun, runExperiment, UsageError, validate } from './run.js';
import { describe } from './summary.js';

export interface AblationGrid {
  kinds: PenaltyKind[];
  granularities: Granularity[];
  lambdas: number[];
}

export interface AblationRow {
  kind: PenaltyKind | 'reinit';
  granularity: Granularity | '—';
  lambda: number | null;
  /** Synthetic tasks only. */
  successRate: number | null;
  /** The selected trajectory's validation metric, over seeds. */
  valMetric: Stats;
  /** persistent − reinit validation metric on the same seed. */
  pairedVsReinit: Stats | null;
  /** Seeds where persistent's metric is better than reinit's. */
  winsOverReinit: number | null;
}

export interface AblationOptions {
  /** Each setting runs into its own directory below this one; a finished one is read, not run again. */
  outDir: string;
  onProgress?: (label: string, method: Method, done: number, total: number) => void;
}

/**
 * The penalty ablation of any experiment: `persistent` under every kind × granularity × λ, each
 * over the run's seeds, next to `reinit` on the same seeds. Every setting is an ordinary run
 * (its own directory, results.json and report), so a stopped ablation continues where it was.
 */
export async function runAblation(
  run: ResolvedRun,
  grid: AblationGrid,
  options: AblationOptions,
): Promise<{ metric: Results['metric']; rows: AblationRow[] }> {
  const { experiment, preset, config } = run;
  const settle = async (label: string, changes: Record<string, unknown>): Promise<Results> => {
    const dir = join(options.outDir, label);
    const point = validate(experiment, { ...config, ...changes });
    const started = existsSync(join(dir, 'config.json'));
    // A setting already here is reused only if it is this very setting (seeds and every value).
    if (started && JSON.stringify(loadRunConfig(dir).config) !== JSON.stringify(point))
      throw new UsageError(`${dir} holds a run of another config; give this ablation another --out directory`);
    const resultsPath = join(dir, 'results.json');
    if (existsSync(resultsPath))
      return readJsonFile(resultsPath, resultsSchema, `delete ${dir} to run this setting again`);
    return runExperiment(
      { experiment, preset, config: point },
      {
        outDir: dir,
        resume: started,
        onProgress: (method, done, total) => options.onProgress?.(label, method, done, total),
      },
    );
  };
  const baseline = await settle('reinit', { methods: ['reinit'] });
  const reinit = baseline.runs;
  const rows: AblationRow[] = [row('reinit', '—', null, reinit)];
  for (const kind of grid.kinds) {
    for (const granularity of grid.granularities) {
      for (const lambda of grid.lambdas) {
        const results = await settle(`${kind}-${granularity}-${lambda}`, {
          methods: ['persistent'],
          penalty: { ...config.penalty, kind, granularity, lambda },
        });
        rows.push(row(kind, granularity, lambda, results.runs, reinit, results.metric.higherIsBetter));
      }
    }
  }
  return { metric: baseline.metric, rows };
}

function row(
  kind: AblationRow['kind'],
  granularity: AblationRow['granularity'],
  lambda: number | null,
  runs: Results['runs'],
  reinit?: Results['runs'],
  higherIsBetter = false,
): AblationRow {
  const value = (r: Results['runs'][number]) => r.final.valMetric;
  const withSuccess = runs.filter((r) => r.success !== undefined);
  const pairs = reinit
    ? runs.flatMap((r) => {
        const other = reinit.find((q) => q.seed === r.seed);
        const [a, b] = [value(r), other ? value(other) : null];
        return a === null || b === null ? [] : [[a, b] as const];
      })
    : null;
  return {
    kind,
    granularity,
    lambda,
    successRate: withSuccess.length ? withSuccess.filter((r) => r.success).length / withSuccess.length : null,
    valMetric: describe(runs.map(value)),
    pairedVsReinit: pairs ? describe(pairs.map(([a, b]) => a - b)) : null,
    winsOverReinit: pairs ? pairs.filter(([a, b]) => (higherIsBetter ? a > b : a < b)).length : null,
  };
}

/** The ablation as a Markdown table; the persistent rows best median first. */
export function ablationTable(rows: readonly AblationRow[], metric: Results['metric']): string {
  const header =
    `| penalty | granularity | λ | success | median val ${metric.name} | mean ± std | ` +
    'persistent − reinit (mean ± std) | median | seeds better than reinit |';
  const line = (r: AblationRow) =>
    `| ${r.kind} | ${r.granularity} | ${r.lambda ?? '—'} | ${r.successRate === null ? '—' : `${Math.round(r.successRate * 100)}%`} | ` +
    `${formatNumber(r.valMetric.median)} | ${formatNumber(r.valMetric.mean)} ± ${formatNumber(r.valMetric.std)} | ` +
    `${r.pairedVsReinit ? `${formatNumber(r.pairedVsReinit.mean)} ± ${formatNumber(r.pairedVsReinit.std)}` : '—'} | ` +
    `${formatNumber(r.pairedVsReinit?.median)} | ${r.winsOverReinit === null ? '—' : `${r.winsOverReinit}/${r.pairedVsReinit?.n}`} |`;
  const sign = metric.higherIsBetter ? -1 : 1;
  const [baseline, ...persistent] = rows;
  const sorted = [...persistent].sort(
    (a, b) => sign * ((a.valMetric.median ?? sign * Infinity) - (b.valMetric.median ?? sign * Infinity)),
  );
  return [header, '|---|---|---|---|---|---|---|---|---|', line(baseline), ...sorted.map(line)].join('\n');
}
