import {
  disposeSnapshot,
  type Method,
  methodOptions,
  type TrainingTask,
  type TrainResult,
  trainPersistent,
} from '../core/index.js';
import { nanToNull, writeJsonAtomic } from '../io/files.js';
import type { RunRecord } from '../report/results-schema.js';
import { MethodCheckpoint } from './checkpoint.js';
import { type CommonConfig, type ExperimentContext, seedList } from './types.js';

export interface MethodRunOptions<T extends TrainingTask> {
  /**
   * Seeds trained by one task: `all` for a replicated task (replica r is seeds[r]), 1 for an
   * ordinary model trained seed by seed.
   */
  seedsPerTask: 'all' | 1;
  /** A fresh task at its θ0 for these seeds. */
  makeTask(method: Method, seeds: number[]): T;
  /** Whether a final validation metric counts as a success (synthetic tasks). */
  success?(valMetric: number): boolean;
  /**
   * After a task trained: save models, compute plot data. Gets what `endIteration` returned for
   * each trajectory (kept in the checkpoints, so a resumed run has them all). Returns JSON-able
   * details (concatenated over tasks) and per-replica model paths.
   */
  finish?(
    method: Method,
    task: T,
    result: TrainResult,
    seeds: number[],
    iterationData: unknown[],
  ): Promise<{ details: unknown[]; models?: string[] }>;
  /** Called after every SGD step (e.g. to record a trajectory). */
  onStep?(task: T, method: Method, iteration: number): void;
  /** Called when a trajectory ends; the JSON-able result is checkpointed with it. */
  endIteration?(task: T, method: Method, iteration: number): unknown;
}

/**
 * Runs every method of `config` over its seeds, with a checkpoint after every trajectory so that
 * `--resume` continues exactly where a run stopped.
 */
export async function runMethods<T extends TrainingTask>(
  config: CommonConfig,
  context: ExperimentContext,
  options: MethodRunOptions<T>,
): Promise<{ runs: RunRecord[]; details: Record<string, unknown[]> }> {
  const seeds = seedList(config);
  const groups = options.seedsPerTask === 'all' ? [seeds] : seeds.map((seed) => [seed]);
  const runs: RunRecord[] = [];
  const details: Record<string, unknown[]> = {};
  for (const method of config.methods) {
    details[method] = [];
    const trainOptions = methodOptions(method, { ...config, scopes: context.scopes });
    let done = 0;
    for (const group of groups) {
      const name = groups.length > 1 ? `${method}/seed-${group[0]}` : method;
      const checkpoint = new MethodCheckpoint(context.outDir, name);
      const saved = checkpoint.loadDone(method, group, trainOptions.iterations, context.onWarning);
      if (saved) {
        runs.push(...saved.runs);
        details[method].push(...saved.details);
        continue;
      }
      const task = options.makeTask(method, group);
      try {
        const stepsPerTask = trainOptions.iterations * trainOptions.epochs * task.stepsPerEpoch;
        const totalSteps = stepsPerTask * groups.length;
        const resume = checkpoint.load(task, context.onWarning);
        done =
          groups.indexOf(group) * stepsPerTask + resume.solutions.length * trainOptions.epochs * task.stepsPerEpoch;
        const iterationData = [...resume.extras];
        const result = trainPersistent(task, {
          ...trainOptions,
          resume,
          onEvent: (event) => {
            if (event.type === 'step') {
              options.onStep?.(task, method, event.iteration);
              context.onProgress?.(method, ++done, totalSteps);
            } else if (event.type === 'iteration') {
              const data = options.endIteration?.(task, method, event.iteration) ?? null;
              iterationData.push(data);
              checkpoint.saveIteration(event.iteration, event.records, event.solution, data);
            }
          },
        });
        const finished = (await options.finish?.(method, task, result, group, iterationData)) ?? { details: [] };
        const groupRuns = group.map((seed, r): RunRecord => {
          const history = result.records[r];
          const selected = history[result.selected[r]];
          return {
            seed,
            method,
            iterations: history,
            selectedIteration: result.selected[r],
            final: { trainLoss: selected.trainLoss, valMetric: selected.valMetric, testMetric: selected.testMetric },
            ...(options.success ? { success: !selected.diverged && options.success(selected.valMetric) } : {}),
            ...(finished.models ? { model: finished.models[r] } : {}),
          };
        });
        // Stored and returned in the same JSON form, so fresh and resumed runs give identical results.
        const stored = JSON.parse(JSON.stringify({ runs: groupRuns, details: finished.details }, nanToNull));
        writeJsonAtomic(checkpoint.donePath, stored);
        runs.push(...stored.runs);
        details[method].push(...stored.details);
        for (const solution of result.solutions) disposeSnapshot(solution);
        disposeSnapshot(result.theta0);
      } finally {
        task.dispose?.();
      }
    }
  }
  return { runs, details };
}
