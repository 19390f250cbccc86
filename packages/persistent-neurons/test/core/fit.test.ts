import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as tfd from '@tensorflow/tfjs-data';
import * as tfl from '@tensorflow/tfjs-layers';
import {
  disposeSnapshot,
  type FitPersistentResult,
  fitDatasetPersistent,
  fitPersistent,
  layersModelWeights,
  type Snapshot,
} from '../../src/core/index.js';
import { tf } from '../setup.js';

/** Three classes from a fixed linear rule on 4 features. */
function classes(n: number, seed: number): { x: tf.Tensor2D; y: tf.Tensor2D } {
  return tf.tidy(() => {
    const x = tf.randomNormal([n, 4], 0, 1, 'float32', seed) as tf.Tensor2D;
    const scores = tf.matMul(x, tf.tensor2d([1, -1, 0.5, 0.2, 1, -0.7, -0.4, 0.3, 1, 0.8, -1, 0.1], [4, 3]));
    return { x, y: tf.oneHot(tf.argMax(scores, 1), 3) as tf.Tensor2D };
  });
}
const train = classes(40, 1);
const validation = classes(24, 2);

/** A small classifier with BatchNorm (non-trainable moving statistics), the same weights on every call. */
function classifier(options: { optimizer?: tf.Optimizer } = {}): tfl.LayersModel {
  const model = tfl.sequential({
    layers: [
      tfl.layers.dense({
        name: 'hidden',
        units: 8,
        inputShape: [4],
        activation: 'relu',
        kernelInitializer: tfl.initializers.glorotUniform({ seed: 3 }),
      }),
      tfl.layers.batchNormalization({ name: 'norm' }),
      tfl.layers.dense({
        name: 'out',
        units: 3,
        activation: 'softmax',
        kernelInitializer: tfl.initializers.glorotUniform({ seed: 4 }),
      }),
    ],
  });
  model.compile({
    optimizer: options.optimizer ?? tf.train.momentum(0.1, 0.9),
    loss: 'categoricalCrossentropy',
    metrics: ['accuracy'],
  });
  return model;
}

const values = (snapshot: Snapshot) => new Map([...snapshot].map(([name, t]) => [name, Array.from(t.dataSync())]));
const modelValues = (model: tfl.LayersModel) =>
  new Map(layersModelWeights(model).map((w) => [w.name, Array.from(w.variable.dataSync())]));
const histories = (result: FitPersistentResult) =>
  result.histories.map((h) => ({ epoch: h.epoch, history: h.history }));
const evaluate = (model: tfl.LayersModel, batchSize = 32) =>
  (model.evaluate(validation.x, validation.y, { batchSize }) as tf.Scalar[]).map((s) => {
    const value = s.dataSync()[0];
    s.dispose();
    return value;
  });

function done(model: tfl.LayersModel, result: FitPersistentResult): void {
  result.solutions.forEach(disposeSnapshot);
  model.dispose();
}

/** Two outputs (a classifier and a regression head), an L2 regularizer and BatchNorm, compiled with 'adam' by name. */
function twoHeads(): tfl.LayersModel {
  const input = tfl.input({ shape: [4] });
  const hidden = tfl.layers
    .dense({
      units: 8,
      activation: 'relu',
      kernelInitializer: tfl.initializers.glorotUniform({ seed: 3 }),
      kernelRegularizer: tfl.regularizers.l2({ l2: 0.01 }),
    })
    .apply(input);
  const normalized = tfl.layers.batchNormalization().apply(hidden);
  const dense = (name: string, units: number, seed: number, activation?: 'softmax') =>
    tfl.layers
      .dense({ name, units, activation, kernelInitializer: tfl.initializers.glorotUniform({ seed }) })
      .apply(normalized) as tfl.SymbolicTensor;
  const model = tfl.model({ inputs: input, outputs: [dense('class', 3, 4, 'softmax'), dense('sum', 1, 5)] });
  model.compile({ optimizer: 'adam', loss: ['categoricalCrossentropy', 'meanSquaredError'], metrics: ['accuracy'] });
  return model;
}

describe('fitPersistent', () => {
  test("its first trajectory is model.fit's training: the same weights bit for bit and the same logs", async () => {
    const targets = (set: { x: tf.Tensor2D; y: tf.Tensor2D }) => [set.y, tf.sum(set.x, 1, true)];
    const validationData: [tf.Tensor, tf.Tensor[]] = [validation.x, targets(validation)];
    const args = { epochs: 3, batchSize: 8, shuffle: false, validationData };
    const fitted = twoHeads();
    const history = await fitted.fit(train.x, targets(train), { ...args, verbose: 0 });
    const model = twoHeads();
    const result = await fitPersistent(model, train.x, targets(train), { ...args, trajectories: 1 });
    // The two models' layers have different automatic names: weights are compared in order.
    assert.deepEqual([...modelValues(model).values()], [...modelValues(fitted).values()]);
    const ours = result.histories[0];
    assert.deepEqual(ours.epoch, history.epoch);
    assert.deepEqual(Object.keys(ours.history).sort(), [...Object.keys(history.history), 'penalty'].sort());
    for (const [key, series] of Object.entries(history.history)) {
      // Validation is model.evaluate, as in model.fit; epoch means of training logs may differ in the last bit.
      if (key.startsWith('val_')) assert.deepEqual(ours.history[key], series, key);
      else
        (series as number[]).forEach((v, i) => {
          assert.ok(Math.abs((ours.history[key][i] as number) - v) <= 1e-6 * Math.max(1, Math.abs(v)), key);
        });
    }
    done(model, result);
    fitted.dispose();
  });

  test("a model compiled with an optimizer's name still disposes it afterwards", async () => {
    const before = tf.memory().numTensors;
    const model = twoHeads();
    const sum = tf.sum(train.x, 1, true);
    const result = await fitPersistent(model, train.x, [train.y, sum], {
      epochs: 1,
      batchSize: 10,
      validationSplit: 0.2,
    });
    result.solutions.forEach(disposeSnapshot);
    sum.dispose();
    model.dispose();
    assert.equal(tf.memory().numTensors, before);
  });

  test('one History per trajectory, filled as model.fit fills it', async () => {
    const model = classifier();
    const result = await fitPersistent(model, train.x, train.y, {
      epochs: 4,
      batchSize: 16,
      validationData: [validation.x, validation.y],
      trajectories: 3,
      seed: 1,
    });
    assert.equal(result.histories.length, 3);
    assert.equal(result.solutions.length, 3);
    for (const [k, history] of result.histories.entries()) {
      assert.ok(history instanceof tfl.History);
      assert.deepEqual(history.epoch, [0, 1, 2, 3]);
      assert.deepEqual(Object.keys(history.history).sort(), ['acc', 'loss', 'penalty', 'val_acc', 'val_loss']);
      for (const series of Object.values(history.history)) {
        assert.equal(series.length, 4);
        assert.ok(series.every((v) => typeof v === 'number' && Number.isFinite(v)));
      }
      // The penalty acts from the second trajectory on (default: `distance`, a negative push).
      const penalty = history.history.penalty as number[];
      if (k === 0) assert.ok(penalty.every((p) => p === 0));
      else assert.ok((penalty[0] as number) < 0, `trajectory ${k}: ${penalty}`);
      assert.equal(history.params.epochs, 4);
      assert.deepEqual(history.params.metrics, ['loss', 'acc', 'penalty', 'val_loss', 'val_acc']);
    }
    done(model, result);
  });

  test('the penalty counts in training only: val_* is model.evaluate of each solution, even with a huge λ', async () => {
    const model = classifier();
    const result = await fitPersistent(model, train.x, train.y, {
      epochs: 3,
      batchSize: 8,
      validationData: [validation.x, validation.y],
      trajectories: 3,
      penalty: { lambda: 50, schedule: 'constant' },
      seed: 2,
    });
    // The selected weights are in the model: its evaluation is the selected trajectory's last val_*.
    const selected = result.histories[result.selected].history;
    assert.deepEqual(evaluate(model, 8), [selected.val_loss.at(-1), selected.val_acc.at(-1)]);
    const weights = layersModelWeights(model);
    for (const [k, solution] of result.solutions.entries()) {
      const { history } = result.histories[k];
      for (const w of weights) w.variable.assign(solution.get(w.name) as tf.Tensor);
      assert.deepEqual(evaluate(model, 8), [history.val_loss.at(-1), history.val_acc.at(-1)], `trajectory ${k}`);
      // logs.loss is the cross-entropy alone (≥ 0), though the penalty, −λ·Σd, is far below zero.
      assert.ok((history.loss as number[]).every((loss) => loss >= 0));
      if (k > 0)
        assert.ok(
          (history.penalty as number[]).every((p) => p < -1),
          `${history.penalty}`,
        );
    }
    done(model, result);
  });

  test('a fresh optimizer of the compiled kind and config per trajectory: no momentum carried over', async () => {
    const compiled = tf.train.momentum(0.1, 0.9);
    const model = classifier({ optimizer: compiled });
    const atBegin: { optimizer: tf.Optimizer; weights: [string, number[]][] }[] = [];
    const atEnd: number[][][] = [];
    const result = await fitPersistent(model, train.x, train.y, {
      epochs: 2,
      batchSize: 10,
      validationSplit: 0.25,
      shuffle: false,
      trajectories: 3,
      penalty: { lambda: 0 },
      callbacks: {
        onTrainBegin: async () => {
          const weights = await model.optimizer.getWeights();
          atBegin.push({
            optimizer: model.optimizer,
            weights: weights.map((w) => [w.name, Array.from(w.tensor.dataSync())]),
          });
        },
        onTrainEnd: async () => {
          // The slots are the optimizer's own variables, freed with it: read them now.
          atEnd.push((await model.optimizer.getWeights()).map((w) => Array.from(w.tensor.dataSync())));
        },
      },
    });
    assert.equal(atBegin.length, 3);
    assert.equal(new Set(atBegin.map((b) => b.optimizer)).size, 3, 'a new optimizer per trajectory');
    for (const [k, { optimizer, weights }] of atBegin.entries()) {
      assert.notEqual(optimizer, compiled);
      assert.equal(optimizer.getClassName(), 'Momentum');
      assert.deepEqual(optimizer.getConfig(), compiled.getConfig());
      // Only the iteration count, at 0: no accumulated momentum.
      assert.deepEqual(weights, [['iter', [0]]], `trajectory ${k}`);
      // By the end the trajectory had built momentum slots of its own.
      assert.ok(atEnd[k].length > 1);
      assert.ok(atEnd[k].slice(1).some((slot) => slot.some((v) => v !== 0)));
    }
    // With no penalty, no shuffling and fresh state, every trajectory repeats the first exactly.
    for (const solution of result.solutions.slice(1)) assert.deepEqual(values(solution), values(result.solutions[0]));
    assert.equal(model.optimizer, compiled, 'the compiled optimizer is back in the model');
    done(model, result);
  });

  test('leaves the selected weights in the model: the best trajectory by monitor', async () => {
    const model = classifier();
    const result = await fitPersistent(model, train.x, train.y, {
      epochs: 3,
      batchSize: 8,
      validationData: [validation.x, validation.y],
      trajectories: 3,
      penalty: { lambda: 0.3 },
      seed: 5,
    });
    const finals = result.histories.map((h) => h.history.val_loss.at(-1) as number);
    assert.equal(result.selected, finals.indexOf(Math.min(...finals)));
    assert.deepEqual(modelValues(model), values(result.solutions[result.selected]));
    assert.equal(model.history, result.histories[result.selected]);
    done(model, result);

    // val_acc is maximized (mode 'auto', as tfjs's EarlyStopping decides); mode 'min' overrides it.
    for (const mode of ['auto', 'min'] as const) {
      const accModel = classifier();
      const byAcc = await fitPersistent(accModel, train.x, train.y, {
        epochs: 3,
        batchSize: 8,
        validationData: [validation.x, validation.y],
        penalty: { lambda: 0.3 },
        monitor: 'val_acc',
        mode,
        seed: 5,
      });
      const accs = byAcc.histories.map((h) => h.history.val_acc.at(-1) as number);
      const best = mode === 'auto' ? Math.max(...accs) : Math.min(...accs);
      assert.equal(accs[byAcc.selected], best, `${mode}: ${accs}`);
      assert.deepEqual(modelValues(accModel), values(byAcc.solutions[byAcc.selected]));
      done(accModel, byAcc);
    }
  });

  test('callbacks: hooks in order, objects and configs alike, with the usual logs', async () => {
    const calls: string[] = [];
    const logged: Record<string, tfl.Logs> = {};
    const record =
      (name: string) =>
      (...args: unknown[]) => {
        const [first, logs] = args;
        const key = typeof first === 'number' ? `${name} ${first}` : name;
        calls.push(key);
        logged[key] = { ...((typeof first === 'number' ? logs : first) as tfl.Logs) };
      };
    class Recorder extends tfl.Callback {
      readonly seen: string[] = [];
      override async onEpochEnd(epoch: number) {
        this.seen.push(`epoch ${epoch} (${this.model.optimizer.getClassName()})`);
      }
      onTrajectoryEnd(trajectory: number) {
        this.seen.push(`trajectory ${trajectory}`);
      }
    }
    const recorder = new Recorder();
    const model = classifier();
    const result = await fitPersistent(model, tf.slice(train.x, 0, 20), tf.slice(train.y, 0, 20), {
      epochs: 2,
      batchSize: 10,
      validationData: [validation.x, validation.y],
      trajectories: 2,
      callbacks: [
        {
          onTrajectoryBegin: record('trajectoryBegin'),
          onTrainBegin: record('trainBegin'),
          onEpochBegin: record('epochBegin'),
          onBatchBegin: record('batchBegin'),
          onBatchEnd: record('batchEnd'),
          onEpochEnd: record('epochEnd'),
          onTrainEnd: record('trainEnd'),
          onTrajectoryEnd: record('trajectoryEnd'),
        },
        recorder,
      ],
    });
    const epoch = (e: number) => [
      `epochBegin ${e}`,
      'batchBegin 0',
      'batchEnd 0',
      'batchBegin 1',
      'batchEnd 1',
      `epochEnd ${e}`,
    ];
    const trajectory = (k: number) => [
      `trajectoryBegin ${k}`,
      'trainBegin',
      ...epoch(0),
      ...epoch(1),
      'trainEnd',
      `trajectoryEnd ${k}`,
    ];
    assert.deepEqual(calls, [...trajectory(0), ...trajectory(1)]);
    assert.deepEqual(recorder.seen, [
      'epoch 0 (Momentum)',
      'epoch 1 (Momentum)',
      'trajectory 0',
      'epoch 0 (Momentum)',
      'epoch 1 (Momentum)',
      'trajectory 1',
    ]);
    // The last trajectory's logs (each key holds its last call).
    assert.deepEqual(Object.keys(logged['batchEnd 1']).sort(), ['acc', 'batch', 'loss', 'penalty', 'size']);
    assert.equal(logged['batchEnd 1'].size, 10);
    assert.deepEqual(Object.keys(logged['epochEnd 1']).sort(), ['acc', 'loss', 'penalty', 'val_acc', 'val_loss']);
    const end = logged['trajectoryEnd 1'];
    assert.equal(end.epochs, 2);
    assert.equal(end.diverged, 0);
    assert.equal(end.val_loss, result.histories[1].history.val_loss.at(-1));
    done(model, result);
  });

  test('Dataset input gives exactly what tensor input gives (same seed, no shuffling)', async () => {
    const args = { epochs: 3, trajectories: 2, seed: 7, penalty: { lambda: 0.1 } };
    const tensorModel = classifier();
    const fromTensors = await fitPersistent(tensorModel, train.x, train.y, {
      ...args,
      batchSize: 8,
      shuffle: false,
      validationData: [validation.x, validation.y],
    });
    const dataset = tfd.zip({ xs: tfd.array(tf.unstack(train.x)), ys: tfd.array(tf.unstack(train.y)) }).batch(8);
    const datasetModel = classifier();
    const fromDataset = await fitDatasetPersistent(datasetModel, dataset, {
      ...args,
      validationData: [validation.x, validation.y],
      validationBatchSize: 8,
    });
    assert.deepEqual(histories(fromDataset), histories(fromTensors));
    assert.deepEqual(fromDataset.solutions.map(values), fromTensors.solutions.map(values));
    assert.equal(fromDataset.selected, fromTensors.selected);
    assert.deepEqual(modelValues(datasetModel), modelValues(tensorModel));
    done(tensorModel, fromTensors);

    // A validation Dataset is evaluated with model.evaluateDataset: the same numbers up to rounding.
    const valDataset = tfd
      .zip({ xs: tfd.array(tf.unstack(validation.x)), ys: tfd.array(tf.unstack(validation.y)) })
      .batch(8);
    const valModel = classifier();
    const withValDataset = await fitDatasetPersistent(valModel, dataset, { ...args, validationData: valDataset });
    for (const [k, { history }] of withValDataset.histories.entries()) {
      const reference = fromDataset.histories[k].history;
      for (const key of ['val_loss', 'val_acc'])
        (history[key] as number[]).forEach((v, i) => {
          assert.ok(Math.abs(v - (reference[key][i] as number)) < 1e-5, `${key}: ${v} vs ${reference[key][i]}`);
        });
    }
    done(valModel, withValDataset);
    done(datasetModel, fromDataset);
  });

  test('EarlyStopping, or stopTraining set by a callback, ends the current trajectory, not the run', async () => {
    const model = classifier();
    const result = await fitPersistent(model, train.x, train.y, {
      epochs: 5,
      batchSize: 10,
      validationData: [validation.x, validation.y],
      trajectories: 3,
      // No improvement of at least 10⁹: every trajectory stops after its second epoch.
      callbacks: tfl.callbacks.earlyStopping({ monitor: 'val_loss', patience: 0, minDelta: 1e9 }),
      seed: 3,
    });
    assert.deepEqual(
      result.histories.map((h) => h.epoch),
      [
        [0, 1],
        [0, 1],
        [0, 1],
      ],
    );
    assert.equal(model.stopTraining, false);
    done(model, result);

    const once = classifier();
    let stopAt: (epoch: number) => void = () => {};
    const stoppedOnce = await fitPersistent(once, train.x, train.y, {
      epochs: 4,
      batchSize: 10,
      validationData: [validation.x, validation.y],
      trajectories: 3,
      callbacks: {
        onTrajectoryBegin: (k) => {
          if (k === 1)
            stopAt = (epoch) => {
              once.stopTraining = epoch === 0;
            };
          else stopAt = () => {};
        },
        onEpochEnd: (epoch: number) => stopAt(epoch),
      },
      seed: 3,
    });
    assert.deepEqual(
      stoppedOnce.histories.map((h) => h.epoch.length),
      [4, 1, 4],
    );
    done(once, stoppedOnce);
  });

  test('deterministic for a given seed; another seed shuffles differently', async () => {
    const run = async (seed: number) => {
      const model = classifier();
      const result = await fitPersistent(model, train.x, train.y, {
        epochs: 3,
        batchSize: 8,
        validationSplit: 0.2,
        trajectories: 2,
        seed,
      });
      const outcome = { histories: histories(result), solutions: result.solutions.map(values) };
      done(model, result);
      return outcome;
    };
    const [a, b, c] = [await run(11), await run(11), await run(12)];
    assert.deepEqual(a, b);
    assert.notDeepEqual(a.histories, c.histories);
  });

  test("restart 'theta0' starts every trajectory at θ0 exactly (BatchNorm statistics too); 'reinit' at seeded fresh inits", async () => {
    const starts = async (restart: 'theta0' | 'reinit', seed: number) => {
      const model = classifier();
      const theta0 = modelValues(model);
      const seen: Map<string, number[]>[] = [];
      const result = await fitPersistent(model, train.x, train.y, {
        epochs: 2,
        batchSize: 10,
        validationData: [validation.x, validation.y],
        restart,
        seed,
        callbacks: { onTrainBegin: () => void seen.push(modelValues(model)) },
      });
      const movingMean = [...theta0.keys()].find((name) => name.includes('moving_mean')) as string;
      // Training moved the moving statistics, so restoring them is no no-op.
      assert.notDeepEqual(result.solutions[0].get(movingMean)?.dataSync(), theta0.get(movingMean));
      done(model, result);
      return { theta0, seen };
    };
    const persistent = await starts('theta0', 1);
    for (const start of persistent.seen) assert.deepEqual(start, persistent.theta0);

    const reinit = await starts('reinit', 1);
    assert.deepEqual(reinit.seen[0], reinit.theta0, 'the first trajectory starts at θ0');
    const kernel = 'hidden/kernel';
    assert.notDeepEqual(reinit.seen[1].get(kernel), reinit.theta0.get(kernel));
    assert.notDeepEqual(reinit.seen[2].get(kernel), reinit.seen[1].get(kernel));
    // Freshly initialized BatchNorm statistics are θ0's (zeros and ones).
    const variance = [...reinit.theta0.keys()].find((name) => name.includes('moving_variance')) as string;
    assert.deepEqual(reinit.seen[1].get(variance), reinit.theta0.get(variance));
    const again = await starts('reinit', 1);
    assert.deepEqual(again.seen, reinit.seen, 'the same seed draws the same inits');
    const other = await starts('reinit', 2);
    assert.notDeepEqual(other.seen[1].get(kernel), reinit.seen[1].get(kernel));
  });

  test('without validation data: one warning, and the best trajectory by training loss', async () => {
    const model = classifier();
    const warn = console.warn;
    const warnings: string[] = [];
    console.warn = (message: string) => warnings.push(message);
    let result: FitPersistentResult;
    try {
      result = await fitPersistent(model, train.x, train.y, { epochs: 2, batchSize: 10, trajectories: 3, seed: 4 });
    } finally {
      console.warn = warn;
    }
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /no validation data .* training loss instead of val_loss/);
    const losses = result.histories.map((h) => h.history.loss.at(-1) as number);
    assert.equal(result.selected, losses.indexOf(Math.min(...losses)));
    assert.ok(!('val_loss' in result.histories[0].history));
    done(model, result);
  });

  test('frees what it made: tensors after disposing the solutions are those before', async () => {
    const model = classifier();
    await fitPersistent(model, train.x, train.y, { epochs: 1, trajectories: 1, validationSplit: 0.2 }).then((r) =>
      r.solutions.forEach(disposeSnapshot),
    );
    const before = tf.memory().numTensors;
    const result = await fitPersistent(model, train.x, train.y, {
      epochs: 2,
      batchSize: 10,
      validationSplit: 0.2,
      trajectories: 3,
      restart: 'reinit',
      seed: 1,
      callbacks: { onBatchEnd: () => {} },
    });
    result.solutions.forEach(disposeSnapshot);
    assert.equal(tf.memory().numTensors, before);
    model.dispose();
  });
});
