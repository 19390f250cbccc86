import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { mixSeed, permutation } from './random.js';
import type { Split, TrainingTask } from './trainer.js';
import { layersModelWeights, type ModelWeight } from './weights.js';

export interface Dataset {
  x: tf.Tensor;
  y: tf.Tensor;
}

export interface LayersTaskOptions {
  /** Builds the model with the initialization of `seed` (the same seed must give the same weights). */
  build: (seed: number) => tfl.LayersModel;
  seed: number;
  train: Dataset;
  validation: Dataset;
  test?: Dataset;
  batchSize: number;
  /** Per-example training loss, averaged over the batch. */
  loss: (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.Scalar;
  /** The selection metric on a whole split (e.g. accuracy or mse), from predictions. */
  metric: { name: string; higherIsBetter: boolean; compute: (yTrue: tf.Tensor, yPred: tf.Tensor) => number };
  /** Evaluation batch size (predictions are made in chunks, never all activations at once). */
  evalBatchSize?: number;
}

/**
 * A tfjs-layers model and its data as a `TrainingTask`, for persistent training of your own model:
 *
 * ```ts
 * const task = new LayersTask({ build: (seed) => myModel(seed), seed: 1, train, validation,
 *   batchSize: 64, loss: tf.losses.softmaxCrossEntropy, metric: accuracyMetric });
 * const result = trainPersistent(task, { trajectories: 3, epochs: 5, restart: 'theta0',
 *   optimizer: { name: 'sgd', learningRate: 0.1 }, penalty: defaultPenaltySpec });
 * ```
 */
export class LayersTask implements TrainingTask {
  readonly model: tfl.LayersModel;
  readonly weights: ModelWeight[];
  readonly replicas = 1;
  readonly replicaAxis = false;
  readonly stepsPerEpoch: number;
  readonly metric: { name: string; higherIsBetter: boolean };
  private order: Int32Array = new Int32Array();
  private readonly examples: number;

  constructor(private readonly options: LayersTaskOptions) {
    this.model = options.build(options.seed);
    this.weights = layersModelWeights(this.model);
    this.examples = options.train.x.shape[0];
    if (options.train.y.shape[0] !== this.examples)
      throw new Error('train.x and train.y hold different numbers of examples');
    this.stepsPerEpoch = Math.ceil(this.examples / options.batchSize);
    this.metric = { name: options.metric.name, higherIsBetter: options.metric.higherIsBetter };
  }

  startEpoch(trajectory: number, epoch: number): void {
    this.order = permutation(this.examples, mixSeed(this.options.seed, trajectory, epoch));
  }

  loss(step: number): tf.Tensor1D {
    return tf.tidy(() => {
      const { batchSize, train } = this.options;
      const index = tf.tensor1d(this.order.subarray(step * batchSize, (step + 1) * batchSize), 'int32');
      const prediction = this.model.apply(tf.gather(train.x, index), { training: true }) as tf.Tensor;
      return tf.reshape(this.options.loss(tf.gather(train.y, index), prediction), [1]);
    });
  }

  evaluate(split: Split): number[] | null {
    const data = split === 'validation' ? this.options.validation : this.options.test;
    if (!data) return null;
    const prediction = this.predict(data.x);
    const value = this.options.metric.compute(data.y, prediction);
    prediction.dispose();
    return [value];
  }

  /** Inference-mode predictions in chunks of `evalBatchSize`. */
  predict(x: tf.Tensor): tf.Tensor {
    const size = this.options.evalBatchSize ?? 256;
    const chunks: tf.Tensor[] = [];
    for (let start = 0; start < x.shape[0]; start += size) {
      chunks.push(
        tf.tidy(() => {
          const chunk = tf.slice(x, start, Math.min(size, x.shape[0] - start));
          return this.model.apply(chunk, { training: false }) as tf.Tensor;
        }),
      );
    }
    const all = tf.concat(chunks, 0);
    tf.dispose(chunks);
    return all;
  }

  /** A new model built from the `draw`-th seed of this task's seed, copied into this one. */
  reinitialize(draw: number): void {
    const fresh = this.options.build(mixSeed(this.options.seed, draw));
    const freshWeights = layersModelWeights(fresh);
    if (freshWeights.length !== this.weights.length) throw new Error('build(seed) returned a different architecture');
    for (const [i, weight] of this.weights.entries()) weight.variable.assign(freshWeights[i].variable);
    fresh.dispose();
  }

  dispose(): void {
    this.model.dispose();
  }
}
