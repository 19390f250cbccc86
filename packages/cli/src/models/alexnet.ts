import * as tfl from '@tensorflow/tfjs-layers';
import { type InitScheme, kernelInitializer } from './initializers.js';

export interface AlexNetOptions {
  inputShape?: [number, number, number];
  classes?: number;
  init?: InitScheme;
  seed?: number;
}

/**
 * AlexNet in its usual CIFAR-10 form: five convolutions (64@11×11 stride 4, 192@5×5, 384, 256,
 * 256 @3×3), three 2×2 max-pools and one classifier layer; 2,472,266 parameters for 32×32×3.
 * Convolutions are conv1..conv5, the classifier `classifier`.
 */
export function alexnet(options: AlexNetOptions = {}): tfl.Sequential {
  const { inputShape = [32, 32, 3], classes = 10, init = 'he', seed = 1 } = options;
  const conv = (index: number, filters: number, kernelSize: number, strides = 1) =>
    tfl.layers.conv2d({
      name: `conv${index}`,
      ...(index === 1 ? { inputShape } : {}),
      filters,
      kernelSize,
      strides,
      padding: 'same',
      activation: 'relu',
      kernelInitializer: kernelInitializer(init, seed, index),
    });
  return tfl.sequential({
    name: 'alexnet',
    layers: [
      conv(1, 64, 11, 4),
      tfl.layers.maxPooling2d({ name: 'pool1', poolSize: 2 }),
      conv(2, 192, 5),
      tfl.layers.maxPooling2d({ name: 'pool2', poolSize: 2 }),
      conv(3, 384, 3),
      conv(4, 256, 3),
      conv(5, 256, 3),
      tfl.layers.maxPooling2d({ name: 'pool3', poolSize: 2 }),
      tfl.layers.flatten({ name: 'flatten' }),
      tfl.layers.dense({ name: 'classifier', units: classes, kernelInitializer: kernelInitializer(init, seed, 6) }),
    ],
  });
}
