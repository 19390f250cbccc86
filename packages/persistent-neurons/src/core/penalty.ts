import * as tf from '@tensorflow/tfjs-core';
import { getKernel, type NamedAttrMap, type NamedTensorMap } from '@tensorflow/tfjs-core';
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
  /** The weight's first group; with `perUnit`, unit u is in group `group + u`, else all of it is. */
  group: number;
  perUnit: boolean;
}

/**
 * The name of a method-neutral fused kernel a backend may offer (tfjs-backend-onednn does):
 * squared distances of many tensors to many references, summed per group, and its gradient, in
 * one pass each. Where the active backend has it, the penalty's distances take one kernel call;
 * elsewhere they are composed from tfjs ops. Its contract is documented with the backend's kernel.
 */
export const GROUPED_SQUARED_DISTANCES = 'GroupedSquaredDistances';
/**
 * Its gradient kernel: inputs [dy, x_0 … x_{n−1}, refs_0 … refs_{n−1}] with dy of the output's
 * shape, the same attrs; outputs dx_0 … dx_{n−1}. With n more inputs base_0 … base_{n−1} (of the
 * x's shapes) after those, outputs base_i + dx_i, the sum over references formed first (so that
 * the bits are those of adding the two afterwards). The penalty calls it in `fusedValue`'s backward pass.
 */
export const GROUPED_SQUARED_DISTANCES_GRAD = 'GroupedSquaredDistancesGrad';
/**
 * The gradient of a host function f of the squared distances in one call: inputs [x_0 … x_{n−1},
 * refs_0 … refs_{n−1}] and optionally base_0 … base_{n−1}; the attrs above and `slope`, a function
 * from s (Float32Array, [references, replicas, groups]) to ∂f/∂s; outputs [base_i +] dx_i as the
 * gradient kernel's with dy = slope(s). `addGradients` takes its step with it.
 */
export const GROUPED_SQUARED_DISTANCES_CHAIN = 'GroupedSquaredDistancesChain';

/**
 * The persistent penalty λ(t) · Σ_j R(θ_S, θ*_{j,S}) of docs/method.md, for any tfjs training loop.
 *
 * ```ts
 * const penalty = new PersistentPenalty({ theta0, previousSolutions, spec });
 * optimizer.minimize(() => tf.add(taskLoss(), penalty.value(model.trainableWeights, progress)));
 * ```
 * `theta0` and the solutions are snapshots (see `takeSnapshot`); the instance keeps small
 * precomputed tensors (the solutions stacked per weight): call `dispose()` when the trajectory ends.
 */
export class PersistentPenalty {
  readonly spec: PenaltySpec;
  private readonly weights: PersistentWeight[];
  /** Whether the active backend has the fused kernels: decided once, when the instance is made. */
  private readonly fused: boolean;
  /** Whether it has the chain kernel too, which `addGradients` takes its step with. */
  private readonly chained: boolean;
  /**
   * The fused path's host copies: λ per replica, whether solution j counts for replica r
   * ([solutions × replicas]), and the Gaussian σ² ([solutions × replicas × groups]).
   */
  private readonly host: { lambda: number[]; counts?: Uint8Array; sigmaSquared?: Float32Array } = { lambda: [] };
  /** The fused kernel's attrs (the group layout): fixed for the instance, so built once, not per step. */
  private readonly kernelAttrs: object;
  /**
   * The previous solutions of each weight: stacked as [solutions, replicas, rest, units] for the
   * fused kernel, or one [replicas, rest, units] tensor per solution for the composed ops.
   */
  private readonly references: tf.Tensor[][] = [];
  /** Per weight, ones of shape [replicas, 1, rest]: a matMul with them sums over `rest`. */
  private readonly ones: tf.Tensor3D[];
  private readonly solutionCount: number;
  private readonly replicas: number;
  /** How many groups the granularity makes (G). */
  private readonly groupCount: number;
  /** Gaussian σ per solution, replica and group: [solutions, replicas, groups]. */
  private readonly sigma?: tf.Tensor3D;
  private readonly lambda: tf.Tensor;
  /** 1 where solution j counts for replica r and 0 where it does not: [solutions, replicas]; absent when all count. */
  private readonly counts?: tf.Tensor2D;

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
    const views = names.map((name) => {
      const tensor = theta0.get(name);
      if (!tensor) throw new Error(`θ0 has no weight "${name}"`);
      return { name, layer: layerOf(name), view: view3d(tensor.shape, options.replicaAxis ?? false) };
    });
    const { weights, groups } = groupLayout(views, spec.granularity);
    this.weights = weights;
    this.groupCount = groups;
    this.solutionCount = previousSolutions.length;
    this.replicas = weights[0]?.view[0] ?? 1;
    const someLeftOut = options.counts?.some((counts) => !counts.every(Boolean)) ?? false;
    if (someLeftOut)
      this.counts = tf.keep(
        tf.tensor2d(
          previousSolutions.map((_, j) =>
            Array.from({ length: this.replicas }, (_, r) => Number(options.counts?.[j]?.[r] ?? true)),
          ),
          [this.solutionCount, this.replicas],
        ),
      );
    this.fused =
      getKernel(GROUPED_SQUARED_DISTANCES, tf.getBackend()) !== undefined &&
      getKernel(GROUPED_SQUARED_DISTANCES_GRAD, tf.getBackend()) !== undefined;
    this.chained = this.fused && getKernel(GROUPED_SQUARED_DISTANCES_CHAIN, tf.getBackend()) !== undefined;
    this.kernelAttrs = {
      replicas: this.replicas,
      references: this.solutionCount,
      groups: this.groupCount,
      layout: this.weights.map(({ view, group, perUnit }) => ({ rest: view[1], units: view[2], group, perUnit })),
    };
    if (this.solutionCount > 0) {
      for (const { name, view } of this.weights) {
        this.references.push(
          tf
            .tidy(() => {
              const start = tf.reshape(theta0.get(name) as tf.Tensor, view);
              const perSolution = previousSolutions.map((solution, j) => {
                const target = solution.get(name);
                if (!target) throw new Error(`a previous solution has no weight "${name}"`);
                const counted = options.counts?.[j];
                // A left-out replica's solution is replaced by θ0 (finite), and its share multiplied by 0.
                // tf.where broadcasts its condition from the right, so the replica axis is made explicit.
                return counted && !counted.every(Boolean)
                  ? tf.where(
                      tf.broadcastTo(tf.reshape(tf.tensor1d(counted.map(Number), 'bool'), [view[0], 1, 1]), view),
                      tf.reshape(target, view),
                      start,
                    )
                  : tf.reshape(target, view);
              });
              return this.fused ? [tf.stack(perSolution)] : perSolution;
            })
            .map((t) => tf.keep(t)),
        );
      }
    }
    this.ones = this.weights.map(({ view }) => tf.keep(tf.ones([view[0], 1, view[1]])));
    this.lambda = tf.keep(options.replicaLambda ? tf.tensor1d([...options.replicaLambda]) : tf.scalar(spec.lambda));
    if (spec.kind === 'gaussian' && this.solutionCount > 0) {
      this.sigma = tf.keep(
        tf.tidy(() => {
          const squared = this.groupSquares((name) => theta0.get(name) as tf.Tensor);
          return tf.maximum(tf.mul(tf.sqrt(squared), spec.rho), 1e-8) as tf.Tensor3D;
        }),
      );
    }
    if (this.fused) {
      this.host.lambda = Array.from({ length: this.replicas }, (_, r) => options.replicaLambda?.[r] ?? spec.lambda);
      if (this.counts) this.host.counts = Uint8Array.from(this.counts.dataSync());
      if (this.sigma) this.host.sigmaSquared = Float32Array.from(this.sigma.dataSync(), (sigma) => sigma * sigma);
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
      if (this.solutionCount === 0 || this.weights.length === 0 || schedule === 0) return tf.scalar(0);
      const read = (name: string) => {
        const tensor = byName.get(name);
        if (!tensor) throw new Error(`the model has no weight "${name}" that the penalty needs`);
        return tensor;
      };
      if (this.fused) return this.fusedValue(read, schedule);
      const d = tf.sqrt(tf.add(this.groupSquares(read), SMOOTHING * SMOOTHING));
      // Σ_g R(d_g) for every solution and replica, then left-out solutions dropped: [solutions, replicas].
      const perSolution = tf.sum(this.repulsion(d), 2);
      const perReplica = tf.sum(this.counts ? tf.mul(perSolution, this.counts) : perSolution, 0);
      return tf.sum(tf.mul(perReplica, tf.mul(this.lambda, schedule)));
    });
  }

  /**
   * The penalty's value and `grads` with its gradient added: for loops that take gradients
   * themselves. `grads` holds another loss's gradients (the task loss's) keyed as tfjs keys them:
   * by variable name when `current` is a list of model weights (`layersModelWeights`), by the
   * map's names when it is a map. The result is keyed the same way, ready for
   * `optimizer.applyGradients`: for every trainable weight of S a new tensor with the penalty's
   * gradient added (the penalty's alone where `grads` has none), for every other key the given
   * tensor. It equals differentiating `taskLoss + value(current, progress)`: on a backend with the
   * fused kernels to the bit where each weight enters the task loss once (with a regularizer or a
   * shared layer, tfjs's backprop sums the terms in another order: equal to float rounding), in
   * one kernel call and no taped op:
   *
   * ```ts
   * const { value: loss, grads } = tf.variableGrads(taskLoss);
   * const withPenalty = penalty.addGradients(weights, grads, progress);
   * optimizer.applyGradients(withPenalty.grads);
   * tf.dispose([loss, withPenalty.value, ...Object.values(grads), ...Object.values(withPenalty.grads)]);
   * ```
   */
  addGradients(
    current: ReadonlyMap<string, tf.Tensor> | readonly ModelWeight[],
    grads: tf.NamedTensorMap,
    progress = 0,
  ): { value: tf.Scalar; grads: tf.NamedTensorMap } {
    // Per weight name: the tensor, the key of its gradient, and whether an optimizer may move it.
    const byName = new Map<string, { tensor: tf.Tensor; key: string; trainable: boolean }>(
      current instanceof Map
        ? [...current].map(([name, tensor]) => [
            name,
            { tensor, key: name, trainable: !(tensor instanceof tf.Variable) || tensor.trainable },
          ])
        : (current as readonly ModelWeight[]).map((w) => [
            w.name,
            { tensor: w.variable, key: w.variable.name, trainable: w.trainable && w.variable.trainable },
          ]),
    );
    const schedule = lambdaAt({ ...this.spec, lambda: 1 }, progress);
    const sums: tf.NamedTensorMap = { ...grads };
    if (this.solutionCount === 0 || this.weights.length === 0 || schedule === 0)
      return { value: tf.scalar(0), grads: sums };
    const entries = this.weights.map(({ name }) => {
      const entry = byName.get(name);
      if (!entry) throw new Error(`the model has no weight "${name}" that the penalty needs`);
      return entry;
    });
    const inputs = entries.map(({ tensor }) => tensor);
    // tf.variableGrads gives null for a variable the loss does not reach.
    const bases = entries.map(({ key }) => (grads[key] as tf.Tensor | null | undefined) ?? undefined);
    const complete = bases.every((base) => base !== undefined);
    // The chain kernel makes no intermediate tensor, so it runs outside a tidy (a scope costs more
    // than the kernel on a small network); elsewhere the penalty is differentiated as `value` is
    // (through the fused pair where the backend has them), its intermediates disposed by a tidy.
    const { value, own } = this.chained
      ? this.chain(inputs, complete ? (bases as tf.Tensor[]) : [], schedule)
      : tf.tidy(() => {
          const names = this.weights.map(({ name }) => name);
          const f = (...xs: tf.Tensor[]) => this.value(new Map(names.map((name, i) => [name, xs[i]])), progress);
          const computed = tf.valueAndGrads(f)(inputs);
          return { value: computed.value as tf.Scalar, own: computed.grads };
        });
    // With every base given, the chain kernel has added them already.
    let added = own;
    if (!(this.chained && complete)) {
      try {
        added = tf.tidy(() => own.map((grad, i) => (bases[i] ? tf.add(bases[i] as tf.Tensor, grad) : grad)));
      } catch (error) {
        tf.dispose([value, ...own]);
        throw error;
      }
      own.forEach((grad, i) => {
        if (bases[i]) grad.dispose();
      });
    }
    // A weight no optimizer may move (BatchNorm's moving statistics, a frozen layer) gets no
    // gradient, as differentiating the sum over the trainable variables gives none.
    for (const [i, { key, trainable }] of entries.entries())
      if (trainable) sums[key] = added[i];
      else added[i].dispose();
    return { value, grads: sums };
  }

  /**
   * The penalty's value and its gradient (plus `bases`, when given for every weight) in one call
   * of the chain kernel: the host computes P and ∂P/∂s from the squared distances between the
   * kernel's two passes.
   */
  private chain(inputs: tf.Tensor[], bases: tf.Tensor[], schedule: number): { value: tf.Scalar; own: tf.Tensor[] } {
    let value = 0;
    const attrs = {
      ...this.kernelAttrs,
      slope: (squares: Float32Array) => {
        const closed = this.closedForm(squares, schedule);
        value = closed.value;
        return closed.slope;
      },
    };
    const own = tf
      .engine()
      .runKernel(
        GROUPED_SQUARED_DISTANCES_CHAIN,
        [...inputs, ...this.stackedReferences(), ...bases] as unknown as NamedTensorMap,
        attrs as unknown as NamedAttrMap,
      ) as unknown as tf.Tensor[];
    return { value: tf.scalar(value), own };
  }

  private stackedReferences(): tf.Tensor[] {
    return this.references.map(([stacked]) => stacked);
  }

  private runFused(kernel: string, tensors: tf.Tensor[]): tf.Tensor | tf.Tensor[] {
    return tf
      .engine()
      .runKernel(kernel, tensors as unknown as NamedTensorMap, this.kernelAttrs as unknown as NamedAttrMap) as
      | tf.Tensor
      | tf.Tensor[];
  }

  /**
   * The penalty through the fused kernels, as one op with its own gradient. Given the squared
   * distances s[j, r, g], the penalty Σ w_jr R(d) with d = √(s + ε²) and w_jr = λ_r · schedule
   * (0 for a left-out solution) and its slope ∂P/∂s = w_jr R'(d) / (2d) are computed on the host,
   * over J·R·G numbers; the backward pass is one call of the gradient kernel with dy · ∂P/∂s. This
   * replaces some twenty taped tfjs ops per step, whose bookkeeping cost more than the math on a
   * small network. Equal to the composed ops to float tolerance (tests).
   */
  private fusedValue(read: (name: string) => tf.Tensor, schedule: number): tf.Scalar {
    const inputs = this.weights.map(({ name }) => read(name));
    const references = this.stackedReferences();
    const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
      const save = args[args.length - 1] as tf.GradSaveFunc;
      const xs = args.slice(0, -1) as tf.Tensor[];
      const squares = this.runFused(GROUPED_SQUARED_DISTANCES, [...xs, ...references]) as tf.Tensor3D;
      const { value, slope } = this.closedForm(squares.dataSync() as Float32Array, schedule);
      save([tf.tensor3d(slope, squares.shape)]);
      return {
        value: tf.scalar(value),
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
          this.runFused(GROUPED_SQUARED_DISTANCES_GRAD, [tf.mul(dy, saved[0]), ...xs, ...references]) as tf.Tensor[],
      };
    });
    return op(...inputs) as tf.Scalar;
  }

  /** P and ∂P/∂s from the squared distances s ([solutions, replicas, groups], row-major). */
  private closedForm(squares: Float32Array, schedule: number): { value: number; slope: Float32Array } {
    const { kind, epsilon } = this.spec;
    const { lambda, counts, sigmaSquared } = this.host;
    const groups = this.groupCount;
    const slope = new Float32Array(squares.length);
    let value = 0;
    for (let jr = 0; jr < this.solutionCount * this.replicas; jr++) {
      if (counts && counts[jr] === 0) continue;
      const w = lambda[jr % this.replicas] * schedule;
      for (let i = jr * groups; i < (jr + 1) * groups; i++) {
        const d = Math.sqrt(squares[i] + SMOOTHING * SMOOTHING);
        let r: number;
        let dr: number;
        if (kind === 'distance') {
          r = -d;
          dr = -1;
        } else if (kind === 'inverse') {
          r = 1 / (d + epsilon);
          dr = -r * r;
        } else {
          const s2 = (sigmaSquared as Float32Array)[i];
          r = Math.exp((-d * d) / (2 * s2));
          dr = (-r * d) / s2;
        }
        value += w * r;
        slope[i] = (w * dr) / (2 * d);
      }
    }
    return { value, slope };
  }

  dispose(): void {
    tf.dispose([...this.references.flat(), ...this.ones, this.lambda]);
    this.sigma?.dispose();
    this.counts?.dispose();
  }

  /** R(d) elementwise. */
  private repulsion(d: tf.Tensor): tf.Tensor {
    switch (this.spec.kind) {
      case 'distance':
        return tf.neg(d);
      case 'inverse':
        return tf.reciprocal(tf.add(d, this.spec.epsilon));
      case 'gaussian':
        return tf.exp(tf.div(tf.square(d), tf.mul(-2, tf.square(this.sigma as tf.Tensor))));
    }
  }

  /**
   * ‖θ_g − θ*_{j,g}‖² for every previous solution j, replica and group g: [solutions, replicas,
   * groups]. One fused kernel call where the backend has one; else, per weight and solution, equal
   * shapes and a matMul (broadcasting and mid-axis reductions are slow on tfjs's cpu backend).
   */
  private groupSquares(read: (name: string) => tf.Tensor): tf.Tensor3D {
    if (this.fused)
      // x_0 … x_{n−1}, then their stacked references, as the kernel's contract says.
      return this.runFused(GROUPED_SQUARED_DISTANCES, [
        ...this.weights.map(({ name }) => read(name)),
        ...this.stackedReferences(),
      ]) as tf.Tensor3D;
    const perSolution = Array.from({ length: this.solutionCount }, (_, j) => {
      // Per group, [replicas, 1] or [replicas, units]; groups in the order of their numbers.
      const columns = new Map<number, tf.Tensor>();
      this.weights.forEach(({ name, view, group, perUnit }, i) => {
        const diff = tf.sub(tf.reshape(read(name), view), this.references[i][j]);
        // diff·diff, not square(diff): square's gradient multiplies by a broadcast scalar 2.
        const units = tf.reshape(tf.matMul(this.ones[i], tf.mul(diff, diff)), [view[0], view[2]]);
        const column = perUnit ? units : tf.sum(units, 1, true);
        const previous = columns.get(group);
        columns.set(group, previous ? tf.add(previous, column) : column);
      });
      const ordered = [...columns.entries()].sort(([a], [b]) => a - b).map(([, column]) => column);
      return ordered.length === 1 ? ordered[0] : tf.concat(ordered, 1);
    });
    return tf.stack(perSolution) as tf.Tensor3D;
  }
}

/**
 * The groups of a granularity over the weights: `global` one group; `layer` one per weight;
 * `neuron` one per output unit, where the weights of one layer with the same unit count (a kernel
 * and its bias) share their units' groups.
 */
function groupLayout(
  views: { name: string; layer: string; view: [number, number, number] }[],
  granularity: Granularity,
): { weights: PersistentWeight[]; groups: number } {
  switch (granularity) {
    case 'global':
      return { weights: views.map((v) => ({ ...v, group: 0, perUnit: false })), groups: 1 };
    case 'layer':
      return { weights: views.map((v, i) => ({ ...v, group: i, perUnit: false })), groups: views.length };
    case 'neuron': {
      const starts = new Map<string, number>();
      let groups = 0;
      const weights = views.map((v) => {
        const key = `${v.layer}\u0000${v.view[2]}`;
        let start = starts.get(key);
        if (start === undefined) {
          start = groups;
          starts.set(key, start);
          groups += v.view[2];
        }
        return { ...v, group: start, perUnit: true };
      });
      return { weights, groups };
    }
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
