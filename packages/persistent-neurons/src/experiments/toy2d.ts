import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { defaultPenaltySpec, mixSeed, type Split, type TrainingTask, uniform } from '../core/index.js';
import { runMethods } from './method-runner.js';
import { type CommonConfig, commonConfigShape, type Experiment } from './types.js';

const wellSchema = z.strictObject({ x: z.number(), y: z.number(), depth: z.number(), width: z.number().positive() });

export const toy2dConfigSchema = z.strictObject({
  ...commonConfigShape,
  /** L(p) = bowl·|p|² − Σ depth·exp(−|p − c|² / 2·width²) */
  wells: z.array(wellSchema).min(1),
  bowl: z.number().nonnegative(),
  start: z.tuple([z.number(), z.number()]),
  /** Half-width of the square that `reinit` draws starts from and the plot shows. */
  extent: z.number().positive(),
  /** Record every n-th point of a trajectory. */
  recordEvery: z.number().int().positive(),
});
export type Toy2dConfig = z.infer<typeof toy2dConfigSchema> & CommonConfig;

/** The surface's loss at points [n, 2] (differentiable). */
export function surfaceLoss(config: Pick<Toy2dConfig, 'wells' | 'bowl'>, points: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => {
    let loss = tf.mul(tf.sum(tf.square(points), 1), config.bowl) as tf.Tensor1D;
    for (const well of config.wells) {
      const squared = tf.sum(tf.square(tf.sub(points, tf.tensor2d([[well.x, well.y]]))), 1);
      loss = tf.sub(loss, tf.mul(tf.exp(tf.div(squared, -2 * well.width ** 2)), well.depth));
    }
    return loss;
  });
}

/** θ is a 2-D point, one per replica; every replica starts at `start` (reinit: uniform in the square). */
export class Toy2dTask implements TrainingTask {
  readonly replicaAxis = true;
  readonly stepsPerEpoch = 1;
  readonly metric = { name: 'loss', higherIsBetter: false };
  readonly weights;
  private readonly point: tf.Variable;

  constructor(
    readonly config: Toy2dConfig,
    readonly replicaSeeds: readonly number[],
  ) {
    this.point = tf.variable(
      tf.tensor2d(
        replicaSeeds.flatMap(() => config.start),
        [replicaSeeds.length, 2],
      ),
    );
    this.weights = [{ name: 'point/xy', variable: this.point, trainable: true }];
  }

  get replicas(): number {
    return this.replicaSeeds.length;
  }

  startEpoch(): void {}

  loss(): tf.Tensor1D {
    return surfaceLoss(this.config, this.point as tf.Tensor2D);
  }

  evaluate(split: Split): number[] | null {
    return split === 'validation' ? Array.from(tf.tidy(() => this.loss()).dataSync()) : null;
  }

  reinitialize(draw: number): void {
    const starts = this.replicaSeeds.flatMap((seed) => {
      const next = uniform(mixSeed(seed, draw));
      return [(2 * next() - 1) * this.config.extent, (2 * next() - 1) * this.config.extent];
    });
    tf.tidy(() => this.point.assign(tf.tensor2d(starts, [this.replicas, 2])));
  }

  /** Current point of replica r. */
  position(r: number): [number, number] {
    const values = this.point.dataSync();
    return [values[2 * r], values[2 * r + 1]];
  }

  dispose(): void {
    this.point.dispose();
  }
}

const base: Toy2dConfig = {
  seeds: 5,
  methods: ['standard', 'standard-long', 'reinit', 'persistent'],
  iterations: 4,
  epochs: 400,
  optimizer: { name: 'sgd', learningRate: 0.05 },
  penalty: {
    ...defaultPenaltySpec,
    kind: 'gaussian',
    granularity: 'global',
    lambda: 3,
    rho: 0.7,
    releaseFraction: 0.25,
  },
  wells: [
    { x: -0.6, y: -0.2, depth: 1.0, width: 0.5 },
    { x: 1.2, y: 0.9, depth: 1.6, width: 0.55 },
    { x: 0.6, y: -1.5, depth: 2.2, width: 0.5 },
    { x: -1.4, y: 1.4, depth: 1.3, width: 0.5 },
  ],
  bowl: 0.15,
  start: [-0.2, 0.15],
  extent: 2.5,
  recordEvery: 5,
};

export const toy2d: Experiment<Toy2dConfig> = {
  name: 'toy2d',
  description: 'a 2-D loss surface with several minima; gradient descent from a fixed start stops in a poor one',
  schema: toy2dConfigSchema as z.ZodType<Toy2dConfig>,
  presets: {
    smoke: { ...base, seeds: 2, iterations: 3, epochs: 150 },
    quick: base,
    paper: { ...base, seeds: 20, iterations: 6, epochs: 1000 },
  },
  layers: () => ['point'],
  async run(config, context) {
    let points: [number, number][] = [];
    const { runs, details } = await runMethods(config, context, {
      seedsPerTask: 'all',
      makeTask: (_, seeds) => new Toy2dTask(config, seeds),
      // Seed 1's path. Only reinit's starts depend on the seed; the other methods' paths are the same for all.
      onStep: (task) => points.push(task.position(0)),
      endIteration() {
        const path = points.filter((_, i) => i % config.recordEvery === 0 || i === points.length - 1);
        points = [];
        return path;
      },
      async finish(method, _task, result, _seeds, paths) {
        const trajectories = (paths as [number, number][][]).map((path, iteration) => ({
          method,
          seed: 1,
          iteration,
          points: path,
          endLoss: result.records[0][iteration].valMetric,
        }));
        return { details: trajectories };
      },
    });
    return {
      metric: { name: 'loss', higherIsBetter: false },
      runs,
      details: { surface: surfaceGrid(config), start: config.start, trajectories: Object.values(details).flat() },
    };
  },
};

function surfaceGrid(config: Toy2dConfig, size = 61): { x: number[]; y: number[]; loss: number[][] } {
  const axis = Array.from({ length: size }, (_, i) => -config.extent + (2 * config.extent * i) / (size - 1));
  const points = axis.flatMap((y) => axis.flatMap((x) => [x, y]));
  const values = tf.tidy(() => surfaceLoss(config, tf.tensor2d(points, [size * size, 2])).dataSync());
  return { x: axis, y: axis, loss: axis.map((_, iy) => Array.from(values.subarray(iy * size, (iy + 1) * size))) };
}
