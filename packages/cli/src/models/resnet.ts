import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { type InitScheme, kernelInitializer } from './initializers.js';

/**
 * The parameter-free shortcut of He et al. (2016) option A: keep every other pixel and pad the
 * new channels with zeros.
 */
export class ZeroPadShortcut extends tfl.layers.Layer {
  static className = 'ZeroPadShortcut';
  private readonly filters: number;

  constructor(config: { filters: number; name?: string }) {
    super(config);
    this.filters = config.filters;
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
    const [batch, height, width] = inputShape as tfl.Shape;
    return [batch, Math.ceil((height as number) / 2), Math.ceil((width as number) / 2), this.filters];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
      // A 1×1 pool with stride 2 is the subsampling x[:, ::2, ::2, :], with a gradient in every backend.
      const subsampled = tf.avgPool(x, 1, 2, 'valid');
      const extra = this.filters - x.shape[3];
      const before = Math.floor(extra / 2);
      return tf.pad(subsampled, [
        [0, 0],
        [0, 0],
        [0, 0],
        [before, extra - before],
      ]);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), filters: this.filters };
  }
}
tf.serialization.registerClass(ZeroPadShortcut);

export interface ResNetOptions {
  inputShape?: [number, number, number];
  classes?: number;
  /** 6n + 2 layers: 20, 32, 44, 56, 110. */
  depth?: number;
  /** A: zero-padded identity (no parameters); B: 1×1 convolution + BatchNorm, where the shape changes. */
  shortcut?: 'A' | 'B';
  init?: InitScheme;
  seed?: number;
}

/**
 * The CIFAR ResNet of He et al. (2016): conv 16 → three stages of n basic blocks (16, 32, 64
 * filters, stride 2 between stages) → global average pool → dense. ResNet-20 with option-A
 * shortcuts has 269,722 trainable parameters. Layer names: conv1/bn1, stage{s}_block{b}_conv{1,2},
 * stage{s}_block{b}_bn{1,2}, stage{s}_block1_shortcut(_bn), fc.
 */
export function resnet(options: ResNetOptions = {}): tfl.LayersModel {
  const { inputShape = [32, 32, 3], classes = 10, depth = 20, shortcut = 'A', init = 'he', seed = 1 } = options;
  if ((depth - 2) % 6 !== 0 || depth < 8) throw new Error(`ResNet depth must be 6n + 2 (20, 32, 44, …), got ${depth}`);
  const blocks = (depth - 2) / 6;
  let layerIndex = 0;
  const conv = (name: string, filters: number, kernelSize: number, strides: number) =>
    tfl.layers.conv2d({
      name,
      filters,
      kernelSize,
      strides,
      padding: 'same',
      useBias: false,
      kernelInitializer: kernelInitializer(init, seed, layerIndex++),
    });
  const bn = (name: string) => tfl.layers.batchNormalization({ name, momentum: 0.9, epsilon: 1e-5 });
  const relu = (name: string) => tfl.layers.activation({ name, activation: 'relu' });

  const input = tfl.input({ shape: inputShape, name: 'image' });
  let x = relu('relu1').apply(bn('bn1').apply(conv('conv1', 16, 3, 1).apply(input))) as tfl.SymbolicTensor;
  [16, 32, 64].forEach((filters, stage) => {
    for (let block = 0; block < blocks; block++) {
      const name = `stage${stage + 1}_block${block + 1}`;
      const strides = stage > 0 && block === 0 ? 2 : 1;
      let y = conv(`${name}_conv1`, filters, 3, strides).apply(x) as tfl.SymbolicTensor;
      y = relu(`${name}_relu1`).apply(bn(`${name}_bn1`).apply(y)) as tfl.SymbolicTensor;
      y = bn(`${name}_bn2`).apply(conv(`${name}_conv2`, filters, 3, 1).apply(y)) as tfl.SymbolicTensor;
      let skip = x;
      if (strides !== 1) {
        skip =
          shortcut === 'A'
            ? (new ZeroPadShortcut({ name: `${name}_shortcut`, filters }).apply(x) as tfl.SymbolicTensor)
            : (bn(`${name}_shortcut_bn`).apply(conv(`${name}_shortcut`, filters, 1, 2).apply(x)) as tfl.SymbolicTensor);
      }
      x = relu(`${name}_relu2`).apply(tfl.layers.add({ name: `${name}_add` }).apply([y, skip])) as tfl.SymbolicTensor;
    }
  });
  x = tfl.layers.globalAveragePooling2d({ name: 'pool' }).apply(x) as tfl.SymbolicTensor;
  const output = tfl.layers
    .dense({ name: 'fc', units: classes, kernelInitializer: kernelInitializer(init, seed, layerIndex++) })
    .apply(x) as tfl.SymbolicTensor;
  return tfl.model({ name: `resnet${depth}`, inputs: input, outputs: output });
}
