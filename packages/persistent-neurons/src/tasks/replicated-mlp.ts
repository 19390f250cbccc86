import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { ModelWeight } from '../core/weights.js';

/**
 * R independent ReLU MLPs (sizes[0] → … → sizes[n]) held as one batched model: every weight
 * has a leading replica axis. Tiny networks are dominated by per-op overhead in tfjs, so twenty
 * seeds trained this way cost about as much as one. Each replica is initialized exactly as a
 * tfjs-layers Dense stack by default: Glorot-uniform kernels and zero biases.
 */
export class ReplicatedMlp {
  readonly weights: ModelWeight[] = [];
  readonly layerNames: string[];

  constructor(
    readonly sizes: readonly number[],
    /** One init seed per replica. */
    readonly replicaSeeds: readonly number[],
  ) {
    if (sizes.length < 2 || sizes.some((s) => !(Number.isInteger(s) && s > 0)))
      throw new Error(`layer sizes must be positive integers, got [${sizes.join(', ')}]`);
    this.layerNames = sizes.slice(1).map((_, i) => (i === sizes.length - 2 ? 'output' : `hidden${i + 1}`));
    const R = replicaSeeds.length;
    this.layerNames.forEach((layer, i) => {
      const [fanIn, fanOut] = [sizes[i], sizes[i + 1]];
      this.weights.push(
        { name: `${layer}/kernel`, variable: tf.variable(tf.zeros([R, fanIn, fanOut])), trainable: true },
        { name: `${layer}/bias`, variable: tf.variable(tf.zeros([R, 1, fanOut])), trainable: true },
      );
    });
    this.initialize(0);
  }

  get replicas(): number {
    return this.replicaSeeds.length;
  }

  /** Draw `draw` of each replica's seed: Glorot-uniform kernels, zero biases. */
  initialize(draw: number): void {
    tf.tidy(() => {
      this.layerNames.forEach((_, i) => {
        const kernels = this.replicaSeeds.map((seed) =>
          tfl.initializers
            .glorotUniform({ seed: seed * 1000003 + draw * 7919 + i })
            .apply([this.sizes[i], this.sizes[i + 1]]),
        );
        this.weights[2 * i].variable.assign(tf.stack(kernels));
        this.weights[2 * i + 1].variable.assign(tf.zerosLike(this.weights[2 * i + 1].variable));
      });
    });
  }

  /** Outputs [R, n, out] for inputs [R or 1, n, in] (1 broadcasts one input set to all replicas). */
  predict(inputs: tf.Tensor3D): tf.Tensor3D {
    return tf.tidy(() => {
      let activation: tf.Tensor3D =
        inputs.shape[0] === 1 && this.replicas > 1 ? tf.tile(inputs, [this.replicas, 1, 1]) : inputs;
      // tfjs's cpu backend adds broadcast shapes element by element with index arithmetic,
      // several times slower than a matMul that spreads the bias over the batch: xW + 1·b there,
      // xW + b (one op fewer, forward and backward) on backends that broadcast natively. The
      // two give the same bits (1·b is b exactly).
      const ones = tf.getBackend() === 'cpu' ? tf.ones([this.replicas, activation.shape[1], 1]) : null;
      this.layerNames.forEach((_, i) => {
        const kernel = this.weights[2 * i].variable;
        const bias = this.weights[2 * i + 1].variable;
        const product = tf.matMul(activation, kernel);
        const preActivation = tf.add(product, ones === null ? bias : tf.matMul(ones, bias)) as tf.Tensor3D;
        activation = i === this.layerNames.length - 1 ? preActivation : tf.relu(preActivation);
      });
      return activation;
    });
  }

  /** Replica `r` as the ordinary tfjs-layers model it stands for (for export and inspection). */
  toLayersModel(r: number): tfl.Sequential {
    const model = tfl.sequential({
      name: 'mlp',
      layers: this.layerNames.map((name, i) =>
        tfl.layers.dense({
          name,
          units: this.sizes[i + 1],
          activation: name === 'output' ? 'linear' : 'relu',
          ...(i === 0 ? { inputShape: [this.sizes[0]] } : {}),
        }),
      ),
    });
    tf.tidy(() =>
      model.setWeights(
        this.weights.map(({ variable }, i) => {
          const replica = tf.squeeze(tf.slice(variable, r, 1), [0]);
          return i % 2 ? tf.reshape(replica, [replica.size]) : replica;
        }),
      ),
    );
    return model;
  }

  dispose(): void {
    for (const { variable } of this.weights) variable.dispose();
  }
}
