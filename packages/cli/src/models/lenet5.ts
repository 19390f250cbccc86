import * as tfl from '@tensorflow/tfjs-layers';
import { type InitScheme, kernelInitializer } from './initializers.js';

export interface LeNet5Options {
  /** [height, width, channels]; 28×28×1 pads the first convolution to keep LeNet's 32×32 geometry. */
  inputShape?: [number, number, number];
  classes?: number;
  activation?: 'tanh' | 'relu' | 'sigmoid';
  pooling?: 'avg' | 'max';
  init?: InitScheme;
  seed?: number;
}

/**
 * LeNet-5 (LeCun et al. 1998, the common modern form): conv 6@5×5 → pool → conv 16@5×5 → pool →
 * dense 120 → dense 84 → dense classes, 61,706 parameters for 28×28×1 and 10 classes.
 * Layers are named conv1, conv2, fc1, fc2, fc3 for partial persistence.
 */
export function lenet5(options: LeNet5Options = {}): tfl.Sequential {
  const {
    inputShape = [28, 28, 1],
    classes = 10,
    activation = 'tanh',
    pooling = 'avg',
    init = 'glorot',
    seed = 1,
  } = options;
  const pool = (name: string) =>
    pooling === 'avg'
      ? tfl.layers.averagePooling2d({ name, poolSize: 2 })
      : tfl.layers.maxPooling2d({ name, poolSize: 2 });
  const padFirst = inputShape[0] < 32 ? 'same' : 'valid';
  return tfl.sequential({
    name: 'lenet5',
    layers: [
      tfl.layers.conv2d({
        name: 'conv1',
        inputShape,
        filters: 6,
        kernelSize: 5,
        padding: padFirst,
        activation,
        kernelInitializer: kernelInitializer(init, seed, 0),
      }),
      pool('pool1'),
      tfl.layers.conv2d({
        name: 'conv2',
        filters: 16,
        kernelSize: 5,
        activation,
        kernelInitializer: kernelInitializer(init, seed, 1),
      }),
      pool('pool2'),
      tfl.layers.flatten({ name: 'flatten' }),
      tfl.layers.dense({ name: 'fc1', units: 120, activation, kernelInitializer: kernelInitializer(init, seed, 2) }),
      tfl.layers.dense({ name: 'fc2', units: 84, activation, kernelInitializer: kernelInitializer(init, seed, 3) }),
      tfl.layers.dense({ name: 'fc3', units: classes, kernelInitializer: kernelInitializer(init, seed, 4) }),
    ],
  });
}
