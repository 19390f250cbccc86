import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { defaultPenaltySpec, type PenaltySpec, PersistentPenalty } from './penalty.js';
import { mixSeed, permutation } from './random.js';
import { penalizedStep } from './step.js';
import { compiledModel, disposeLearningRateToo, lendOptimizer } from './tfjs-internals.js';
import { selectTrajectory } from './trainer.js';
import {
  disposeSnapshot,
  layersModelWeights,
  type ModelWeight,
  restoreSnapshot,
  type Snapshot,
  takeSnapshot,
} from './weights.js';
import { eventLoopTurns } from './yield.js';

type Logs = tfl.Logs;
/** What the loop calls on every callback (tfjs's BaseCallback, which tfjs-layers does not export). */
type CallbackLike = Pick<
  tfl.CustomCallback,
  | 'setParams'
  | 'setModel'
  | 'onTrainBegin'
  | 'onTrainEnd'
  | 'onEpochBegin'
  | 'onEpochEnd'
  | 'onBatchBegin'
  | 'onBatchEnd'
>;
type TensorOrArrayOrMap = tf.Tensor | tf.Tensor[] | { [name: string]: tf.Tensor };

/** What fitPersistent adds to tfjs's callback hooks: a trajectory begins and ends. */
export interface TrajectoryCallbacks {
  /** Before trajectory k (0-based) starts, before its `onTrainBegin`. */
  onTrajectoryBegin?: (trajectory: number, logs?: Logs) => void | Promise<void>;
  /**
   * After trajectory k ended, after its `onTrainEnd`: the last epoch's logs, plus `epochs` (how
   * many ran) and `diverged` (1 when its loss or monitored value turned NaN/Infinity, else 0).
   */
  onTrajectoryEnd?: (trajectory: number, logs?: Logs) => void | Promise<void>;
}

/** A callback config as `model.fit` takes it (`{ onEpochEnd(epoch, logs) {…} }`), with the trajectory hooks. */
export type PersistentCallbackArgs = tfl.CustomCallbackArgs & TrajectoryCallbacks;

/** Callbacks as `model.fit` takes them (tfjs callback objects such as EarlyStopping, or configs), in any mix. */
export type PersistentCallbacks =
  | tfl.Callback
  | PersistentCallbackArgs
  | (tfl.Callback | PersistentCallbackArgs | (tfl.Callback & TrajectoryCallbacks))[];

/** The persistent part of fitPersistent's arguments, shared with fitDatasetPersistent. */
export interface PersistentFitArgs {
  /** Epochs per trajectory (default 1, as model.fit). */
  epochs?: number;
  callbacks?: PersistentCallbacks;
  /** K: trajectories from the same θ0 (default 3). */
  trajectories?: number;
  /** The penalty, over `defaultPenaltySpec` (λ's scale depends on the loss: tune it for yours). */
  penalty?: Partial<PenaltySpec>;
  /**
   * Where each trajectory after the first starts: θ0, every weight restored exactly (default), or
   * a fresh init drawn by re-running each layer's initializers with seeds derived from `seed`.
   */
  restart?: 'theta0' | 'reinit';
  /**
   * The log the best trajectory is selected by, at its last epoch (default 'val_loss', as in
   * tfjs's EarlyStopping). Without validation data a `val_` monitor falls back to 'loss', with a
   * warning.
   */
  monitor?: string;
  /** Whether lower or higher `monitor` is better; 'auto' (default): higher when its name holds 'acc'. */
  mode?: 'auto' | 'min' | 'max';
  /** Makes shuffling and `reinit` deterministic; without it they differ from run to run. */
  seed?: number;
  /** The longest stretch, in milliseconds, computed without giving the event loop a turn (default 10). */
  yieldEveryMs?: number;
}

export interface FitPersistentArgs extends PersistentFitArgs {
  /** Default 32. */
  batchSize?: number;
  /** `[x, y]` to select the best trajectory by and to report `val_*` logs for. */
  validationData?: [TensorOrArrayOrMap, TensorOrArrayOrMap];
  /** The last fraction of x and y (before shuffling) held out for validation, as model.fit does. */
  validationSplit?: number;
  /** Shuffle the training examples before each epoch (default true); seeded by `seed`, trajectory and epoch. */
  shuffle?: boolean;
}

/**
 * A tf.data Dataset as fitDatasetPersistent reads it: batches `{ xs, ys }` (tensors, arrays of
 * them, or maps by input/output name), e.g. `tf.data.zip({ xs, ys }).batch(32)`.
 */
export interface BatchDataset {
  iterator(): Promise<{ next(): Promise<IteratorResult<unknown>> }>;
  readonly size: number | null;
}

export interface FitDatasetPersistentArgs extends PersistentFitArgs {
  epochs: number;
  /** Batches per epoch; absent, an epoch is one pass of a fresh iterator over the dataset. */
  batchesPerEpoch?: number;
  /** A Dataset of batches, or `[x, y]` tensors. */
  validationData?: BatchDataset | [TensorOrArrayOrMap, TensorOrArrayOrMap];
  /** Batch size for `[x, y]` validation data (default 32, as model.fitDataset). */
  validationBatchSize?: number;
  /** How many batches of a validation Dataset to evaluate (default all). */
  validationBatches?: number;
}

export interface FitPersistentResult {
  /** One tfjs History per trajectory, as model.fit returns it (`epoch`, `history`, `params`). */
  histories: tfl.History[];
  /** The trajectory whose weights the model holds now: the best by `monitor`, never a diverged one if another is left. */
  selected: number;
  /** θ*_k, the weights every trajectory ended at (all weights, by name). Dispose with `disposeSnapshot`. */
  solutions: Snapshot[];
}

/**
 * Persistent training of a compiled tfjs-layers model with `model.fit`'s arguments: K
 * trajectories from the same initial weights θ0 (every weight restored exactly, BatchNorm
 * statistics included), each with a fresh optimizer of the compiled kind and config, and each
 * after the first trained on the compiled loss plus the persistent penalty against the
 * solutions before it (docs/method.md). The best trajectory by `monitor` is left in the model.
 *
 * To callbacks, each trajectory is one `fit`: `onTrainBegin`, then per epoch `onEpochBegin`,
 * `onBatchBegin`/`onBatchEnd` per batch and `onEpochEnd`, then `onTrainEnd`, between
 * `onTrajectoryBegin(k)` and `onTrajectoryEnd(k)`. `model.optimizer` is the trajectory's own
 * optimizer meanwhile, and `model.stopTraining = true` (tfjs's EarlyStopping) ends the trajectory,
 * not the run. `logs.loss` and the metrics are the compiled ones (layer regularizers included, as
 * model.fit reports them); `logs.penalty` is the persistent penalty's mean over the epoch, which
 * counts in training only: `val_*` logs are exactly `model.evaluate` on the validation data.
 *
 * With `tf` the `@tensorflow/tfjs` package, and `fitPersistent` and `disposeSnapshot` imported from this one:
 *
 * ```js
 * const model = tf.sequential({ layers: [
 *   tf.layers.dense({ units: 16, activation: 'relu', inputShape: [1] }),
 *   tf.layers.dense({ units: 1 }) ] });
 * model.compile({ optimizer: tf.train.sgd(0.05), loss: 'meanSquaredError' });
 * const x = tf.randomNormal([256, 1], 5, 0.5, 'float32', 1);
 * const y = tf.abs(tf.sub(x, 5));
 * const { histories, selected, solutions } = await fitPersistent(model, x, y, {
 *   epochs: 20, batchSize: 32, validationSplit: 0.25, trajectories: 3, seed: 1 });
 * console.log(histories.map((h) => h.history.val_loss.at(-1)), 'selected', selected);
 * solutions.forEach(disposeSnapshot);
 * ```
 */
export async function fitPersistent(
  model: tfl.LayersModel,
  x: TensorOrArrayOrMap,
  y: TensorOrArrayOrMap,
  args: FitPersistentArgs = {},
): Promise<FitPersistentResult> {
  const batchSize = args.batchSize ?? 32;
  if (!(Number.isInteger(batchSize) && batchSize > 0))
    throw new Error(`batchSize must be a positive integer, got ${batchSize}`);
  let xs = tensorList(model, 'input', x);
  let ys = tensorList(model, 'output', y);
  const examples = xs[0].shape[0];
  for (const tensor of [...xs, ...ys])
    if (tensor.shape[0] !== examples) throw new Error('x and y hold different numbers of examples');
  let validation: [tf.Tensor[], tf.Tensor[]] | undefined;
  const owned: tf.Tensor[] = [];
  if (args.validationData) {
    validation = [
      tensorList(model, 'input', args.validationData[0]),
      tensorList(model, 'output', args.validationData[1]),
    ];
  } else if (args.validationSplit !== undefined && args.validationSplit > 0 && args.validationSplit < 1) {
    // As model.fit: the last fraction of the examples, before any shuffling.
    const splitAt = Math.floor(examples * (1 - args.validationSplit));
    const slice = (list: tf.Tensor[], begin: number, size: number) =>
      list.map((t) => {
        const part = tf.slice(t, begin, size);
        owned.push(part);
        return part;
      });
    validation = [slice(xs, splitAt, examples - splitAt), slice(ys, splitAt, examples - splitAt)];
    [xs, ys] = [slice(xs, 0, splitAt), slice(ys, 0, splitAt)];
  }
  const trainExamples = xs[0].shape[0];
  if (trainExamples === 0) throw new Error('no training examples');
  try {
    return await fitTrajectories(model, args, {
      steps: Math.ceil(trainExamples / batchSize),
      samples: trainExamples,
      batchSize,
      epoch(seed, trajectory, epoch) {
        const order =
          args.shuffle === false ? null : permutation(trainExamples, mixSeed(seed, SHUFFLE_STREAM, trajectory, epoch));
        let start = 0;
        return async () => {
          if (start >= trainExamples) return null;
          const end = Math.min(trainExamples, start + batchSize);
          const batch = tf.tidy(() => {
            const index = order ? tf.tensor1d(order.subarray(start, end), 'int32') : tf.range(start, end, 1, 'int32');
            return { xs: xs.map((t) => tf.gather(t, index)), ys: ys.map((t) => tf.gather(t, index)) };
          });
          start = end;
          return batch;
        };
      },
      validate: validation ? validator(model, validation, batchSize) : null,
    });
  } finally {
    tf.dispose(owned);
  }
}

/**
 * fitPersistent for a tf.data Dataset of batches, with `model.fitDataset`'s arguments: each
 * trajectory reads the dataset from a fresh iterator, so every trajectory sees the same stream
 * (shuffle in the dataset, e.g. `.shuffle(n, seed)`, for a different order per epoch). The
 * batches' tensors are disposed after their step, as model.fitDataset does.
 *
 * ```js
 * const dataset = tf.data.zip({ xs: tf.data.array(xRows), ys: tf.data.array(yRows) }).batch(32);
 * const { selected } = await fitDatasetPersistent(model, dataset, { epochs: 20, validationData: [valX, valY] });
 * ```
 */
export async function fitDatasetPersistent(
  model: tfl.LayersModel,
  dataset: BatchDataset,
  args: FitDatasetPersistentArgs,
): Promise<FitPersistentResult> {
  const { batchesPerEpoch } = args;
  if (batchesPerEpoch !== undefined && !(Number.isInteger(batchesPerEpoch) && batchesPerEpoch > 0))
    throw new Error(`batchesPerEpoch must be a positive integer, got ${batchesPerEpoch}`);
  const validationData = args.validationData;
  let validate: (() => Promise<number[]>) | null = null;
  if (validationData && 'iterator' in validationData) {
    const evaluateDataset = model.evaluateDataset.bind(model) as (
      data: BatchDataset,
      options: { batches?: number },
    ) => Promise<tf.Scalar | tf.Scalar[]>;
    validate = async () => readScalars(await evaluateDataset(validationData, { batches: args.validationBatches }));
  } else if (validationData) {
    const data: [tf.Tensor[], tf.Tensor[]] = [
      tensorList(model, 'input', validationData[0]),
      tensorList(model, 'output', validationData[1]),
    ];
    validate = validator(model, data, args.validationBatchSize ?? 32);
  }
  const size = dataset.size;
  let iterator: { next(): Promise<IteratorResult<unknown>> } | undefined;
  let iteratorTrajectory = -1;
  return fitTrajectories(model, args, {
    steps: batchesPerEpoch ?? (typeof size === 'number' && Number.isFinite(size) ? size : null),
    samples: null,
    batchSize: null,
    epoch(_seed, trajectory) {
      let step = 0;
      let fresh = false;
      return async () => {
        // A fresh iterator per epoch, or with batchesPerEpoch one per trajectory, read on.
        if (!fresh && (batchesPerEpoch === undefined || iteratorTrajectory !== trajectory)) {
          iterator = await dataset.iterator();
          iteratorTrajectory = trajectory;
        }
        fresh = true;
        if (batchesPerEpoch !== undefined && step >= batchesPerEpoch) return null;
        const next = await (iterator as { next(): Promise<IteratorResult<unknown>> }).next();
        if (next.done || next.value == null) {
          if (batchesPerEpoch !== undefined)
            console.warn(
              `persistent-neurons: the dataset ran out after ${step} batches of an epoch of ${batchesPerEpoch}; ` +
                'the epoch ends there (repeat() the dataset to give every epoch its batches).',
            );
          return null;
        }
        step++;
        const { xs, ys } = next.value as { xs?: TensorOrArrayOrMap; ys?: TensorOrArrayOrMap };
        if (!xs || !ys) throw new Error('the dataset must yield batches { xs, ys }');
        return { xs: tensorList(model, 'input', xs), ys: tensorList(model, 'output', ys) };
      };
    },
    validate,
  });
}

/** Shuffling and reinit draw from separate streams of the seed. */
const SHUFFLE_STREAM = 1;
const REINIT_STREAM = 2;

interface BatchSource {
  /** Batches per epoch when known beforehand; null: counted during the first epoch. */
  steps: number | null;
  samples: number | null;
  batchSize: number | null;
  /** The batch reader of one epoch: each call gives the next batch (freed by the loop), null at the end. */
  epoch(seed: number, trajectory: number, epoch: number): () => Promise<{ xs: tf.Tensor[]; ys: tf.Tensor[] } | null>;
  /** The compiled loss and metrics on validation data, in `model.metricsNames` order; null: none. */
  validate: (() => Promise<number[]>) | null;
}

/** Models in a fitPersistent call: a second call on one of them would train it from two loops. */
const training = new WeakSet<tfl.LayersModel>();

async function fitTrajectories(
  userModel: tfl.LayersModel,
  args: PersistentFitArgs,
  source: BatchSource,
): Promise<FitPersistentResult> {
  // The model that holds the compiled state; for a Sequential, the inner model tfjs's own fit
  // trains (and hands to callbacks).
  const model = compiledModel(userModel);
  const compiled = model?.optimizer;
  if (!model || !compiled)
    throw new Error('compile the model before fitPersistent (model.compile({ optimizer, loss }))');
  const trajectories = args.trajectories ?? 3;
  const epochs = args.epochs ?? 1;
  if (!(Number.isInteger(trajectories) && trajectories >= 1))
    throw new Error('trajectories must be a positive integer');
  if (!(Number.isInteger(epochs) && epochs >= 1)) throw new Error('epochs must be a positive integer');
  if (training.has(model)) throw new Error('this model is already training in another fitPersistent call');
  const setHistory = (history: tfl.History) => {
    model.history = history;
    userModel.history = history;
  };

  const labels = dedupedNames(model.metricsNames);
  const doValidation = source.validate !== null;
  const monitor = monitorOf(args.monitor ?? 'val_loss', doValidation, labels);
  const higherIsBetter = args.mode === 'max' || ((args.mode ?? 'auto') === 'auto' && monitor.includes('acc'));
  const spec: PenaltySpec = { ...defaultPenaltySpec, ...args.penalty };
  const seed = args.seed ?? Math.floor(Math.random() * 2 ** 32);
  const restart = args.restart ?? 'theta0';

  const layerVariables = model.weights;
  const weights = layersModelWeights(model);
  const initializers = restart === 'reinit' ? weightInitializers(model, layerVariables) : [];
  const trainable = weights.filter((w) => w.trainable);
  const { callbacks, hooks } = standardizeCallbacks(args.callbacks);
  const metrics = [...labels, 'penalty', ...(doValidation ? labels.map((l) => `val_${l}`) : [])];
  const turn = eventLoopTurns(args.yieldEveryMs);

  const theta0 = takeSnapshot(weights);
  const solutions: Snapshot[] = [];
  const histories: tfl.History[] = [];
  const outcomes: { valMetric: number; diverged: boolean }[] = [];
  let steps = source.steps;
  training.add(model);
  try {
    for (let k = 0; k < trajectories; k++) {
      restoreSnapshot(weights, theta0);
      if (restart === 'reinit' && k > 0) reinitialize(weights, initializers, mixSeed(seed, REINIT_STREAM, k));
      const optimizer = freshOptimizer(compiled);
      const giveBack = lendOptimizer(model, optimizer);
      const penalty =
        k > 0
          ? new PersistentPenalty({
              theta0,
              previousSolutions: solutions,
              spec,
              weightNames: trainable.map((w) => w.name),
              options: { counts: outcomes.map(({ diverged }) => [!diverged]) },
            })
          : undefined;
      const history = new tfl.History();
      const all: CallbackLike[] = [...callbacks, history];
      try {
        const params = {
          epochs,
          initialEpoch: 0,
          ...(source.samples !== null ? { samples: source.samples } : {}),
          ...(steps !== null ? { steps } : {}),
          ...(source.batchSize !== null ? { batchSize: source.batchSize } : {}),
          verbose: 0,
          doValidation,
          metrics,
          trajectory: k,
          trajectories,
        };
        for (const callback of all) {
          callback.setParams(params);
          callback.setModel(model);
        }
        setHistory(history);
        for (const hook of hooks) await hook.onTrajectoryBegin?.(k, {});
        for (const callback of all) await callback.onTrainBegin({});
        model.stopTraining = false;

        let last: Logs = {};
        let epochsRun = 0;
        let diverged = false;
        for (let epoch = 0; epoch < epochs; epoch++) {
          for (const callback of all) await callback.onEpochBegin(epoch, {});
          const next = source.epoch(seed, k, epoch);
          let sums: tf.Tensor1D = tf.keep(tf.zeros([labels.length + 1]));
          let seen = 0;
          let step = 0;
          for (let batch = await next(); batch; batch = await next()) {
            const size = batch.xs[0].shape[0];
            const logs: Logs = { batch: step, size };
            for (const callback of all) await callback.onBatchBegin(step, logs);
            const progress = steps ? Math.min(1, (epoch * steps + step) / (epochs * steps)) : 0;
            const outs = trainStep(model, optimizer, trainable, batch, penalty && { penalty, progress });
            tf.dispose([...batch.xs, ...batch.ys]);
            const previous = sums;
            sums = tf.keep(tf.tidy(() => tf.add(previous, tf.mul(outs, size))));
            previous.dispose();
            seen += size;
            if (callbacks.length) {
              const values = await outs.data();
              labels.forEach((label, i) => {
                logs[label] = values[i];
              });
              logs.penalty = values[labels.length];
            }
            outs.dispose();
            for (const callback of all) await callback.onBatchEnd(step, logs);
            step++;
            const pause = turn();
            if (pause) await pause;
            if (model.stopTraining) break;
          }
          if (seen === 0) {
            sums.dispose();
            throw new Error(
              `epoch ${epoch + 1} of trajectory ${k + 1} had no batches: the data is empty, or a dataset ran out (repeat() it)`,
            );
          }
          steps ??= step;
          const means = await readAndDispose(tf.tidy(() => tf.div(sums, seen)));
          sums.dispose();
          const logs: Logs = {};
          labels.forEach((label, i) => {
            logs[label] = means[i];
          });
          logs.penalty = means[labels.length];
          if (source.validate) {
            const values = await source.validate();
            labels.forEach((label, i) => {
              logs[`val_${label}`] = values[i];
            });
          }
          for (const callback of all) await callback.onEpochEnd(epoch, logs);
          last = logs;
          epochsRun = epoch + 1;
          if (!Number.isFinite(logs.loss)) diverged = true;
          if (diverged || model.stopTraining) break;
        }
        for (const callback of all) await callback.onTrainEnd({});
        await history.syncData();
        const valMetric = last[monitor];
        diverged ||= !Number.isFinite(valMetric);
        solutions.push(takeSnapshot(weights));
        histories.push(history);
        outcomes.push({ valMetric, diverged });
        for (const hook of hooks)
          await hook.onTrajectoryEnd?.(k, { ...last, epochs: epochsRun, diverged: diverged ? 1 : 0 });
      } finally {
        penalty?.dispose();
        giveBack();
        optimizer.dispose();
      }
    }
    const selected = selectTrajectory(outcomes, higherIsBetter);
    restoreSnapshot(weights, solutions[selected]);
    setHistory(histories[selected]);
    return { histories, selected, solutions };
  } catch (error) {
    solutions.forEach(disposeSnapshot);
    throw error;
  } finally {
    model.stopTraining = false;
    disposeSnapshot(theta0);
    training.delete(model);
  }
}

/**
 * One optimizer step on a batch, with the loss tfjs's model.fit computes (the compiled losses
 * summed over outputs, their mean, plus layer regularizers) and the penalty added. Returns
 * [loss, ...metrics (model.metricsNames order), penalty] of the batch.
 */
function trainStep(
  model: tfl.LayersModel,
  optimizer: tf.Optimizer,
  trainable: readonly ModelWeight[],
  { xs, ys }: { xs: tf.Tensor[]; ys: tf.Tensor[] },
  penalty: { penalty: PersistentPenalty; progress: number } | undefined,
): tf.Tensor1D {
  // [loss, ...metrics] of the batch; without a penalty, with its 0 already appended.
  let outs: tf.Tensor1D | undefined;
  const taskLoss = () => {
    const outputs = toList(model.apply(unlist(xs), { training: true }) as tf.Tensor | tf.Tensor[]);
    const lossValues: tf.Tensor[] = [];
    let total: tf.Tensor | undefined;
    model.lossFunctions.forEach((lossFunction, i) => {
      const loss = lossFunction(ys[i], outputs[i]);
      lossValues.push(tf.mean(loss));
      total = total ? tf.add(total, loss) : loss;
    });
    const metricValues = model.metricsTensors.map(([metric, output], i) =>
      model.outputs.length > 1 && i < model.outputs.length
        ? lossValues[i]
        : tf.mean(metric(ys[output], outputs[output])),
    );
    let loss = tf.mean(total as tf.Tensor);
    for (const regularizer of model.calculateLosses()) loss = tf.add(loss, regularizer);
    outs = tf.keep(tf.stack([loss, ...metricValues, ...(penalty ? [] : [tf.scalar(0)])]) as tf.Tensor1D);
    return loss as tf.Scalar;
  };
  if (!penalty) {
    optimizer.minimize(
      taskLoss,
      false,
      trainable.map((w) => w.variable),
    );
    return outs as tf.Tensor1D;
  }
  let value: tf.Scalar;
  try {
    value = penalizedStep(optimizer, trainable, taskLoss, penalty.penalty, penalty.progress);
  } catch (error) {
    outs?.dispose();
    throw error;
  }
  const task = outs as tf.Tensor1D;
  const all = tf.tidy(() => tf.concat([task, tf.reshape(value, [1])]) as tf.Tensor1D);
  tf.dispose([task, value]);
  return all;
}

/** A new, stateless optimizer of the compiled one's class and config, through tfjs's serialization registry. */
function freshOptimizer(compiled: tf.Optimizer): tf.Optimizer {
  const className = compiled.getClassName();
  const registered = tf.serialization.SerializationMap.getMap().classNameMap[className];
  if (!registered)
    throw new Error(
      `optimizer "${className}" is not registered with tf.serialization.registerClass, so it cannot be re-created`,
    );
  const [cls, fromConfig] = registered;
  const optimizer = fromConfig(cls, compiled.getConfig()) as tf.Optimizer;
  // tfjs's MomentumOptimizer.dispose leaves its learning-rate scalar behind: one tensor per trajectory.
  // (By class name: tfjs optimizers answer `instanceof` for any optimizer class.)
  return className === 'Momentum' ? disposeLearningRateToo(optimizer as tf.MomentumOptimizer) : optimizer;
}

interface Initializer {
  apply(shape: number[], dtype?: tf.DataType): tf.Tensor;
  getConfig(): tf.serialization.ConfigDict;
}

/** The initializer that made each weight, found on the layer (or RNN cell, wrapped layer) that owns it. */
function weightInitializers(model: tfl.LayersModel, variables: readonly tfl.LayerVariable[]): Initializer[] {
  const found = new Map<tfl.LayerVariable, Initializer>();
  const seen = new Set<object>();
  const visit = (owner: unknown) => {
    if (typeof owner !== 'object' || owner === null || seen.has(owner)) return;
    seen.add(owner);
    const node = owner as Record<string, unknown>;
    for (const key of ['layers', 'layer', 'forwardLayer', 'backwardLayer', 'cell', 'cells']) {
      const child = node[key];
      for (const each of Array.isArray(child) ? child : [child]) visit(each);
    }
    const own = node.weights;
    if (!Array.isArray(own)) return;
    for (const variable of own as tfl.LayerVariable[]) {
      if (found.has(variable)) continue;
      const initializer = initializerFields(variable.originalName ?? variable.name)
        .map((field) => node[field])
        .find((value): value is Initializer => typeof (value as Initializer | undefined)?.apply === 'function');
      if (initializer) found.set(variable, initializer);
    }
  };
  visit(model);
  return variables.map((variable) => {
    const initializer = found.get(variable);
    if (!initializer)
      throw new Error(
        `restart 'reinit': no initializer found for weight "${variable.originalName ?? variable.name}"; use restart 'theta0'`,
      );
    return initializer;
  });
}

/** Where tfjs-layers keeps a weight's initializer: `kernel` → kernelInitializer, `recurrent_kernel` → recurrentInitializer. */
function initializerFields(weightName: string): string[] {
  const base = weightName.slice(weightName.lastIndexOf('/') + 1);
  const camel = (s: string) => s.replace(/_(\w)/g, (_, c: string) => c.toUpperCase());
  const fields = [`${camel(base)}Initializer`];
  if (base.endsWith('_kernel')) fields.push(`${camel(base.slice(0, -'_kernel'.length))}Initializer`);
  return fields;
}

/** Draws every weight anew from its initializer, seeded per weight from `seed`. */
function reinitialize(weights: ReturnType<typeof layersModelWeights>, initializers: Initializer[], seed: number): void {
  tf.tidy(() => {
    weights.forEach(({ variable }, i) => {
      const initializer = initializers[i];
      const config = initializer.getConfig();
      // Initializers that draw random numbers have a `seed` in their config; the others are reused as they are.
      const seeded =
        'seed' in config
          ? new (initializer.constructor as new (args: object) => Initializer)({ ...config, seed: mixSeed(seed, i) })
          : initializer;
      variable.assign(seeded.apply(variable.shape, variable.dtype));
    });
  });
}

function standardizeCallbacks(callbacks: PersistentCallbacks | undefined): {
  callbacks: CallbackLike[];
  hooks: TrajectoryCallbacks[];
} {
  const list = callbacks === undefined ? [] : Array.isArray(callbacks) ? callbacks : [callbacks];
  return {
    // Callback objects (EarlyStopping, a subclass of tf.Callback) as they are; configs as tfjs wraps them.
    callbacks: list.map((callback) =>
      typeof (callback as CallbackLike).setParams === 'function'
        ? (callback as CallbackLike)
        : new tfl.CustomCallback(
            callback as PersistentCallbackArgs,
            (callback as PersistentCallbackArgs).onYield ? 'auto' : 'never',
          ),
    ),
    hooks: list as TrajectoryCallbacks[],
  };
}

/** The monitored log; a `val_` one falls back to the training loss, with a warning, when there is no validation data. */
function monitorOf(monitor: string, doValidation: boolean, labels: string[]): string {
  const known = [...labels, ...labels.map((l) => `val_${l}`)];
  if (!known.includes(monitor)) throw new Error(`monitor "${monitor}" is none of the logs: ${known.join(', ')}`);
  if (doValidation || !monitor.startsWith('val_')) return monitor;
  console.warn(
    `persistent-neurons: fitPersistent has no validation data (validationData or validationSplit), so it ` +
      `selects the trajectory by the training loss instead of ${monitor}.`,
  );
  return 'loss';
}

/** model.metricsNames with repeated names numbered, as model.fit labels its logs. */
function dedupedNames(names: readonly string[]): string[] {
  return names.map((name, i) => {
    const count = names.filter((n) => n === name).length;
    return count > 1 ? `${name}_${names.slice(0, i).filter((n) => n === name).length}` : name;
  });
}

function tensorList(model: tfl.LayersModel, kind: 'input' | 'output', value: TensorOrArrayOrMap): tf.Tensor[] {
  const names = kind === 'input' ? model.inputNames : model.outputNames;
  const list =
    value instanceof tf.Tensor
      ? [value]
      : Array.isArray(value)
        ? value
        : names.map((name) => {
            const tensor = value[name];
            if (!tensor) throw new Error(`no ${kind} "${name}" among ${Object.keys(value).join(', ')}`);
            return tensor;
          });
  if (list.length !== names.length)
    throw new Error(`the model has ${names.length} ${kind}s (${names.join(', ')}), got ${list.length} tensors`);
  return list;
}

/** `model.evaluate` on tensors: the compiled loss and metrics, as model.fit's `val_*` logs. */
function validator(model: tfl.LayersModel, [x, y]: [tf.Tensor[], tf.Tensor[]], batchSize: number) {
  return async () => readScalars(model.evaluate(unlist(x), unlist(y), { batchSize }));
}

const toList = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);
const unlist = (list: tf.Tensor[]): tf.Tensor | tf.Tensor[] => (list.length === 1 ? list[0] : list);

async function readScalars(scalars: tf.Scalar | tf.Scalar[]): Promise<number[]> {
  const list = toList(scalars);
  const values = await Promise.all(list.map((s) => s.data()));
  tf.dispose(list);
  return values.map((v) => v[0]);
}

async function readAndDispose(tensor: tf.Tensor): Promise<number[]> {
  const values = Array.from(await tensor.data());
  tensor.dispose();
  return values;
}
