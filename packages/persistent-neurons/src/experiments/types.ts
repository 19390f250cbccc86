import { z } from 'zod';
import { isMethod, METHOD_SYNTAX, type Method, type OptimizerSpec, type PenaltySpec } from '../core/index.js';
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
  /** Seeds 1..seeds: each fixes an init and a data order. */
  seeds: z.number().int().min(1).max(1000),
  methods: z
    .array(methodSchema)
    .min(1)
    .refine((methods) => new Set(methods).size === methods.length, 'a method is listed twice'),
  /** K */
  iterations: z.number().int().min(1).max(100),
  /** E */
  epochs: z.number().int().min(1),
  optimizer: optimizerSchema,
  penalty: penaltySchema,
};

export interface CommonConfig {
  seeds: number;
  methods: Method[];
  iterations: number;
  epochs: number;
  optimizer: OptimizerSpec;
  penalty: PenaltySpec;
}

/** What an experiment hands back; the runner adds summaries and the environment. */
export interface ExperimentOutput {
  metric: Results['metric'];
  runs: RunRecord[];
  details: Record<string, unknown>;
}

export interface ExperimentContext {
  /** The run directory (checkpoints and models go below it). */
  outDir: string;
  /** Progress of one method: `done` of `total` SGD steps. */
  onProgress?: (method: Method, done: number, total: number) => void;
  /** One line for what the run repairs as it goes (a damaged checkpoint redone); it prints nothing itself. */
  onWarning?: (message: string) => void;
  /** What `Experiment.prepare` returned. */
  prepared?: unknown;
  /** `Experiment.scopes` of the config: the layers each `persistent-<scope>` method penalizes. */
  scopes?: Record<string, string[]>;
}

export interface Experiment<C extends CommonConfig = CommonConfig> {
  name: string;
  description: string;
  schema: z.ZodType<C>;
  presets: Record<Preset, C>;
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
  prepare?(config: C): unknown;
  run(config: C, context: ExperimentContext): Promise<ExperimentOutput>;
}

export function seedList(config: CommonConfig): number[] {
  return Array.from({ length: config.seeds }, (_, i) => i + 1);
}
