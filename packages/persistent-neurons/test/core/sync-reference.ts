// The trainer's loop as it was while it was synchronous (no yields, no learning curves, weights
// left at the last solution), kept as the reference the asynchronous trainer must match number for
// number, and as the baseline of the yield-overhead measurement (bench/yield-overhead.mjs).
import * as tf from '@tensorflow/tfjs-core';
import {
  createOptimizer,
  PersistentPenalty,
  replicaDistances,
  restoreSnapshot,
  type Snapshot,
  selectTrajectory,
  type TrainingTask,
  type TrainOptions,
  type TrajectoryRecord,
  takeSnapshot,
} from '../../src/core/index.js';

export type ReferenceRecord = Omit<TrajectoryRecord, 'curve'>;

export interface ReferenceResult {
  records: ReferenceRecord[][];
  selected: number[];
  solutions: Snapshot[];
  theta0: Snapshot;
}

export function trainPersistentSync(
  task: TrainingTask,
  options: Omit<TrainOptions, 'onEvent' | 'resume' | 'yieldEveryMs'>,
): ReferenceResult {
  const { trajectories, epochs } = options;
  const trainable = task.weights.filter((w) => w.trainable);
  const theta0 = takeSnapshot(task.weights);
  const solutions: Snapshot[] = [];
  const records: ReferenceRecord[][] = Array.from({ length: task.replicas }, () => []);

  for (let k = 0; k < trajectories; k++) {
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
    const current = new Map(task.weights.map((w) => [w.name, w.variable as tf.Tensor]));
    let lastLoss: number[] = [];
    const epochsRun = new Array<number>(task.replicas).fill(0);
    const diverged = new Array<boolean>(task.replicas).fill(false);
    for (let epoch = 0; epoch < epochs && !diverged.every(Boolean); epoch++) {
      task.startEpoch(k, epoch);
      let epochLoss: tf.Tensor1D = tf.keep(tf.zeros([task.replicas]));
      for (let step = 0; step < task.stepsPerEpoch; step++) {
        const progress = (epoch * task.stepsPerEpoch + step) / totalSteps;
        optimizer.minimize(
          () => {
            const perReplica = task.loss(step);
            const previous = epochLoss;
            epochLoss = tf.keep(tf.add(previous, perReplica));
            previous.dispose();
            const total = tf.sum(perReplica);
            return (penalty ? tf.add(total, penalty.value(current, progress)) : total) as tf.Scalar;
          },
          false,
          varList,
        );
      }
      lastLoss = Array.from(epochLoss.dataSync(), (sum) => sum / task.stepsPerEpoch);
      epochLoss.dispose();
      for (const [r, loss] of lastLoss.entries()) {
        if (diverged[r]) continue;
        epochsRun[r] = epoch + 1;
        if (!Number.isFinite(loss)) diverged[r] = true;
      }
    }
    optimizer.dispose();
    penalty?.dispose();

    const solution = takeSnapshot(task.weights);
    const valMetric = task.evaluate('validation') ?? [];
    const testMetric = task.evaluate('test');
    const toTheta0 = replicaDistances(task, solution, theta0);
    const toPrevious = solutions.map((previous) => replicaDistances(task, solution, previous));
    for (const [r, history] of records.entries()) {
      history.push({
        trajectory: k,
        trainLoss: lastLoss[r],
        valMetric: valMetric[r],
        testMetric: testMetric ? testMetric[r] : null,
        diverged: diverged[r] || !Number.isFinite(valMetric[r]),
        epochs: epochsRun[r],
        distanceToTheta0: toTheta0[r],
        distanceToPrevious: toPrevious.map((d) => d[r]),
      });
    }
    solutions.push(solution);
  }
  return {
    records,
    selected: records.map((history) => selectTrajectory(history, task.metric.higherIsBetter)),
    solutions,
    theta0,
  };
}
