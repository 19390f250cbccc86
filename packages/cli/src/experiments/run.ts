import { accessSync, constants, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { type Method, parseMethod } from 'persistent-neurons';
import { z } from 'zod';
import { DataError } from '../data/errors.js';
import { UsageError } from '../io/errors.js';
import { nanToNull, readJsonFile, writeFileAtomic, writeJsonAtomic } from '../io/files.js';
import { RESULTS_VERSION, type Results, resultsSchema } from '../report/results-schema.js';
import { environment } from './environment.js';
import { runReport } from './presentation.js';
import { runMethodsInProcesses } from './processes.js';
import { type AnyExperiment, experiments } from './registry.js';
import { pairedComparisons, summarize } from './summary.js';
import { type CommonConfig, type ExperimentOutput, PRESETS, type Preset, seedList } from './types.js';

export { UsageError };

export interface ResolvedRun {
  experiment: AnyExperiment;
  preset: Preset;
  config: CommonConfig;
}

/** The config of `experiment` at `preset`, with `--seeds` and every `--set key=value` applied and validated. */
export function resolveConfig(
  experimentName: string,
  preset: string,
  seeds?: number,
  sets: readonly string[] = [],
): ResolvedRun {
  const experiment = experiments[experimentName];
  if (!experiment)
    throw new UsageError(
      `unknown experiment "${experimentName}"; choose one of: ${Object.keys(experiments).join(', ')} (see pn list)`,
    );
  if (!PRESETS.includes(preset as Preset))
    throw new UsageError(`unknown preset "${preset}"; choose one of: ${PRESETS.join(', ')}`);
  const config = structuredClone(experiment.presets[preset as Preset]) as unknown as Record<string, unknown>;
  if (seeds !== undefined) config.seeds = seeds;
  for (const assignment of sets) applySet(config, assignment);
  return { experiment, preset: preset as Preset, config: validate(experiment, config) };
}

export function validate(experiment: AnyExperiment, config: unknown): CommonConfig {
  const parsed = experiment.schema.safeParse(config);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    if (issue.code === 'unrecognized_keys') {
      // The schema is strict: a misspelt --set key lands here, with the object it was set in.
      const where = issue.path.reduce<unknown>((object, key) => (object as Record<PropertyKey, unknown>)[key], config);
      const known = Object.keys(where as object).filter((key) => !issue.keys.includes(key));
      const path = [...issue.path, issue.keys[0]].join('.');
      throw new UsageError(`invalid ${experiment.name} config: unknown key "${path}"; known here: ${known.join(', ')}`);
    }
    throw new UsageError(`invalid ${experiment.name} config: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  const layers = experiment.layers(parsed.data);
  const unknown = parsed.data.penalty.layers?.filter((layer) => !layers.includes(layer)) ?? [];
  if (unknown.length)
    throw new UsageError(
      `invalid ${experiment.name} config: penalty.layers: no layer ${unknown.join(', ')}; the model has ${layers.join(', ')}`,
    );
  const scopes = Object.keys(experiment.scopes?.(parsed.data) ?? {});
  for (const method of parsed.data.methods) {
    const scope = parseMethod(method)?.scope;
    if (scope !== undefined && !scopes.includes(scope))
      throw new UsageError(
        `invalid ${experiment.name} config: methods: no persistence scope "${scope}" (${method}); ` +
          (scopes.length
            ? `${experiment.name} has ${scopes.map((s) => `persistent-${s}`).join(', ')}`
            : `${experiment.name} defines none; choose layers with penalty.layers instead`),
      );
  }
  return parsed.data;
}

/** `a.b=value`: value is JSON when it parses (numbers, booleans, arrays), else a string. The key must exist. */
export function applySet(config: Record<string, unknown>, assignment: string): void {
  const eq = assignment.indexOf('=');
  if (eq <= 0) throw new UsageError(`--set needs key=value, got "${assignment}"`);
  const path = assignment.slice(0, eq).split('.');
  const raw = assignment.slice(eq + 1);
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    value = raw;
  }
  // Whether the key exists is the schema's to say (strict objects reject unknown keys in validate).
  let target: Record<string, unknown> = config;
  for (const [i, key] of path.slice(0, -1).entries()) {
    const next = target[key];
    if (typeof next !== 'object' || next === null || Array.isArray(next))
      throw new UsageError(`--set key "${path.slice(0, i + 1).join('.')}" is not a config section`);
    target = next as Record<string, unknown>;
  }
  target[path[path.length - 1]] = value;
}

/** config.json of a run directory. */
const savedConfigSchema = z.object({
  experiment: z.string(),
  preset: z.string(),
  config: z.record(z.string(), z.unknown()),
});

/** The saved run in `dir` (for --resume and report). */
export function loadRunConfig(dir: string): ResolvedRun {
  const path = join(dir, 'config.json');
  if (!existsSync(path)) throw new UsageError(`${dir} holds no run (no config.json); give the directory a run wrote`);
  const saved = readJsonFile(path, savedConfigSchema, 'delete the directory and start the run anew');
  const { experiment } = resolveConfig(saved.experiment, saved.preset);
  // Runs written before the K runs from θ0 were called trajectories name their count `iterations`.
  const { iterations, ...config } = saved.config as Record<string, unknown>;
  const current = iterations === undefined ? config : { trajectories: iterations, ...config };
  return { experiment, preset: saved.preset as Preset, config: validate(experiment, current) };
}

export interface RunOptions {
  outDir: string;
  /** Continue the run already in outDir. */
  resume?: boolean;
  onProgress?: (method: Method, done: number, total: number) => void;
  /** Called once the run directory is ready, before training. */
  onStart?: () => void;
  /** Called with one line for what the run repairs as it goes (a damaged checkpoint redone). */
  onWarning?: (message: string) => void;
  /**
   * Methods trained at once, each in a child process (experiments/processes.ts); 1 (the default):
   * all in this process, one after another.
   */
  jobs?: number;
}

/** `experiment.prepare(config)`; a problem with the data files is the user's to fix (a UsageError). */
export function prepareData(experiment: AnyExperiment, config: CommonConfig): unknown {
  try {
    return experiment.prepare?.(config);
  } catch (error) {
    if (error instanceof DataError) throw new UsageError(error.message);
    throw error;
  }
}

/** Runs an experiment into its own directory: config.json, checkpoints/, models/, results.json, report.html. */
export async function runExperiment(run: ResolvedRun, options: RunOptions): Promise<Results> {
  const { experiment, config } = run;
  const { outDir } = options;
  const prepared = prepareData(experiment, config);
  prepareDirectory(outDir, options.resume ?? false);
  if (!options.resume) writeRunConfig(outDir, run);
  options.onStart?.();
  const startedAt = new Date();
  let output: ExperimentOutput<unknown>;
  let env: Results['environment'] | undefined;
  if ((options.jobs ?? 1) > 1 && config.methods.length > 1) {
    // The children read the data themselves.
    tf.dispose(prepared as tf.TensorContainer);
    ({ output, environment: env } = await runMethodsInProcesses(experiment, config, {
      outDir,
      jobs: options.jobs ?? 1,
      onProgress: options.onProgress,
      onWarning: options.onWarning,
    }));
  } else {
    output = await experiment.run(config, {
      outDir,
      onProgress: options.onProgress,
      onWarning: options.onWarning,
      prepared,
      scopes: experiment.scopes?.(config),
    });
  }
  const finishedAt = new Date();
  const results = assembleResults(
    run,
    output,
    { startedAt, finishedAt, durationSeconds: (finishedAt.getTime() - startedAt.getTime()) / 1000 },
    env,
  );
  await writeResults(outDir, results);
  return results;
}

/**
 * The results.json of `run` from what its experiment handed back: summaries and paired
 * differences computed from the runs, the environment, the times; checked against the results
 * schema and the experiment's details schema. `pn run` and `pn sweep` both write through it.
 */
export function assembleResults(
  run: ResolvedRun,
  output: ExperimentOutput<unknown>,
  times: { startedAt: Date; finishedAt: Date; durationSeconds: number },
  env: Results['environment'] = environment(),
): Results {
  const { experiment, preset, config } = run;
  const results: Results = JSON.parse(
    JSON.stringify(
      {
        schemaVersion: RESULTS_VERSION,
        experiment: experiment.name,
        preset,
        seeds: seedList(config),
        config,
        metric: output.metric,
        runs: output.runs,
        summary: summarize(output.runs),
        ...pairedComparisons(output.runs),
        details: output.details,
        environment: env,
        startedAt: times.startedAt.toISOString(),
        finishedAt: times.finishedAt.toISOString(),
        durationSeconds: times.durationSeconds,
      },
      nanToNull,
    ),
  );
  resultsSchema.parse(results);
  experiment.details.parse(results.details);
  return results;
}

/** config.json of a run directory: what `--resume` and `loadRunConfig` read back. */
export function writeRunConfig(outDir: string, run: ResolvedRun): void {
  writeJsonAtomic(join(outDir, 'config.json'), {
    experiment: run.experiment.name,
    preset: run.preset,
    config: run.config,
  });
}

/** results.json and report.html of a run directory. */
export async function writeResults(outDir: string, results: Results): Promise<void> {
  writeJsonAtomic(join(outDir, 'results.json'), results);
  writeFileAtomic(join(outDir, 'report.html'), await runReport(results));
}

/** Re-renders report.html from a run's results.json. */
export async function rerenderReport(dir: string): Promise<string> {
  const path = join(dir, 'results.json');
  if (!existsSync(path))
    throw new UsageError(`${dir} has no results.json; finish the run first (${resumeCommand(dir)})`);
  const results = readJsonFile(path, resultsSchema, `re-create it with ${resumeCommand(dir)}, or delete the directory`);
  const reportPath = join(dir, 'report.html');
  writeFileAtomic(reportPath, await runReport(results));
  return reportPath;
}

/** The command that continues the run in `dir` (the directory knows its experiment). */
function resumeCommand(dir: string): string {
  return `pn run --resume ${dir}`;
}

function prepareDirectory(dir: string, resume: boolean): void {
  if (resume) {
    if (!existsSync(join(dir, 'config.json'))) throw new UsageError(`cannot resume ${dir}: it holds no run`);
  } else if (existsSync(dir) && readdirSync(dir).length > 0) {
    throw new UsageError(`${dir} is not empty; choose a new --out directory or continue it with --resume ${dir}`);
  }
  try {
    mkdirSync(dir, { recursive: true });
    accessSync(dir, constants.W_OK);
  } catch (error) {
    throw new UsageError(
      `cannot write to ${dir} (${(error as NodeJS.ErrnoException).code}); choose a writable --out directory`,
    );
  }
}
