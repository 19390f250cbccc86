import { existsSync, readFileSync } from 'node:fs';
import {
  disposeSnapshot,
  type Method,
  methodOptions,
  type TrainingTask,
  type TrainResult,
  trainPersistent,
} from '../core/index.js';
import { writeJsonAtomic } from '../io/files.js';
import type { RunRecord } from '../report/results-schema.js';
import { MethodCheckpoint } from './checkpoint.js';
import { type CommonConfig, type ExperimentContext, seedList } from './types.js';

export interface ReplicatedRunOptions<T extends TrainingTask> {
  /** A fresh task whose replica r is seed r+1, at its θ0. */
  makeTask(method: Method): T;
  /** Whether a final validation metric counts as a success (synthetic tasks). */
  success?(valMetric: number): boolean;
  /**
   * After a method trained: save models, compute plot data. Gets what `endIteration` returned for
   * each trajectory (kept in the checkpoints, so a resumed run has them all). Returns JSON-able
   * details and per-seed model paths.
   */
  finish?(
    method: Method,
    task: T,
    result: TrainResult,
    iterationData: unknown[],
  ): Promise<{ details: unknown; models?: string[] }>;
  /** Called after every SGD step (e.g. to record a trajectory). */
  onStep?(task: T, method: Method, iteration: number): void;
  /** Called when a trajectory ends; the JSON-able result is checkpointed with it. */
  endIteration?(task: T, method: Method, iteration: number): unknown;
}

/**
 * Runs every method of `config` for all seeds at once (one replicated task per method), with a
 * checkpoint after every trajectory so that `--resume` continues exactly where a run stopped.
 */
export async function runReplicatedMethods<T extends TrainingTask>(
  config: CommonConfig,
  context: ExperimentContext,
  options: ReplicatedRunOptions<T>,
): Promise<{ runs: RunRecord[]; details: Record<string, unknown> }> {
  const seeds = seedList(config);
  const runs: RunRecord[] = [];
  const details: Record<string, unknown> = {};
  for (const method of config.methods) {
    const checkpoint = new MethodCheckpoint(context.outDir, method);
    if (existsSync(checkpoint.donePath)) {
      const done = JSON.parse(readFileSync(checkpoint.donePath, 'utf8')) as { runs: RunRecord[]; details: unknown };
      runs.push(...done.runs);
      details[method] = done.details;
      continue;
    }
    const task = options.makeTask(method);
    try {
      const trainOptions = methodOptions(method, config);
      const totalSteps = trainOptions.iterations * trainOptions.epochs * task.stepsPerEpoch;
      let done = 0;
      const resume = checkpoint.load(task.replicas);
      done = resume.solutions.length * trainOptions.epochs * task.stepsPerEpoch;
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
      const finished = (await options.finish?.(method, task, result, iterationData)) ?? { details: null };
      const methodRuns = seeds.map((seed, r): RunRecord => {
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
      writeJsonAtomic(checkpoint.donePath, { runs: methodRuns, details: finished.details });
      runs.push(...(JSON.parse(JSON.stringify(methodRuns, nanToNull)) as RunRecord[]));
      details[method] = finished.details;
      for (const solution of result.solutions) disposeSnapshot(solution);
      disposeSnapshot(result.theta0);
    } finally {
      task.dispose?.();
    }
  }
  return { runs, details };
}

/** The same JSON form the checkpoints have, so fresh and resumed runs give identical results. */
export function nanToNull(_key: string, value: unknown): unknown {
  return typeof value === 'number' && !Number.isFinite(value) ? null : value;
}
