import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { defaultPenaltySpec } from 'persistent-neurons';
import { z } from 'zod';
import { FASHION_MNIST_DIR } from '../../data/idx.js';
import { INIT_SCHEMES, type InitScheme } from '../../models/initializers.js';
import { lenet5 } from '../../models/lenet5.js';
import { type ImageConfig, imageExperiment, momentum } from '../image-classification.js';
import { saturationFigures, saturationSchema } from './figures.js';

export interface Lenet5InitConfig extends ImageConfig {
  /** How LeNet-5's kernels are drawn: poor (`tiny`, `large`) or good (`glorot`, `he`). */
  init: InitScheme;
  activation: 'tanh' | 'sigmoid' | 'relu';
  pooling: 'avg' | 'max';
  /** Validation examples on which unit saturation is measured after every trajectory. */
  saturationExamples: number;
}

const base: Lenet5InitConfig = {
  seeds: 3,
  methods: ['standard', 'standard-long', 'reinit', 'persistent'],
  trajectories: 3,
  epochs: 2,
  optimizer: { name: 'sgd', learningRate: 0.05 },
  penalty: defaultPenaltySpec,
  init: 'tiny',
  activation: 'tanh',
  pooling: 'avg',
  batchSize: 64,
  data: { dir: FASHION_MNIST_DIR, train: 5000, validation: 1000, test: 2000, seed: 1 },
  saturationExamples: 256,
};

const HIDDEN = ['conv1', 'conv2', 'fc1', 'fc2'];

/** Fraction of each hidden layer's activations that are saturated (tanh |a| > 0.99; sigmoid a < 0.01 or > 0.99). */
function saturation(model: tfl.LayersModel, x: tf.Tensor, activation: Lenet5InitConfig['activation']) {
  if (activation === 'relu') return null;
  const probe = tfl.model({
    inputs: model.inputs,
    outputs: HIDDEN.map((name) => model.getLayer(name).output as tfl.SymbolicTensor),
  });
  return tf.tidy(() => {
    const outputs = probe.predict(x) as tf.Tensor[];
    return Object.fromEntries(
      outputs.map((a, i) => {
        const saturated =
          activation === 'tanh' ? tf.greater(tf.abs(a), 0.99) : tf.logicalOr(tf.less(a, 0.01), tf.greater(a, 0.99));
        return [HIDDEN[i], tf.mean(tf.cast(saturated, 'float32')).dataSync()[0]];
      }),
    );
  });
}

export const lenet5Init = imageExperiment<Lenet5InitConfig, Record<string, number> | null, typeof saturationSchema>({
  name: 'lenet5-init',
  description:
    'LeNet-5 on Fashion-MNIST (or MNIST-format files in --data-dir) under a poor or good init (--set init=tiny|large|glorot|he); test accuracy and unit saturation',
  shape: {
    init: z.enum(INIT_SCHEMES as [InitScheme, ...InitScheme[]]),
    activation: z.enum(['tanh', 'sigmoid', 'relu']),
    pooling: z.enum(['avg', 'max']),
    saturationExamples: z.number().int().positive(),
  },
  build: (config, seed) => lenet5({ init: config.init, activation: config.activation, pooling: config.pooling, seed }),
  input: '28x28x1',
  presets: {
    smoke: {
      ...base,
      seeds: 2,
      trajectories: 2,
      epochs: 1,
      batchSize: 32,
      data: { ...base.data, train: 128, validation: 64, test: 64 },
      saturationExamples: 32,
    },
    // As practitioners train: momentum SGD. Plain SGD ({"name":"sgd","learningRate":0.05}) is the
    // stuck-start setting under which a tiny init stays at chance (docs/results/lenet5-init.md).
    quick: { ...base, optimizer: momentum(0.05) },
    paper: {
      ...base,
      seeds: 5,
      trajectories: 3,
      epochs: 3,
      optimizer: momentum(0.05),
      data: { ...base.data, train: 12000, validation: 3000, test: 10000 },
    },
  },
  probe: {
    schema: z.record(z.string(), z.number()).nullable(),
    measure(model, config, splits) {
      const x = tf.slice(splits.validation.x, 0, Math.min(config.saturationExamples, splits.validation.x.shape[0]));
      try {
        return saturation(model, x, config.activation);
      } finally {
        x.dispose();
      }
    },
  },
  details: {
    shape: saturationSchema,
    make: (measured) => ({
      saturation: measured.map(({ method, seed, trajectory, value }) => ({ method, seed, trajectory, layers: value })),
    }),
  },
  figures: saturationFigures,
});
