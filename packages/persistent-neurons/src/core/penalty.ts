import * as tf from '@tensorflow/tfjs-core';
import { layerOf, type ModelWeight, type Snapshot } from './weights.js';

export type PenaltyKind = 'distance' | 'inverse' | 'gaussian';
export type Granularity = 'global' | 'layer' | 'neuron';
export type LambdaSchedule = 'constant' | 'release';

/** How persistent training pushes a trajectory away from earlier solutions (docs/method.md). */
export interface PenaltySpec {
  kind: PenaltyKind;
  granularity: Granularity;
  /** Strength λ of the push. */
  lambda: number;
  schedule: LambdaSchedule;
  /** `release`: λ falls linearly to 0 over this last fraction of an trajectory. */
  releaseFraction: number;
  /** `inverse`: R = Σ 1/(d + epsilon). */
  epsilon: number;
  /** `gaussian`: σ_g = rho · ‖θ0_g − θ*_g‖. */
  rho: number;
  /** The persistent subset S by layer name; absent means every trainable weight. */
  layers?: readonly string[];
}

/** The best setting of the kink ablation (docs/ablation.md). λ's scale depends on the loss: tune it for yours. */
export const defaultPenaltySpec: PenaltySpec = {
  kind: 'distance',
  granularity: 'neuron',
  lambda: 0.03,
  schedule: 'release',
  releaseFraction: 0.5,
  epsilon: 0.01,
  rho: 0.5,
};

/** λ(t) at `progress` ∈ [0, 1] through an trajectory. */
export function lambdaAt(spec: PenaltySpec, progress: number): number {
  if (spec.schedule === 'constant' || spec.releaseFraction <= 0) return spec.lambda;
  const releaseStart = 1 - spec.releaseFraction;
  if (progress <= releaseStart) return spec.lambda;
  return spec.lambda * Math.max(0, (1 - progress) / spec.releaseFraction);
}

/** Keeps the gradient of d = ‖·‖₂ finite at d = 0: d = sqrt(s + SMOOTHING²). */
const SMOOTHING = 1e-6;

export interface PenaltyOptions {
  /** Picks the persistent subset by weight name; combined with `spec.layers` when both are given. */
  subset?: (weightName: string) => boolean;
  /**
   * Axis 0 of every weight indexes independent replicas of the model (several seeds trained
   * as one batched model). Distances are then taken per replica and the penalties summed,
   * so each replica's gradient is its own.
   */
  replicaAxis?: boolean;
  /** Per-replica λ (length = replica count), overriding `spec.lambda`: one batch, several λ. */
  replicaLambda?: readonly number[];
  /**
   * `counts[j][r]` false leaves out solution j for replica r: a trajectory that diverged ends at
   * NaN weights, which are no minimum to move away from. Absent: every solution counts.
   */
  counts?: readonly (readonly boolean[])[];
}

interface PersistentWeight {
  name: string;
  layer: string;
  /** [replicas, rest, units]: every weight viewed as 3-D so that one code path groups them all. */
  view: [number, number, number];
}

/**
 * The persistent penalty λ(t) · Σ_j R(θ_S, θ*_{j,S}) of docs/method.md, for any tfjs training loop.
 *
 * ```ts
 * const penalty = new PersistentPenalty({ theta0, previousSolutions, spec });
 * optimizer.minimize(() => tf.add(taskLoss(), penalty.value(model.trainableWeights, progress)));
 * ```
 * `theta0` and the solutions are snapshots (see `takeSnapshot`); the instance keeps references
 * to them and to small precomputed tensors: call `dispose()` when the trajectory ends.
 */
export class PersistentPenalty {
  readonly spec: PenaltySpec;
  private readonly weights: PersistentWeight[];
  /** solutions[j][i]: weight i of previous solution j, viewed as [replicas, rest, units]. */
  private readonly solutions: tf.Tensor3D[][];
  /** Per weight, ones of shape [replicas, 1, rest]: a matMul with them sums over `rest`. */
  private readonly ones: tf.Tensor3D[];
  /** Gaussian σ per solution and group, shaped like the group's squared distance. */
  private readonly sigmas: tf.Tensor[][] = [];
  private readonly lambda: tf.Tensor;
  /** Per solution, 1 where it counts for a replica and 0 where it does not: [replicas]. */
  private readonly counts: (tf.Tensor1D | undefined)[];

  constructor(args: {
    theta0: Snapshot;
    previousSolutions: readonly Snapshot[];
    spec: PenaltySpec;
    /** Names of the trainable weights the penalty may see; defaults to every name in θ0. */
    weightNames?: readonly string[];
    options?: PenaltyOptions;
  }) {
    const { theta0, previousSolutions, spec, options = {} } = args;
    this.spec = spec;
    const layers = spec.layers ? new Set(spec.layers) : undefined;
    const names = (args.weightNames ?? [...theta0.keys()]).filter(
      (name) => (!layers || layers.has(layerOf(name))) && (!options.subset || options.subset(name)),
    );
    if (layers) {
      const known = new Set(names.map(layerOf));
      const missing = spec.layers?.filter((layer) => !known.has(layer)) ?? [];
      if (missing.length) throw new Error(`penalty layers not in the model: ${missing.join(', ')}`);
    }
    this.weights = names.map((name) => {
      const tensor = theta0.get(name);
      if (!tensor) throw new Error(`θ0 has no weight "${name}"`);
      return { name, layer: layerOf(name), view: view3d(tensor.shape, options.replicaAxis ?? false) };
    });
    this.counts = previousSolutions.map((_, j) => {
      const counts = options.counts?.[j];
      return counts && !counts.every(Boolean) ? tf.keep(tf.tensor1d(counts.map(Number))) : undefined;
    });
    this.solutions = previousSolutions.map((solution, j) =>
      this.weights.map(({ name, view }) => {
        const target = solution.get(name);
        if (!target) throw new Error(`a previous solution has no weight "${name}"`);
        const counts = this.counts[j];
        // A left-out replica's solution is replaced by θ0 (finite), and its share multiplied by 0.
        // tf.where broadcasts its condition from the right, so the replica axis is made explicit.
        return tf.keep(
          tf.tidy(() =>
            counts
              ? tf.where(
                  tf.broadcastTo(tf.reshape(tf.cast(counts, 'bool'), [view[0], 1, 1]), view),
                  tf.reshape(target, view),
                  tf.reshape(theta0.get(name) as tf.Tensor, view),
                )
              : tf.reshape(target, view),
          ),
        );
      }),
    );
    this.ones = this.weights.map(({ view }) => tf.keep(tf.ones([view[0], 1, view[1]])));
    this.lambda = tf.keep(options.replicaLambda ? tf.tensor1d([...options.replicaLambda]) : tf.scalar(spec.lambda));
    if (spec.kind === 'gaussian') {
      const start = (name: string) => theta0.get(name) as tf.Tensor;
      for (const solution of this.solutions) {
        this.sigmas.push(
          this.groupSquares(start, solution).map((squared) =>
            tf.keep(tf.tidy(() => tf.maximum(tf.mul(tf.sqrt(squared), spec.rho), 1e-8))),
          ),
        );
      }
    }
  }

  /** Names of the weights in the persistent subset S. */
  get persistentWeights(): string[] {
    return this.weights.map((weight) => weight.name);
  }

  /**
   * The scalar penalty for the current weights at `progress` ∈ [0, 1] through the trajectory.
   * `current` maps names to tensors (variables); names outside S are ignored.
   */
  value(current: ReadonlyMap<string, tf.Tensor> | readonly ModelWeight[], progress = 0): tf.Scalar {
    const byName =
      current instanceof Map ? current : new Map((current as readonly ModelWeight[]).map((w) => [w.name, w.variable]));
    const schedule = lambdaAt({ ...this.spec, lambda: 1 }, progress);
    return tf.tidy(() => {
      if (!this.solutions.length || schedule === 0) return tf.scalar(0);
      const read = (name: string) => {
        const tensor = byName.get(name);
        if (!tensor) throw new Error(`the model has no weight "${name}" that the penalty needs`);
        return tensor;
      };
      const perReplica: tf.Tensor[] = [];
      this.solutions.forEach((solution, j) => {
        const shares = this.groupSquares(read, solution).map((squared, g) => {
          const d = tf.sqrt(tf.add(squared, SMOOTHING * SMOOTHING));
          const repulsion = this.repulsion(d, this.sigmas[j]?.[g]);
          return repulsion.rank === 1 ? repulsion : tf.sum(repulsion, [1, 2]);
        });
        const counts = this.counts[j];
        perReplica.push(counts ? tf.mul(tf.addN(shares), counts) : tf.addN(shares));
      });
      return tf.sum(tf.mul(tf.addN(perReplica), tf.mul(this.lambda, schedule)));
    });
  }

  dispose(): void {
    tf.dispose([...this.solutions.flat(), ...this.ones, ...this.sigmas.flat(), this.lambda]);
    for (const counts of this.counts) counts?.dispose();
  }

  /** R(d) elementwise. */
  private repulsion(d: tf.Tensor, sigma?: tf.Tensor): tf.Tensor {
    switch (this.spec.kind) {
      case 'distance':
        return tf.neg(d);
      case 'inverse':
        return tf.reciprocal(tf.add(d, this.spec.epsilon));
      case 'gaussian':
        return tf.exp(tf.div(tf.square(d), tf.mul(-2, tf.square(sigma as tf.Tensor))));
    }
  }

  /**
   * ‖θ_g − θ*_g‖² for every group g of the granularity: [replicas, 1, units] per neuron group,
   * [replicas] per tensor (`layer`) or for all of S (`global`). Every op here runs on equal
   * shapes or as a matMul: broadcasting and mid-axis reductions are slow on tfjs's cpu backend.
   */
  private groupSquares(read: (name: string) => tf.Tensor, solution: readonly tf.Tensor3D[]): tf.Tensor[] {
    const perWeight = this.weights.map(({ name, view }, i) => {
      const diff = tf.sub(tf.reshape(read(name), view), solution[i]);
      // diff·diff, not square(diff): square's gradient multiplies by a broadcast scalar 2.
      return tf.matMul(this.ones[i], tf.mul(diff, diff)); // [replicas, 1, units]
    });
    switch (this.spec.granularity) {
      case 'global':
        return [tf.addN(perWeight.map((units) => tf.sum(units, [1, 2])))];
      case 'layer':
        return perWeight.map((units) => tf.sum(units, [1, 2]));
      case 'neuron':
        // A neuron is one output unit of a layer: a kernel column (or conv output channel) with
        // its bias entry, so the layer's weights with the same unit count are added unit-wise.
        return this.neuronGroups().map((indices) => tf.addN(indices.map((i) => perWeight[i])));
    }
  }

  /** Indices of `weights` that share a layer and a unit count: a kernel and its bias. */
  private neuronGroups(): number[][] {
    const groups = new Map<string, number[]>();
    this.weights.forEach(({ layer, view }, i) => {
      const key = `${layer}\u0000${view[2]}`;
      groups.set(key, [...(groups.get(key) ?? []), i]);
    });
    return [...groups.values()];
  }
}

/** [replicas, rest, units] for a weight of `shape`; units is the last axis (output units). */
function view3d(shape: readonly number[], replicaAxis: boolean): [number, number, number] {
  const dims = replicaAxis ? shape.slice(1) : [...shape];
  const replicas = replicaAxis ? shape[0] : 1;
  if (replicaAxis && shape.length === 0) throw new Error('a replicated weight needs a replica axis');
  const units = dims.length ? dims[dims.length - 1] : 1;
  const rest = dims.slice(0, -1).reduce((a, b) => a * b, 1);
  return [replicas, rest, units];
}

/**
 * One-shot form of `PersistentPenalty`: the penalty for `current` weights given θ0 and the
 * previous solutions. Prefer the class inside a loop (it precomputes the Gaussian scales).
 *
 * ```ts
 * const loss = tf.add(mse, persistentPenalty(current, [thetaStar1], theta0, spec, 0.3));
 * ```
 */
export function persistentPenalty(
  current: ReadonlyMap<string, tf.Tensor>,
  previousSolutions: readonly Snapshot[],
  theta0: Snapshot,
  spec: PenaltySpec,
  progress = 0,
  options: PenaltyOptions = {},
): tf.Scalar {
  const penalty = new PersistentPenalty({ theta0, previousSolutions, spec, weightNames: [...current.keys()], options });
  try {
    return penalty.value(current, progress);
  } finally {
    penalty.dispose();
  }
}
