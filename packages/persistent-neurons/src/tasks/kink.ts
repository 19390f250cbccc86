import * as tf from '@tensorflow/tfjs-core';
import type { MethodSettings } from '../core/methods.js';
import { defaultPenaltySpec } from '../core/penalty.js';
import { mixSeed, permutation } from '../core/random.js';
import type { Split, TrainingTask } from '../core/trainer.js';
import type { KinkData, KinkDataSpec } from './kink-data.js';
import { ReplicatedMlp } from './replicated-mlp.js';

/** The network, data and training of kink's `quick` preset; the experiment's presets and the explorer start here. */
export const kinkDefaults = {
  hidden: [16, 16],
  batchSize: 32,
  data: {
    mean: 5,
    std: 1,
    kinks: [5],
    slopes: [2],
    baseSlope: -1,
    noise: 0,
    train: 128,
    validation: 256,
    test: 256,
    seed: 1,
  },
  trajectories: 4,
  epochs: 250,
  optimizer: { name: 'sgd', learningRate: 0.05 },
  penalty: defaultPenaltySpec,
} satisfies { hidden: number[]; batchSize: number; data: KinkDataSpec } & MethodSettings;

/** The kink regression for R seeds at once: one replicated 1→h→…→1 ReLU net, mini-batch MSE. */
export class KinkTask implements TrainingTask {
  readonly model: ReplicatedMlp;
  readonly replicaAxis = true;
  readonly metric = { name: 'mse', higherIsBetter: false };
  readonly stepsPerEpoch: number;
  /** [n, 1]: a gather by a [replicas, batch] index gives the model's [replicas, batch, 1] directly. */
  private readonly trainX: tf.Tensor2D;
  private readonly trainY: tf.Tensor2D;
  private readonly evalSets: Record<Split, { x: tf.Tensor3D; y: tf.Tensor3D }>;
  private order: Int32Array[] = [];

  constructor(
    readonly data: KinkData,
    hidden: readonly number[],
    /** One seed per replica: it fixes the replica's init and data order. */
    readonly replicaSeeds: readonly number[],
    readonly batchSize: number,
  ) {
    this.model = new ReplicatedMlp([1, ...hidden, 1], replicaSeeds);
    this.stepsPerEpoch = Math.ceil(data.train.x.length / batchSize);
    this.trainX = tf.tensor2d(data.train.x, [data.train.x.length, 1]);
    this.trainY = tf.tensor2d(data.train.y, [data.train.y.length, 1]);
    const asSet = ({ x, y }: { x: Float32Array; y: Float32Array }) => ({
      x: tf.tensor3d(x, [1, x.length, 1]),
      y: tf.tensor3d(y, [1, y.length, 1]),
    });
    this.evalSets = { validation: asSet(data.validation), test: asSet(data.test) };
  }

  get weights() {
    return this.model.weights;
  }

  get replicas(): number {
    return this.model.replicas;
  }

  startEpoch(trajectory: number, epoch: number): void {
    const n = this.data.train.x.length;
    this.order = this.replicaSeeds.map((seed) => permutation(n, mixSeed(seed, trajectory, epoch)));
  }

  loss(step: number): tf.Tensor1D {
    return tf.tidy(() => {
      const start = step * this.batchSize;
      const size = Math.min(this.batchSize, this.data.train.x.length - start);
      const indices = new Int32Array(this.replicas * size);
      for (const [r, order] of this.order.entries()) indices.set(order.subarray(start, start + size), r * size);
      const index = tf.tensor2d(indices, [this.replicas, size], 'int32');
      const x = tf.gather<tf.Tensor>(this.trainX, index) as tf.Tensor3D;
      const y = tf.gather(this.trainY, index);
      return tf.mean(tf.squaredDifference(this.model.predict(x), y), [1, 2]) as tf.Tensor1D;
    });
  }

  evaluate(split: Split): number[] {
    return tf.tidy(() => {
      const { x, y } = this.evalSets[split];
      return Array.from(tf.mean(tf.squaredDifference(this.model.predict(x), y), [1, 2]).dataSync());
    });
  }

  /** Per-replica predictions on inputs `x`, for plots. */
  predict(x: Float32Array): Float32Array[] {
    return tf.tidy(() => {
      const out = this.model.predict(tf.tensor3d(x, [1, x.length, 1])).dataSync() as Float32Array;
      return this.replicaSeeds.map((_, r) => out.slice(r * x.length, (r + 1) * x.length));
    });
  }

  reinitialize(draw: number): void {
    this.model.initialize(draw);
  }

  dispose(): void {
    this.model.dispose();
    tf.dispose([this.trainX, this.trainY, ...Object.values(this.evalSets).flatMap((s) => [s.x, s.y])]);
  }
}
