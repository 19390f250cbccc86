import {
  disposeResult,
  type Method,
  methodOptions,
  type TrainingTask,
  type TrainResult,
  trainPersistent,
} from 'persistent-neurons';
import type { z } from 'zod';
import { nanToNull, writeJsonAtomic } from '../io/files.js';
import type { RunRecord } from '../report/results-schema.js';
import { MethodCheckpoint } from './checkpoint.js';
import { type CommonConfig, type ExperimentContext, seedList } from './types.js';

/** Data recorded along every trajectory, kept in its checkpoint so that a resumed run has them all. */
export interface TrajectoryProbe<T extends TrainingTask, I> {
  /** Checks the data read back from a checkpoint. */
  schema: z.ZodType<I>;
  /** Called after every SGD step (e.g. to record a path). */
  step?(task: T): void;
  /** Called when a trajectory ends: its data. */
  end(task: T): I;
}

export interface MethodRunOptions<T extends TrainingTask, I, D> {
  /**
   * Seeds trained by one task: `all` for a replicated task (replica r is seeds[r]), 1 for an
   * ordinary model trained seed by seed.
   */
  seedsPerTask: 'all' | 1;
  /** A fresh task at its θ0 for these seeds. */
  makeTask(method: Method, seeds: number[]): T;
  /** Whether a final validation metric counts as a success (synthetic tasks). */
  success?(valMetric: number): boolean;
  /** A fresh probe per task; absent, nothing is recorded along trajectories. */
  probe?(method: Method): TrajectoryProbe<T, I>;
  /** The schema of what `finish` returns as details, to read them back from a finished method's checkpoint. */
  details?: z.ZodType<D>;
  /**
   * After a task trained: save models, compute plot data from the result and each trajectory's
   * probe data. Returns details (concatenated over tasks) and per-replica model paths.
   */
  finish?(
    method: Method,
    task: T,
    result: TrainResult,
    seeds: number[],
    trajectoryData: I[],
  ): Promise<{ details: D[]; models?: string[] }>;
}

/**
 * Runs every method of `config` over its seeds, with a checkpoint after every trajectory so that
 * `--resume` continues exactly where a run stopped.
 */
export async function runMethods<T extends TrainingTask, I = never, D = never>(
  config: CommonConfig,
  context: ExperimentContext<unknown>,
  options: MethodRunOptions<T, I, D>,
): Promise<{ runs: RunRecord[]; details: Record<string, D[]> }> {
  const seeds = context.seeds ?? seedList(config);
  const groups = options.seedsPerTask === 'all' ? [seeds] : seeds.map((seed) => [seed]);
  const runs: RunRecord[] = [];
  const details: Record<string, D[]> = {};
  for (const method of config.methods) {
    details[method] = [];
    const trainOptions = methodOptions(method, { ...config, scopes: context.scopes });
    let done = 0;
    for (const group of groups) {
      const name = groups.length > 1 ? `${method}/seed-${group[0]}` : method;
      const checkpoint = new MethodCheckpoint(context.outDir, name);
      const saved = checkpoint.loadDone(method, group, trainOptions.trajectories, context.onWarning, options.details);
      if (saved) {
        runs.push(...saved.runs);
        details[method].push(...saved.details);
        continue;
      }
      const task = options.makeTask(method, group);
      try {
        const stepsPerTask = trainOptions.trajectories * trainOptions.epochs * task.stepsPerEpoch;
        const totalSteps = stepsPerTask * groups.length;
        const resume = checkpoint.load(task, context.onWarning);
        done =
          groups.indexOf(group) * stepsPerTask + resume.solutions.length * trainOptions.epochs * task.stepsPerEpoch;
        const probe = options.probe?.(method);
        const trajectoryData = resume.extras.map((extra) => (probe ? probe.schema.parse(extra) : (extra as I)));
        const result = await trainPersistent(task, {
          ...trainOptions,
          resume,
          onEvent: (event) => {
            if (event.type === 'step') {
              probe?.step?.(task);
              context.onProgress?.(method, ++done, totalSteps);
            } else if (event.type === 'trajectory') {
              const data = probe ? probe.end(task) : null;
              if (probe) trajectoryData.push(data as I);
              checkpoint.saveTrajectory(event.trajectory, event.records, event.solution, data);
            }
          },
        });
        const finished = (await options.finish?.(method, task, result, group, trajectoryData)) ?? { details: [] };
        const groupRuns = group.map((seed, r): RunRecord => {
          const history = result.records[r];
          const selected = history[result.selected[r]];
          return {
            seed,
            method,
            trajectories: history,
            selectedTrajectory: result.selected[r],
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
        disposeResult(result);
      } finally {
        task.dispose?.();
      }
    }
  }
  return { runs, details };
}
