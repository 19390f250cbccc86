import { z } from 'zod';
import { isMethod, METHOD_SYNTAX } from '../core/methods.js';

/** `results.json`: everything a run measured (README documents it field by field). */
const stats = z.object({
  mean: z.number().nullable(),
  std: z.number().nullable(),
  median: z.number().nullable(),
  n: z.number().int(),
});
export type Stats = z.infer<typeof stats>;

const paired = z.object({ valMetric: stats, testMetric: stats });

const iterationRecord = z.object({
  iteration: z.number().int().nonnegative(),
  trainLoss: z.number().nullable(),
  valMetric: z.number().nullable(),
  testMetric: z.number().nullable(),
  diverged: z.boolean(),
  epochs: z.number().int(),
  distanceToTheta0: z.number().nullable(),
  distanceToPrevious: z.array(z.number().nullable()),
});

const run = z.object({
  seed: z.number().int(),
  /** standard, standard-long, reinit, persistent, or persistent-<scope> (partial persistence). */
  method: z.string().refine(isMethod, `not a method; one of ${METHOD_SYNTAX}`),
  iterations: z.array(iterationRecord).min(1),
  selectedIteration: z.number().int().nonnegative(),
  final: z.object({
    trainLoss: z.number().nullable(),
    valMetric: z.number().nullable(),
    testMetric: z.number().nullable(),
  }),
  success: z.boolean().optional(),
  /** Where the selected model is saved (tfjs layers format), relative to the run directory. */
  model: z.string().optional(),
});
export type RunRecord = z.infer<typeof run>;

export const resultsSchema = z.object({
  schemaVersion: z.literal(1),
  experiment: z.string(),
  preset: z.string(),
  seeds: z.array(z.number().int()),
  config: z.record(z.string(), z.unknown()),
  metric: z.object({ name: z.string(), higherIsBetter: z.boolean(), successThreshold: z.number().optional() }),
  runs: z.array(run),
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
  /** Experiment-specific data for plots (toy2d trajectories, kink fits). */
  details: z.record(z.string(), z.unknown()),
  environment: z.object({
    backend: z.string(),
    threads: z.number().int().nullable(),
    node: z.string(),
    tfjs: z.string(),
    platform: z.string(),
    cpus: z.number().int(),
    cpuModel: z.string(),
  }),
  startedAt: z.string(),
  finishedAt: z.string(),
  durationSeconds: z.number(),
});
export type Results = z.infer<typeof resultsSchema>;
