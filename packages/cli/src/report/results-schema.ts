import { isMethod, METHOD_SYNTAX } from 'persistent-neurons';
import { z } from 'zod';

/** `results.json`: everything a run measured (README documents it field by field). */
const stats = z.object({
  mean: z.number().nullable(),
  std: z.number().nullable(),
  median: z.number().nullable(),
  n: z.number().int(),
});
export type Stats = z.infer<typeof stats>;

/**
 * A paired difference over seeds: its Stats, the 95% confidence interval of the mean difference
 * (Student t over the per-seed differences) and the paired t-test's two-sided p-value; `pHolm` is
 * p Holm-adjusted across the run's comparisons of the same split. Absent in results written before.
 */
const pairedStats = stats.extend({
  ci95: z.tuple([z.number(), z.number()]).nullable().optional(),
  p: z.number().nullable().optional(),
  pHolm: z.number().nullable().optional(),
});
export type PairedStats = z.infer<typeof pairedStats>;

const paired = z.object({ valMetric: pairedStats, testMetric: pairedStats });
export type Paired = z.infer<typeof paired>;

/**
 * Version 1 files (and run directories) called the K runs from θ0 *iterations*; version 2 calls
 * them trajectories. Each object schema below reads the old names too, so old files still load.
 */
function renamed<T extends z.ZodType>(names: Record<string, string>, schema: T) {
  return z.preprocess((value) => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
    const entries = Object.entries(value).map(([key, v]) => [
      key in names && !(names[key] in value) ? names[key] : key,
      v,
    ]);
    return Object.fromEntries(entries);
  }, schema);
}

/** Version 1's `iteration` keys, anywhere in a JSON value (an experiment's details), as `trajectory`. */
export function renameIterationKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(renameIterationKeys);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, v]) => [key === 'iteration' ? 'trajectory' : key, renameIterationKeys(v)]),
  );
}

const trajectoryRecordObject = z.object({
  trajectory: z.number().int().nonnegative(),
  trainLoss: z.number().nullable(),
  valMetric: z.number().nullable(),
  testMetric: z.number().nullable(),
  diverged: z.boolean(),
  epochs: z.number().int(),
  distanceToTheta0: z.number().nullable(),
  distanceToPrevious: z.array(z.number().nullable()),
  curve: z
    .object({
      epochs: z.array(z.number().int()),
      trainLoss: z.array(z.number().nullable()),
      valMetric: z.array(z.number().nullable()),
    })
    .optional(),
});
export const trajectoryRecordSchema = renamed({ iteration: 'trajectory' }, trajectoryRecordObject);

const runObject = z.object({
  seed: z.number().int(),
  /** standard, standard-long, reinit, persistent, or persistent-<scope> (partial persistence). */
  method: z.string().refine(isMethod, `not a method; one of ${METHOD_SYNTAX}`),
  trajectories: z.array(trajectoryRecordSchema).min(1),
  selectedTrajectory: z.number().int().nonnegative(),
  final: z.object({
    trainLoss: z.number().nullable(),
    valMetric: z.number().nullable(),
    testMetric: z.number().nullable(),
  }),
  success: z.boolean().optional(),
  /** Where the selected model is saved (tfjs layers format), relative to the run directory. */
  model: z.string().optional(),
});
export const runSchema = renamed({ iterations: 'trajectories', selectedIteration: 'selectedTrajectory' }, runObject);
export type RunRecord = z.infer<typeof runSchema>;

/** The version `results.json` is written in; version 1 files are read too. */
export const RESULTS_VERSION = 2;

/** Where a run's numbers came from. */
export const environmentSchema = z.object({
  backend: z.string(),
  threads: z.number().int().nullable(),
  node: z.string(),
  tfjs: z.string(),
  platform: z.string(),
  cpus: z.number().int(),
  cpuModel: z.string(),
  /** The CPU's widest vector ISA (AVX-512, AVX2, …); absent in results written before it was recorded. */
  isa: z.string().nullable().optional(),
  /** The project's version: package version + hash of the code that ran. */
  version: z.string().optional(),
  /** sha256 of package-lock.json, where the CLI runs from the workspace. */
  lockHash: z.string().nullable().optional(),
  /** `pn run --jobs`: the methods trained at once, each in a process of `threads` threads; absent: one process. */
  processes: z.number().int().positive().optional(),
});

export const metricSchema = z.object({
  name: z.string(),
  higherIsBetter: z.boolean(),
  successThreshold: z.number().optional(),
});

const resultsObject = z.object({
  schemaVersion: z.literal(RESULTS_VERSION),
  experiment: z.string(),
  preset: z.string(),
  seeds: z.array(z.number().int()),
  config: z.record(z.string(), z.unknown()),
  metric: metricSchema,
  runs: z.array(runSchema),
  summary: z.record(
    z.string(),
    z.object({
      runs: z.number().int(),
      successRate: z.number().optional(),
      diverged: z.number().int(),
      valMetric: stats,
      testMetric: stats,
    }),
  ),
  /** persistent − reinit on the same seeds, of the final validation and test metric. */
  paired: paired.nullable(),
  /**
   * Every persistent method (persistent and persistent-<scope>) − reinit on the same seeds, by
   * method; `paired` is its `persistent` entry. Absent in results written before scopes existed.
   */
  pairedVsReinit: z.record(z.string(), paired).optional(),
  /** Every persistent method − standard-long (the same compute in one run) on the same seeds, by method. */
  pairedVsStandardLong: z.record(z.string(), paired).optional(),
  /** What the experiment records beyond the runs (its figures' data), checked by its own schema. */
  details: z.record(z.string(), z.unknown()),
  environment: environmentSchema,
  startedAt: z.string(),
  finishedAt: z.string(),
  durationSeconds: z.number(),
});

/** Results as written now, or by version 1 (whose trajectory names are read as today's). */
export const resultsSchema = z.preprocess((value) => {
  if (typeof value !== 'object' || value === null || (value as { schemaVersion?: unknown }).schemaVersion !== 1)
    return value;
  const old = value as Record<string, unknown> & { config?: Record<string, unknown> };
  const { iterations, ...config } = old.config ?? {};
  return {
    ...old,
    schemaVersion: RESULTS_VERSION,
    config: iterations === undefined ? config : { ...config, trajectories: iterations },
    details: renameIterationKeys(old.details),
  };
}, resultsObject);
export type Results = z.infer<typeof resultsSchema>;
