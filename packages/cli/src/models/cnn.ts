import * as tfl from '@tensorflow/tfjs-layers';
import { type InitScheme, kernelInitializer } from './initializers.js';

/**
 * A small CNN for 32×32×3 inputs: conv 32@3×3 + relu → max-pool 2 → conv 64@3×3 + relu →
 * max-pool 2 → dense (4096 → classes). The benchmark's `cnn` workload.
 */
export function smallCnn({ classes = 10, init = 'glorot' as InitScheme, seed = 1 } = {}): tfl.Sequential {
  return tfl.sequential({
    name: 'cnn',
    layers: [
      tfl.layers.conv2d({
        name: 'conv1',
        inputShape: [32, 32, 3],
        filters: 32,
        kernelSize: 3,
        padding: 'same',
        activation: 'relu',
        kernelInitializer: kernelInitializer(init, seed, 0),
      }),
      tfl.layers.maxPooling2d({ name: 'pool1', poolSize: 2 }),
      tfl.layers.conv2d({
        name: 'conv2',
        filters: 64,
        kernelSize: 3,
        padding: 'same',
        activation: 'relu',
        kernelInitializer: kernelInitializer(init, seed, 1),
      }),
      tfl.layers.maxPooling2d({ name: 'pool2', poolSize: 2 }),
      tfl.layers.flatten({ name: 'flatten' }),
      tfl.layers.dense({ name: 'fc', units: classes, kernelInitializer: kernelInitializer(init, seed, 2) }),
    ],
  });
}
