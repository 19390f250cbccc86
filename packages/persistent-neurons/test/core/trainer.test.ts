import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as tfl from '@tensorflow/tfjs-layers';
import {
  defaultPenaltySpec,
  disposeSnapshot,
  LayersTask,
  methodOptions,
  type OptimizerSpec,
  type Split,
  selectTrajectory,
  type TrainingTask,
  type TrajectoryRecord,
  trainPersistent,
} from '../../src/core/index.js';
import { tf } from '../setup.js';

/** A small dense net with BatchNorm (non-trainable moving statistics) on a fixed regression set. */
function bnTask(options: { seed?: number; shuffle?: boolean } = {}): LayersTask {
  const x = tf.randomNormal([64, 3], 0, 1, 'float32', 7);
  const y = tf.sum(tf.mul(x, tf.tensor1d([1, -2, 0.5])), 1, true);
  const task = new LayersTask({
    build: (seed) =>
      tfl.sequential({
        layers: [
          tfl.layers.dense({
            name: 'hidden',
            units: 6,
            inputShape: [3],
            kernelInitializer: tfl.initializers.glorotUniform({ seed }),
          }),
          tfl.layers.batchNormalization({ name: 'norm' }),
          tfl.layers.dense({
            name: 'out',
            units: 1,
            kernelInitializer: tfl.initializers.glorotUniform({ seed: seed + 1 }),
          }),
        ],
      }),
    seed: options.seed ?? 3,
    train: { x, y },
    validation: { x, y },
    batchSize: 16,
    loss: (yTrue, yPred) => tf.losses.meanSquaredError(yTrue, yPred) as tf.Scalar,
    metric: { name: 'mse', higherIsBetter: false, compute: (t, p) => tf.losses.meanSquaredError(t, p).dataSync()[0] },
  });
  if (options.shuffle === false)
    task.startEpoch = function (this: LayersTask) {
      LayersTask.prototype.startEpoch.call(this, 0, 0);
    };
  return task;
}

/** Every weight's values at the start of each trajectory (the first epoch's start). */
function recordStarts(task: TrainingTask): Float32Array[][] {
  const starts: Float32Array[][] = [];
  const original = task.startEpoch.bind(task);
  task.startEpoch = (trajectory: number, epoch: number) => {
    if (epoch === 0) starts[trajectory] = task.weights.map((w) => w.variable.dataSync().slice() as Float32Array);
    original(trajectory, epoch);
  };
  return starts;
}

const sgd: OptimizerSpec = { name: 'sgd', learningRate: 0.05 };
const settings = { trajectories: 3, epochs: 2, optimizer: sgd, penalty: { ...defaultPenaltySpec, lambda: 0.05 } };

describe('trainPersistent', () => {
  test('every trajectory starts from θ0 bit for bit, BatchNorm moving statistics included', async () => {
    const task = bnTask();
    const theta0 = task.weights.map((w) => w.variable.dataSync().slice());
    const starts = recordStarts(task);
    const result = await trainPersistent(task, methodOptions('persistent', settings));
    assert.equal(starts.length, 3);
    for (const start of starts) assert.deepEqual(start, theta0);
    // Training really moved the non-trainable statistics, so restoring them was not a no-op.
    const movingMean = task.weights.findIndex((w) => w.name.includes('moving_mean'));
    assert.ok(movingMean >= 0 && !task.weights[movingMean].trainable);
    assert.notDeepEqual(result.solutions[0].get(task.weights[movingMean].name)?.dataSync(), theta0[movingMean]);
    result.solutions.forEach(disposeSnapshot);
    task.dispose();
  });

  test('each trajectory gets a fresh optimizer: without a penalty, momentum trajectories repeat exactly', async () => {
    const task = bnTask({ shuffle: false });
    const momentum: OptimizerSpec = { name: 'momentum', learningRate: 0.05, momentum: 0.9 };
    const result = await trainPersistent(task, { trajectories: 2, epochs: 3, optimizer: momentum, restart: 'theta0' });
    for (const [name, first] of result.solutions[0])
      assert.deepEqual(result.solutions[1].get(name)?.dataSync(), first.dataSync(), name);
    // The penalty is what makes the second trajectory differ.
    const penalized = await trainPersistent(task, {
      ...methodOptions('persistent', { ...settings, optimizer: momentum }),
      trajectories: 2,
    });
    const kernel = task.weights[0].name;
    assert.notDeepEqual(penalized.solutions[1].get(kernel)?.dataSync(), penalized.solutions[0].get(kernel)?.dataSync());
    [...result.solutions, ...penalized.solutions].forEach(disposeSnapshot);
    task.dispose();
  });

  test('reinit starts every trajectory from a different init; persistent always from the same', async () => {
    const task = bnTask();
    const starts = recordStarts(task);
    (await trainPersistent(task, methodOptions('reinit', settings))).solutions.forEach(disposeSnapshot);
    const kernel = 0;
    assert.notDeepEqual(starts[1][kernel], starts[0][kernel]);
    assert.notDeepEqual(starts[2][kernel], starts[1][kernel]);
    assert.notDeepEqual(starts[2][kernel], starts[0][kernel]);
    task.dispose();
  });

  test('records K trajectories with distances to θ0 and to every earlier solution', async () => {
    const task = bnTask();
    const result = await trainPersistent(task, methodOptions('persistent', settings));
    const history = result.records[0];
    assert.equal(history.length, 3);
    assert.deepEqual(
      history.map((r) => r.distanceToPrevious.length),
      [0, 1, 2],
    );
    for (const record of history) {
      assert.ok(record.distanceToTheta0 > 0 && Number.isFinite(record.valMetric) && !record.diverged);
      assert.equal(record.epochs, 2);
    }
    result.solutions.forEach(disposeSnapshot);
    task.dispose();
  });

  test('after a diverged trajectory, the next persistent one ignores its NaN end and trains normally', async () => {
    const task = bnTask();
    const loss = task.loss.bind(task);
    let trajectory = 0;
    const startEpoch = task.startEpoch.bind(task);
    task.startEpoch = (k: number, epoch: number) => {
      trajectory = k;
      startEpoch(k, epoch);
    };
    // The first trajectory's loss is NaN; the weights it ends at are NaN.
    task.loss = (step: number) => (trajectory === 0 ? tf.mul(loss(step), Number.NaN) : loss(step));
    const result = await trainPersistent(task, { ...methodOptions('persistent', settings), trajectories: 2 });
    const [first, second] = result.records[0];
    assert.ok(first.diverged && !second.diverged, JSON.stringify(result.records[0]));
    assert.ok(Number.isFinite(second.valMetric) && Number.isFinite(second.trainLoss));
    assert.equal(result.selected[0], 1);
    result.solutions.forEach(disposeSnapshot);
    task.dispose();
  });

  test('a loss that turns NaN ends the trajectory as diverged and the run goes on', async () => {
    const task = bnTask();
    const result = await trainPersistent(task, {
      ...methodOptions('reinit', settings),
      optimizer: { name: 'sgd', learningRate: 1e6 },
    });
    assert.equal(result.records[0].length, 3);
    assert.ok(result.records[0].every((r) => r.diverged));
    assert.ok(
      result.records[0].every((r) => r.epochs === 1),
      'stopped after the first epoch that diverged',
    );
    result.solutions.forEach(disposeSnapshot);
    task.dispose();
  });
});

describe('selection', () => {
  const record = (valMetric: number, testMetric: number, diverged = false): TrajectoryRecord => ({
    trajectory: 0,
    trainLoss: 0,
    valMetric,
    testMetric,
    diverged,
    epochs: 1,
    distanceToTheta0: 0,
    distanceToPrevious: [],
    curve: { epochs: [1], trainLoss: [0], valMetric: [valMetric] },
  });

  test('picks the best validation metric and never looks at test data', () => {
    // Test metrics rank the trajectories in the opposite order.
    const history = [record(0.5, 0.1), record(0.2, 0.9), record(0.3, 0.05)];
    assert.equal(selectTrajectory(history, false), 1);
    assert.equal(selectTrajectory(history, true), 0);
    assert.equal(selectTrajectory([record(0.1, 0, true), record(0.4, 0)], false), 1, 'diverged never wins');
  });

  test('the trainer selects by validation on a real task whose test split disagrees', async () => {
    const task = bnTask();
    const evaluate = task.evaluate.bind(task);
    let calls = 0;
    // Test metric = −validation metric: selecting by test would pick the worst trajectory.
    task.evaluate = (split: Split) => {
      const value = evaluate('validation');
      calls++;
      return split === 'test' && value ? value.map((v) => -v) : value;
    };
    const result = await trainPersistent(task, methodOptions('reinit', settings));
    const vals = result.records[0].map((r) => r.valMetric);
    assert.equal(result.selected[0], vals.indexOf(Math.min(...vals)));
    assert.ok(calls >= 6);
    result.solutions.forEach(disposeSnapshot);
    task.dispose();
  });
});
