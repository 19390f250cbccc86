import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as tfl from '@tensorflow/tfjs-layers';
import {
  curveEpochs,
  defaultPenaltySpec,
  disposeResult,
  LayersTask,
  methodOptions,
  type Snapshot,
  type TrainerEvent,
  type TrainingTask,
  type TrainOptions,
  trainPersistent,
} from '../../src/core/index.js';
import { KinkTask, kinkDefaults } from '../../src/tasks/kink.js';
import { makeKinkData } from '../../src/tasks/kink-data.js';
import { tf } from '../setup.js';
import { trainPersistentSync } from './sync-reference.js';

/** A dense net with BatchNorm on a fixed regression set, built the same way for every call. */
function layersTask(): LayersTask {
  const [x, valX] = [tf.randomNormal([48, 3], 0, 1, 'float32', 11), tf.randomNormal([32, 3], 0, 1, 'float32', 12)];
  const target = (input: tf.Tensor) => tf.relu(tf.sum(tf.mul(input, tf.tensor1d([1, -2, 0.5])), 1, true));
  return new LayersTask({
    build: (seed) =>
      tfl.sequential({
        layers: [
          tfl.layers.dense({
            name: 'hidden',
            units: 8,
            inputShape: [3],
            activation: 'relu',
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
    seed: 5,
    train: { x, y: target(x) },
    validation: { x: valX, y: target(valX) },
    test: { x: valX, y: tf.neg(target(valX)) },
    batchSize: 16,
    loss: (yTrue, yPred) => tf.losses.meanSquaredError(yTrue, yPred) as tf.Scalar,
    metric: { name: 'mse', higherIsBetter: false, compute: (t, p) => tf.losses.meanSquaredError(t, p).dataSync()[0] },
  });
}

const kinkData = makeKinkData({ ...kinkDefaults.data, train: 64, validation: 64, test: 64 });
const kinkTask = (seeds = [1, 2, 3]) => new KinkTask(kinkData, [8, 8], seeds, 16);

const values = (snapshot: Snapshot) => new Map([...snapshot].map(([name, t]) => [name, Array.from(t.dataSync())]));
const weightValues = (task: TrainingTask) =>
  new Map(task.weights.map((w) => [w.name, Array.from(w.variable.dataSync())]));

/** Runs the asynchronous trainer and the synchronous reference loop on fresh tasks; both results. */
async function both(makeTask: () => TrainingTask, options: TrainOptions) {
  const asyncTask = makeTask();
  const result = await trainPersistent(asyncTask, options);
  const syncTask = makeTask();
  const reference = trainPersistentSync(syncTask, options);
  const compared = {
    records: result.records.map((history) => history.map(({ curve: _, ...record }) => record)),
    selected: result.selected,
    solutions: result.solutions.map(values),
  };
  const expected = {
    records: reference.records,
    selected: reference.selected,
    solutions: reference.solutions.map(values),
  };
  disposeResult(result);
  disposeResult(reference);
  asyncTask.dispose?.();
  syncTask.dispose?.();
  return { compared, expected };
}

describe('the asynchronous trainer', () => {
  const settings = {
    trajectories: 3,
    epochs: 4,
    optimizer: { name: 'momentum', learningRate: 0.05, momentum: 0.9 } as const,
    penalty: { ...defaultPenaltySpec, lambda: 0.05 },
  };

  for (const method of ['persistent', 'reinit'] as const) {
    test(`gives exactly the numbers of the synchronous loop: LayersTask with BatchNorm, ${method}`, async () => {
      const { compared, expected } = await both(layersTask, methodOptions(method, settings));
      assert.deepEqual(compared, expected);
      assert.equal(compared.records[0].length, 3);
      assert.ok(compared.records[0].every((r) => Number.isFinite(r.valMetric) && Number.isFinite(r.testMetric)));
    });

    test(`gives exactly the numbers of the synchronous loop: batched KinkTask, ${method}`, async () => {
      const { compared, expected } = await both(kinkTask, methodOptions(method, { ...settings, epochs: 6 }));
      assert.deepEqual(compared, expected);
      assert.equal(compared.records.length, 3);
    });
  }

  test('gives the event loop turns while it trains: a timer set before it fires before it ends', async () => {
    const task = kinkTask();
    let steps = 0;
    let stepsWhenTimerFired = -1;
    setTimeout(() => {
      stepsWhenTimerFired = steps;
    }, 0);
    const result = await trainPersistent(task, {
      ...methodOptions('persistent', { ...settings, epochs: 5 }),
      yieldEveryMs: 0,
      onEvent: (event) => {
        if (event.type === 'step') steps++;
      },
    });
    assert.ok(stepsWhenTimerFired > 0 && stepsWhenTimerFired < steps, `fired after ${stepsWhenTimerFired} of ${steps}`);
    disposeResult(result);
    task.dispose();
  });

  test('with the default budget, an interval keeps ticking during a long run', async () => {
    const task = kinkTask();
    let ticks = 0;
    const interval = setInterval(() => ticks++, 5);
    const started = performance.now();
    const result = await trainPersistent(task, methodOptions('persistent', { ...settings, epochs: 60 }));
    const elapsed = performance.now() - started;
    clearInterval(interval);
    // A tick at least every budget (10 ms) plus one step, with room for a loaded machine.
    assert.ok(ticks >= Math.floor(elapsed / 50), `${ticks} ticks in ${elapsed.toFixed(0)} ms`);
    disposeResult(result);
    task.dispose();
  });

  test('leaves each replica of a batched task at its own selected solution', async () => {
    const task = kinkTask([1, 2, 3]);
    // Replica r's validation metric is best at trajectory r, so the three replicas select differently.
    let trajectory = 0;
    const startEpoch = task.startEpoch.bind(task);
    task.startEpoch = (k, epoch) => {
      trajectory = k;
      startEpoch(k, epoch);
    };
    task.evaluate = () => [0, 1, 2].map((r) => (r === trajectory ? 0.1 : 1));
    const result = await trainPersistent(task, methodOptions('persistent', settings));
    assert.deepEqual(result.selected, [0, 1, 2]);
    for (const weight of task.weights) {
      const current = weight.variable.arraySync() as number[][][];
      for (const r of [0, 1, 2]) {
        const solution = (result.solutions[r].get(weight.name) as tf.Tensor).arraySync() as number[][][];
        assert.deepEqual(current[r], solution[r], `${weight.name}, replica ${r}`);
        // The last solution differs, so the weights were really moved back.
        const last = (result.solutions[2].get(weight.name) as tf.Tensor).arraySync() as number[][][];
        if (r < 2 && weight.name.endsWith('kernel')) assert.notDeepEqual(current[r], last[r]);
      }
    }
    disposeResult(result);
    task.dispose();
  });

  test('leaves an ordinary model at its selected solution, BatchNorm statistics included', async () => {
    const task = layersTask();
    const result = await trainPersistent(task, methodOptions('persistent', settings));
    assert.deepEqual(weightValues(task), values(result.solutions[result.selected[0]]));
    disposeResult(result);
    task.dispose();
  });
});

describe('learning curves', () => {
  test('curveEpochs: every epoch up to 50, then 50 evenly spread ending at E', () => {
    assert.deepEqual(curveEpochs(1), [1]);
    assert.deepEqual(curveEpochs(4), [1, 2, 3, 4]);
    const long = curveEpochs(250);
    assert.equal(long.length, 50);
    assert.deepEqual(long.slice(0, 3), [5, 10, 15]);
    assert.equal(long.at(-1), 250);
    const odd = curveEpochs(77);
    assert.equal(odd.length, 50);
    assert.equal(new Set(odd).size, 50);
    assert.equal(odd.at(-1), 77);
    assert.deepEqual(
      odd,
      Array.from({ length: 50 }, (_, j) => Math.round(((j + 1) * 77) / 50)),
    );
  });

  test('each record holds its curve; the epoch events carry the same validation values; one evaluation per point', async () => {
    const task = kinkTask();
    const evaluate = task.evaluate.bind(task);
    let validationCalls = 0;
    task.evaluate = (split) => {
      if (split === 'validation') validationCalls++;
      return evaluate(split);
    };
    const events: Extract<TrainerEvent, { type: 'epoch' }>[] = [];
    const epochs = 60;
    const result = await trainPersistent(task, {
      ...methodOptions('persistent', { ...kinkDefaults, trajectories: 2, epochs }),
      onEvent: (event) => {
        if (event.type === 'epoch') events.push(event);
      },
    });
    const expectedEpochs = curveEpochs(epochs);
    assert.equal(expectedEpochs.length, 50);
    assert.equal(validationCalls, 2 * 50, 'the last point is the record: evaluated once');
    for (const [r, history] of result.records.entries()) {
      for (const [k, record] of history.entries()) {
        const { curve } = record;
        assert.deepEqual(curve.epochs, expectedEpochs);
        assert.equal(curve.trainLoss.length, 50);
        assert.equal(curve.valMetric.length, 50);
        assert.equal(curve.valMetric.at(-1), record.valMetric);
        assert.equal(curve.trainLoss.at(-1), record.trainLoss);
        const evaluated = events.filter((e) => e.trajectory === k && e.valMetric);
        assert.deepEqual(
          evaluated.map((e) => e.epoch + 1),
          expectedEpochs,
        );
        assert.deepEqual(
          evaluated.map((e) => e.valMetric?.[r]),
          curve.valMetric,
        );
        assert.deepEqual(
          evaluated.map((e) => e.trainLoss[r]),
          curve.trainLoss,
        );
      }
    }
    // The curve goes down on this task: the first point is worse than the last.
    const first = result.records[0][0].curve;
    assert.ok((first.trainLoss[0] as number) > (first.trainLoss.at(-1) as number));
    disposeResult(result);
    task.dispose();
  });

  test('a trajectory that diverges ends its curve at the epoch it diverged, even off the schedule', async () => {
    const task = kinkTask([1, 2]);
    const loss = task.loss.bind(task);
    let trajectory = 0;
    let epochNow = 0;
    const startEpoch = task.startEpoch.bind(task);
    task.startEpoch = (k, epoch) => {
      trajectory = k;
      epochNow = epoch;
      startEpoch(k, epoch);
    };
    // Replica 0's loss turns NaN in epoch 3 (1-based) of the first trajectory: off the schedule of E = 120.
    const mask = tf.keep(tf.tensor1d([Number.NaN, 1]));
    task.loss = (step) => (trajectory === 0 && epochNow === 2 ? tf.tidy(() => tf.mul(loss(step), mask)) : loss(step));
    const epochs = 120;
    assert.ok(!curveEpochs(epochs).includes(3));
    const result = await trainPersistent(task, {
      ...methodOptions('persistent', { ...kinkDefaults, epochs }),
      trajectories: 2,
    });
    const [diverged, healthy] = [result.records[0][0], result.records[1][0]];
    assert.ok(diverged.diverged && diverged.epochs === 3);
    assert.equal(curveEpochs(epochs)[0], 2);
    assert.deepEqual(diverged.curve.epochs, [2, 3]);
    assert.ok(Number.isNaN(diverged.curve.trainLoss.at(-1)));
    assert.deepEqual(healthy.curve.epochs, curveEpochs(epochs), 'the other replica keeps its schedule');
    assert.ok(!result.records[0][1].diverged);
    assert.deepEqual(result.records[0][1].curve.epochs, curveEpochs(epochs));
    mask.dispose();
    disposeResult(result);
    task.dispose();
  });

  test('a diverged LayersTask trajectory stops with its curve at that epoch', async () => {
    const task = layersTask();
    const result = await trainPersistent(task, {
      ...methodOptions('reinit', {
        trajectories: 2,
        epochs: 5,
        optimizer: { name: 'sgd', learningRate: 1e8 },
        penalty: defaultPenaltySpec,
      }),
    });
    for (const record of result.records[0]) {
      assert.ok(record.diverged);
      assert.deepEqual(record.curve.epochs, [record.epochs]);
    }
    disposeResult(result);
    task.dispose();
  });
});
