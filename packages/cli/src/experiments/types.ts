import { isMethod, METHOD_SYNTAX, type Method, type OptimizerSpec, type PenaltySpec } from 'persistent-neurons';
import { z } from 'zod';
import type { Figure } from '../report/plots.js';
import type { Results, RunRecord } from '../report/results-schema.js';

export const PRESETS = ['smoke', 'quick', 'paper'] as const;
export type Preset = (typeof PRESETS)[number];

export const optimizerSchema: z.ZodType<OptimizerSpec> = z.discriminatedUnion('name', [
  z.strictObject({ name: z.literal('sgd'), learningRate: z.number().positive() }),
  z.strictObject({
    name: z.literal('momentum'),
    learningRate: z.number().positive(),
    momentum: z.number().min(0).max(1),
    nesterov: z.boolean().optional(),
  }),
  z.strictObject({
    name: z.literal('adam'),
    learningRate: z.number().positive(),
    beta1: z.number().min(0).max(1).optional(),
    beta2: z.number().min(0).max(1).optional(),
    epsilon: z.number().positive().optional(),
  }),
]);

export const penaltySchema: z.ZodType<PenaltySpec> = z.strictObject({
  kind: z.enum(['distance', 'inverse', 'gaussian']),
  granularity: z.enum(['global', 'layer', 'neuron']),
  lambda: z.number().nonnegative(),
  schedule: z.enum(['constant', 'release']),
  releaseFraction: z.number().min(0).max(1),
  epsilon: z.number().positive(),
  rho: z.number().positive(),
  layers: z.array(z.string()).optional(),
});

/** A method label; whether its scope exists is checked against the experiment (run.ts `validate`). */
const methodSchema = z.string().refine(isMethod, {
  error: (issue) => `unknown method ${JSON.stringify(issue.input)}; choose ${METHOD_SYNTAX}`,
}) as z.ZodType<Method>;

/** What every experiment's config holds. */
export const commonConfigShape = {
  /** Seeds firstSeed … firstSeed + seeds − 1: each fixes an init and a data order. */
  seeds: z.number().int().min(1).max(1000),
  /** The first seed (default 1): `--set firstSeed=6` runs fresh seeds, to confirm what seeds 1..5 found. */
  firstSeed: z.number().int().min(1).max(1_000_000).optional(),
  methods: z
    .array(methodSchema)
    .min(1)
    .refine((methods) => new Set(methods).size === methods.length, 'a method is listed twice'),
  /** K */
  trajectories: z.number().int().min(1).max(100),
  /** E */
  epochs: z.number().int().min(1),
  optimizer: optimizerSchema,
  penalty: penaltySchema,
};

export interface CommonConfig {
  seeds: number;
  firstSeed?: number;
  methods: Method[];
  trajectories: number;
  epochs: number;
  optimizer: OptimizerSpec;
  penalty: PenaltySpec;
}

/** What an experiment's run hands back; the runner adds summaries and the environment. */
export interface ExperimentOutput<D> {
  metric: Results['metric'];
  runs: RunRecord[];
  details: D;
}

export interface ExperimentContext<P = unknown> {
  /** The run directory (checkpoints and models go below it). */
  outDir: string;
  /** Progress of one method: `done` of `total` SGD steps. */
  onProgress?: (method: Method, done: number, total: number) => void;
  /** One line for what the run repairs as it goes (a damaged checkpoint redone); it prints nothing itself. */
  onWarning?: (message: string) => void;
  /** What `Experiment.prepare` returned. */
  prepared: P;
  /** `Experiment.scopes` of the config: the layers each `persistent-<scope>` method penalizes. */
  scopes?: Record<string, string[]>;
  /** The seeds to run, a subset of seedList(config) in order (a sweep's job); absent, all of them. */
  seeds?: number[];
}

/**
 * An experiment: its config (schema and presets), how it runs, and everything about what it
 * produces. The report and the CLI are generic: they read an experiment's `details` only
 * through its own schema, figures and summary lines. docs/architecture.md says how to add one.
 *
 * C: the config; D: the `details` of results.json; P: what `prepare` reads before the run.
 */
export interface Experiment<C extends CommonConfig = CommonConfig, D = unknown, P = unknown> {
  name: string;
  description: string;
  schema: z.ZodType<C>;
  presets: Record<Preset, C>;
  /** The schema of `details` in results.json: checked when a run writes it and when a report reads it. */
  details: z.ZodType<D>;
  /** The model's layer names, which `penalty.layers` may choose from. */
  layers(config: C): string[];
  /**
   * Named groups of `layers(config)` for partial persistence: method `persistent-<name>`
   * penalizes only that group's layers. Absent: the experiment offers no scoped methods.
   */
  scopes?(config: C): Record<string, string[]>;
  /**
   * Reads and checks what the run needs (data files) before its directory is made, so that a
   * missing or damaged file writes nothing. Its result reaches `run` as `context.prepared`.
   */
  prepare?(config: C): P;
  run(config: C, context: ExperimentContext<P>): Promise<ExperimentOutput<D>>;
  /**
   * How `run` groups seeds into trained tasks, as it passes `seedsPerTask` to `runMethods`: `all`
   * trains every seed as one batched model, 1 seed by seed (the default). A sweep runs one job per
   * method and group, so that a job computes exactly what `pn run` computes for those seeds.
   */
  seedsPerTask?: 'all' | 1;
  /**
   * The details of a run made of parts, each `run` on one method and some seeds, in the config's
   * method order and seed order. Absent: arrays are concatenated, other values taken from the
   * first part (they are equal in every part); `experiments/merge.ts`.
   */
  mergeDetails?(parts: D[]): D;
  /** The report's figures beyond the generic ones, drawn from the run's details. */
  figures?(details: D, results: Results): Figure[];
  /** Lines `pn run` prints under the summary table. */
  summary?(details: D, results: Results): string[];
  /** The explorer's panel that shows this experiment live (a URL fragment such as `#kink`). */
  explorerPanel?: string;
}

export function seedList(config: CommonConfig): number[] {
  const first = config.firstSeed ?? 1;
  return Array.from({ length: config.seeds }, (_, i) => first + i);
}
