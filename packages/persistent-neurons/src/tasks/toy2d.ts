import * as tf from '@tensorflow/tfjs-core';
import {
  defaultPenaltySpec,
  type MethodSettings,
  mixSeed,
  type Split,
  type TrainingTask,
  uniform,
} from '../core/index.js';

/** A Gaussian well of the surface: depth · exp(−|p − (x, y)|² / 2·width²) is taken off the bowl. */
export interface Well {
  x: number;
  y: number;
  depth: number;
  width: number;
}

/** The toy2d loss surface L(p) = bowl·|p|² − Σ depth·exp(−|p − c|² / 2·width²), and where descent starts. */
export interface Toy2dSurface {
  wells: readonly Well[];
  bowl: number;
  start: readonly [number, number];
  /** Half-width of the square that `reinit` draws starts from and the plots show. */
  extent: number;
}

/** The surface and the training of toy2d's `quick` preset; the experiment's presets and the explorer start here. */
export const toy2dDefaults = {
  wells: [
    { x: -0.6, y: -0.2, depth: 1.0, width: 0.5 },
    { x: 1.2, y: 0.9, depth: 1.6, width: 0.55 },
    { x: 0.6, y: -1.5, depth: 2.2, width: 0.5 },
    { x: -1.4, y: 1.4, depth: 1.3, width: 0.5 },
  ],
  bowl: 0.15,
  start: [-0.2, 0.15],
  extent: 2.5,
  trajectories: 4,
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
} satisfies Toy2dSurface & MethodSettings;

/** The surface's loss at points [n, 2] (differentiable). */
export function surfaceLoss(surface: Pick<Toy2dSurface, 'wells' | 'bowl'>, points: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => {
    let loss = tf.mul(tf.sum(tf.square(points), 1), surface.bowl) as tf.Tensor1D;
    for (const well of surface.wells) {
      const squared = tf.sum(tf.square(tf.sub(points, tf.tensor2d([[well.x, well.y]]))), 1);
      loss = tf.sub(loss, tf.mul(tf.exp(tf.div(squared, -2 * well.width ** 2)), well.depth));
    }
    return loss;
  });
}

/** The loss on a size × size grid over the square ±extent; loss[iy][ix] is at (x[ix], y[iy]). */
export function surfaceGrid(surface: Toy2dSurface, size = 61): { x: number[]; y: number[]; loss: number[][] } {
  const axis = Array.from({ length: size }, (_, i) => -surface.extent + (2 * surface.extent * i) / (size - 1));
  const points = axis.flatMap((y) => axis.flatMap((x) => [x, y]));
  const values = tf.tidy(() => surfaceLoss(surface, tf.tensor2d(points, [size * size, 2])).dataSync());
  return { x: axis, y: axis, loss: axis.map((_, iy) => Array.from(values.subarray(iy * size, (iy + 1) * size))) };
}

/** θ is a 2-D point, one per replica; every replica starts at `start` (reinit: uniform in the square). */
export class Toy2dTask implements TrainingTask {
  readonly replicaAxis = true;
  readonly stepsPerEpoch = 1;
  readonly metric = { name: 'loss', higherIsBetter: false };
  readonly weights;
  private readonly point: tf.Variable;

  constructor(
    readonly surface: Toy2dSurface,
    readonly replicaSeeds: readonly number[],
  ) {
    this.point = tf.variable(
      tf.tensor2d(
        replicaSeeds.flatMap(() => surface.start),
        [replicaSeeds.length, 2],
      ),
    );
    this.weights = [{ name: 'point/xy', variable: this.point, trainable: true }];
  }

  get replicas(): number {
    return this.replicaSeeds.length;
  }

  startEpoch(_trajectory: number, _epoch: number): void {}

  loss(): tf.Tensor1D {
    return surfaceLoss(this.surface, this.point as tf.Tensor2D);
  }

  evaluate(split: Split): number[] | null {
    return split === 'validation' ? Array.from(tf.tidy(() => this.loss()).dataSync()) : null;
  }

  reinitialize(draw: number): void {
    const starts = this.replicaSeeds.flatMap((seed) => {
      const next = uniform(mixSeed(seed, draw));
      return [(2 * next() - 1) * this.surface.extent, (2 * next() - 1) * this.surface.extent];
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
