import * as tf from '@tensorflow/tfjs-core';
import { createOptimizer, type OptimizerSpec } from './optimizers.js';
import { type PenaltySpec, PersistentPenalty } from './penalty.js';
import { penalizedStep } from './step.js';
import {
  assembleReplicas,
  disposeSnapshot,
  type ModelWeight,
  restoreSnapshot,
  type Snapshot,
  takeSnapshot,
} from './weights.js';
import { eventLoopTurns } from './yield.js';

export type Split = 'validation' | 'test';

/**
 * What the trainer trains: a model, its data and its loss. A task may hold several independent
 * replicas of one model as a single batched model (axis 0 of every weight), which is how many
 * seeds of a tiny network train at the cost of one; an ordinary model has one replica.
 */
export interface TrainingTask {
  /** Every weight, trainable or not (BatchNorm statistics too), with unique names. */
  readonly weights: readonly ModelWeight[];
  readonly replicas: number;
  /** True when axis 0 of every weight indexes replicas. */
  readonly replicaAxis: boolean;
  readonly stepsPerEpoch: number;
  /** The selection metric, computed on validation data. */
  readonly metric: { name: string; higherIsBetter: boolean };
  /** Called before every epoch; a task reshuffles its data here, seeded by (trajectory, epoch). */
  startEpoch(trajectory: number, epoch: number): void;
  /** Per-replica mean training loss of mini-batch `step` of the current epoch, shape [replicas]. */
  loss(step: number): tf.Tensor1D;
  /** Per-replica metric on a split (test may be absent: return null). Never changes weights. */
  evaluate(split: Split): number[] | null;
  /** Draws fresh initial weights, the `draw`-th of the task's seed (the `reinit` baseline). */
  reinitialize(draw: number): void;
  /** Frees the task's tensors. */
  dispose?(): void;
}

export interface TrainOptions {
  /** K: trajectories to run. */
  trajectories: number;
  /** E: epochs per trajectory. */
  epochs: number;
  optimizer: OptimizerSpec;
  /** Where each trajectory starts: θ0 every time (standard, persistent) or a fresh init (reinit). */
  restart: 'theta0' | 'reinit';
  /** The persistent penalty; absent means none. */
  penalty?: PenaltySpec;
  /** Per-replica λ for one batched model that sweeps λ (see PenaltyOptions.replicaLambda). */
  replicaLambda?: readonly number[];
  onEvent?: (event: TrainerEvent) => void;
  /** Continue after completed trajectories (from a checkpoint); their solutions are taken over. */
  resume?: { records: TrajectoryRecord[][]; solutions: Snapshot[] };
  /**
   * The longest stretch, in milliseconds, the trainer computes before it gives the event loop a
   * turn (between batches; every batch when batches take longer). Default 10.
   */
  yieldEveryMs?: number;
}

/** A trajectory's learning curve, at the epochs `curveEpochs` gives (NaN where a value was not finite). */
export interface LearningCurve {
  /** Epochs completed within the trajectory, 1-based. */
  epochs: number[];
  /** That epoch's mean training loss (task loss, without the penalty). */
  trainLoss: number[];
  /** The validation metric after that epoch. */
  valMetric: number[];
}

/** One trajectory's outcome for one replica. */
export interface TrajectoryRecord {
  trajectory: number;
  /** Mean training loss (without penalty) over the last epoch. */
  trainLoss: number;
  valMetric: number;
  testMetric: number | null;
  /** The loss turned NaN/Inf: the trajectory stopped there and is never selected. */
  diverged: boolean;
  epochs: number;
  distanceToTheta0: number;
  /** ‖θ*_k − θ*_j‖ for every earlier j. */
  distanceToPrevious: number[];
  /** Train loss and validation metric along the trajectory; its last point is the values above. */
  curve: LearningCurve;
}

export type TrainerEvent =
  | { type: 'step'; trajectory: number; epoch: number; step: number }
  /** `valMetric` (per replica) is there when the trainer evaluated after this epoch (see `curveEpochs`). */
  | { type: 'epoch'; trajectory: number; epoch: number; trainLoss: number[]; valMetric?: number[] }
  | { type: 'trajectory'; trajectory: number; records: TrajectoryRecord[]; solution: Snapshot };

export interface TrainResult {
  /** [replica][trajectory]. */
  records: TrajectoryRecord[][];
  /**
   * Per replica, the index of the selected trajectory: best validation metric, never test. The
   * task's weights are left at these solutions (each replica at its own).
   */
  selected: number[];
  /** θ*_k for every trajectory (all weights, all replicas). Dispose with `disposeSnapshot`. */
  solutions: Snapshot[];
  theta0: Snapshot;
}

/** At most this many points per learning curve. */
export const CURVE_POINTS = 50;

/**
 * The epochs (1-based) at which a trajectory of E epochs evaluates for its learning curve:
 * round(j·E/n) for j = 1..n, n = min(E, CURVE_POINTS). The last is always E.
 */
export function curveEpochs(epochs: number): number[] {
  const n = Math.min(epochs, CURVE_POINTS);
  return Array.from({ length: n }, (_, j) => Math.round(((j + 1) * epochs) / n));
}

/**
 * Runs K trajectories as docs/method.md says: each starts from θ0 restored exactly (or from a fresh
 * init for `reinit`), with a fresh optimizer, and minimizes the task loss plus the penalty
 * against all earlier solutions. At the end the weights are the selected solutions (per replica).
 * Asynchronous: between batches it gives the event loop a turn now and then (`yieldEveryMs`), so
 * a page, a worker's messages or a server's timers stay responsive while it trains.
 *
 * ```ts
 * const result = await trainPersistent(task, { trajectories: 4, epochs: 50, restart: 'theta0',
 *   optimizer: { name: 'sgd', learningRate: 0.05 }, penalty: defaultPenaltySpec });
 * ```
 */
export async function trainPersistent(task: TrainingTask, options: TrainOptions): Promise<TrainResult> {
  const { trajectories, epochs } = options;
  if (!(trajectories >= 1 && epochs >= 1)) throw new Error('trajectories and epochs must be at least 1');
  const trainable = task.weights.filter((w) => w.trainable);
  const theta0 = takeSnapshot(task.weights);
  const solutions: Snapshot[] = [...(options.resume?.solutions ?? [])];
  const records: TrajectoryRecord[][] = Array.from({ length: task.replicas }, (_, r) => [
    ...(options.resume?.records[r] ?? []),
  ]);
  const emit = options.onEvent ?? (() => {});
  const turn = eventLoopTurns(options.yieldEveryMs);
  const evaluatedEpochs = new Set(curveEpochs(epochs));

  for (let k = solutions.length; k < trajectories; k++) {
    if (options.restart === 'reinit' && k > 0) task.reinitialize(k);
    else restoreSnapshot(task.weights, theta0);
    const penalty =
      options.penalty && k > 0
        ? new PersistentPenalty({
            theta0,
            previousSolutions: solutions,
            spec: options.penalty,
            weightNames: trainable.map((w) => w.name),
            options: {
              replicaAxis: task.replicaAxis,
              replicaLambda: options.replicaLambda,
              counts: solutions.map((_, j) => records.map((history) => !history[j].diverged)),
            },
          })
        : undefined;
    const optimizer = createOptimizer(options.optimizer);
    const totalSteps = epochs * task.stepsPerEpoch;
    const varList = trainable.map((w) => w.variable);
    let lastLoss: number[] = [];
    const epochsRun = new Array<number>(task.replicas).fill(0);
    const diverged = new Array<boolean>(task.replicas).fill(false);
    const curves: LearningCurve[] = records.map(() => ({ epochs: [], trainLoss: [], valMetric: [] }));
    // The validation metric after the last epoch run; the loop always evaluates there.
    let valMetric: number[] | undefined;
    for (let epoch = 0; epoch < epochs && !diverged.every(Boolean); epoch++) {
      task.startEpoch(k, epoch);
      let epochLoss: tf.Tensor1D = tf.keep(tf.zeros([task.replicas]));
      for (let step = 0; step < task.stepsPerEpoch; step++) {
        const progress = (epoch * task.stepsPerEpoch + step) / totalSteps;
        const taskLoss = () => {
          const perReplica = task.loss(step);
          const previous = epochLoss;
          epochLoss = tf.keep(tf.add(previous, perReplica));
          previous.dispose();
          return tf.sum(perReplica) as tf.Scalar;
        };
        if (penalty) penalizedStep(optimizer, trainable, taskLoss, penalty, progress).dispose();
        else optimizer.minimize(taskLoss, false, varList);
        emit({ type: 'step', trajectory: k, epoch, step });
        const pause = turn();
        if (pause) await pause;
      }
      lastLoss = Array.from(epochLoss.dataSync(), (sum) => sum / task.stepsPerEpoch);
      epochLoss.dispose();
      const running = diverged.map((stopped) => !stopped);
      for (const [r, loss] of lastLoss.entries()) {
        if (diverged[r]) continue;
        epochsRun[r] = epoch + 1;
        if (!Number.isFinite(loss)) diverged[r] = true;
      }
      // A replica that diverged in this epoch ends its curve here, whatever the schedule.
      const endsNow = running.map((ran, r) => ran && diverged[r]);
      const scheduled = evaluatedEpochs.has(epoch + 1);
      valMetric = scheduled || endsNow.some(Boolean) ? (task.evaluate('validation') ?? []) : undefined;
      if (valMetric) {
        for (const [r, curve] of curves.entries()) {
          if (!running[r] || !(scheduled || endsNow[r])) continue;
          curve.epochs.push(epoch + 1);
          curve.trainLoss.push(lastLoss[r]);
          curve.valMetric.push(valMetric[r] ?? Number.NaN);
        }
      }
      emit({ type: 'epoch', trajectory: k, epoch, trainLoss: lastLoss, ...(valMetric ? { valMetric } : {}) });
    }
    optimizer.dispose();
    penalty?.dispose();

    const solution = takeSnapshot(task.weights);
    valMetric ??= task.evaluate('validation') ?? [];
    const testMetric = task.evaluate('test');
    const toTheta0 = replicaDistances(task, solution, theta0);
    const toPrevious = solutions.map((previous) => replicaDistances(task, solution, previous));
    const trajectoryRecords = records.map((history, r) => {
      const record: TrajectoryRecord = {
        trajectory: k,
        trainLoss: lastLoss[r],
        valMetric: valMetric[r],
        testMetric: testMetric ? testMetric[r] : null,
        diverged: diverged[r] || !Number.isFinite(valMetric[r]),
        epochs: epochsRun[r],
        distanceToTheta0: toTheta0[r],
        distanceToPrevious: toPrevious.map((d) => d[r]),
        curve: curves[r],
      };
      history.push(record);
      return record;
    });
    solutions.push(solution);
    emit({ type: 'trajectory', trajectory: k, records: trajectoryRecords, solution });
  }
  const selected = records.map((history) => selectTrajectory(history, task.metric.higherIsBetter));
  restoreSelected(task, solutions, selected);
  return { records, selected, solutions, theta0 };
}

/** Writes each replica's selected solution into the task's weights. */
export function restoreSelected(task: TrainingTask, solutions: readonly Snapshot[], selected: readonly number[]): void {
  if (!task.replicaAxis || selected.every((k) => k === selected[0])) {
    restoreSnapshot(task.weights, solutions[selected[0]]);
    return;
  }
  const assembled = assembleReplicas(solutions, selected);
  restoreSnapshot(task.weights, assembled);
  disposeSnapshot(assembled);
}

/** Frees a result's snapshots: θ0 and every solution. */
export function disposeResult(result: Pick<TrainResult, 'theta0' | 'solutions'>): void {
  for (const snapshot of [result.theta0, ...result.solutions]) disposeSnapshot(snapshot);
}

/** The best trajectory by validation metric; diverged ones only if nothing else is left. */
export function selectTrajectory(
  history: readonly Pick<TrajectoryRecord, 'valMetric' | 'diverged'>[],
  higherIsBetter: boolean,
): number {
  let best = -1;
  history.forEach((record, i) => {
    if (record.diverged) return;
    const better = higherIsBetter
      ? record.valMetric > history[best]?.valMetric
      : record.valMetric < history[best]?.valMetric;
    if (best < 0 || better) best = i;
  });
  return best < 0 ? history.length - 1 : best;
}

/** ‖a − b‖₂ over the trainable weights, per replica. */
export function replicaDistances(task: TrainingTask, a: Snapshot, b: Snapshot): number[] {
  return tf.tidy(() => {
    let squared: tf.Tensor = tf.zeros([task.replicas]);
    for (const { name, trainable } of task.weights) {
      if (!trainable) continue;
      const diff = tf.sub(a.get(name) as tf.Tensor, b.get(name) as tf.Tensor);
      const perReplica = task.replicaAxis ? tf.reshape(diff, [task.replicas, -1]) : tf.reshape(diff, [1, -1]);
      squared = tf.add(squared, tf.sum(tf.square(perReplica), 1));
    }
    return Array.from(tf.sqrt(squared).dataSync());
  });
}
