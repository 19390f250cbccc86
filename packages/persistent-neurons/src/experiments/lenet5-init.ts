import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { z } from 'zod';
import { defaultPenaltySpec, LayersTask } from '../core/index.js';
import { FASHION_MNIST_DIR, readMnistDirectory } from '../data/idx.js';
import { accuracy, crossEntropy, type ImageSplits, splitImages } from '../data/images.js';
import { saveLayersModel } from '../io/save-model.js';
import { INIT_SCHEMES, type InitScheme } from '../models/initializers.js';
import { lenet5 } from '../models/lenet5.js';
import { runMethods } from './method-runner.js';
import { type CommonConfig, commonConfigShape, type Experiment } from './types.js';

export const lenet5InitConfigSchema = z.strictObject({
  ...commonConfigShape,
  /** How LeNet-5's kernels are drawn: poor (`tiny`, `large`) or good (`glorot`, `he`). */
  init: z.enum(INIT_SCHEMES as [InitScheme, ...InitScheme[]]),
  activation: z.enum(['tanh', 'sigmoid', 'relu']),
  pooling: z.enum(['avg', 'max']),
  batchSize: z.number().int().positive(),
  data: z.strictObject({
    /** An MNIST-format directory; Debian's Fashion-MNIST by default. */
    dir: z.string(),
    train: z.number().int().positive(),
    validation: z.number().int().positive(),
    test: z.number().int().positive(),
    seed: z.number().int(),
  }),
  /** Validation examples on which unit saturation is measured after every trajectory. */
  saturationExamples: z.number().int().positive(),
});
export type Lenet5InitConfig = z.infer<typeof lenet5InitConfigSchema> & CommonConfig;

const base: Lenet5InitConfig = {
  seeds: 3,
  methods: ['standard', 'standard-long', 'reinit', 'persistent'],
  iterations: 3,
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

const LAYERS = ['conv1', 'conv2', 'fc1', 'fc2'];

/** Fraction of each hidden layer's activations that are saturated (tanh |a| > 0.99; sigmoid a < 0.01 or > 0.99). */
function saturation(
  model: tfl.LayersModel,
  x: tf.Tensor,
  activation: Lenet5InitConfig['activation'],
): Record<string, number> | null {
  if (activation === 'relu') return null;
  const probe = tfl.model({
    inputs: model.inputs,
    outputs: LAYERS.map((name) => model.getLayer(name).output as tfl.SymbolicTensor),
  });
  return tf.tidy(() => {
    const outputs = probe.predict(x) as tf.Tensor[];
    return Object.fromEntries(
      outputs.map((a, i) => {
        const saturated =
          activation === 'tanh' ? tf.greater(tf.abs(a), 0.99) : tf.logicalOr(tf.less(a, 0.01), tf.greater(a, 0.99));
        return [LAYERS[i], tf.mean(tf.cast(saturated, 'float32')).dataSync()[0]];
      }),
    );
  });
}

export const lenet5Init: Experiment<Lenet5InitConfig> = {
  name: 'lenet5-init',
  description:
    'LeNet-5 on Fashion-MNIST under a poor or good init (--set init=tiny|large|glorot|he); test accuracy and unit saturation',
  schema: lenet5InitConfigSchema as z.ZodType<Lenet5InitConfig>,
  presets: {
    smoke: {
      ...base,
      seeds: 2,
      iterations: 2,
      epochs: 1,
      batchSize: 32,
      data: { ...base.data, train: 128, validation: 64, test: 64 },
      saturationExamples: 32,
    },
    quick: base,
    paper: {
      ...base,
      seeds: 5,
      iterations: 3,
      epochs: 3,
      data: { ...base.data, train: 12000, validation: 3000, test: 10000 },
    },
  },
  layers: () => [...LAYERS, 'fc3'],
  scopes: () => ({ conv: ['conv1', 'conv2'], classifier: ['fc1', 'fc2', 'fc3'] }),
  prepare(config) {
    const { train, test } = readMnistDirectory(config.data.dir);
    return splitImages(train, test, config.data);
  },
  async run(config, context) {
    const data = context.prepared as ImageSplits;
    const probeX = tf.slice(data.validation.x, 0, Math.min(config.saturationExamples, data.validation.x.shape[0]));
    try {
      const { runs, details } = await runMethods(config, context, {
        seedsPerTask: 1,
        makeTask: (_, [seed]) =>
          new LayersTask({
            build: (s) =>
              lenet5({ init: config.init, activation: config.activation, pooling: config.pooling, seed: s }),
            seed,
            train: data.train,
            validation: data.validation,
            test: data.test,
            batchSize: config.batchSize,
            loss: crossEntropy,
            metric: { name: 'accuracy', higherIsBetter: true, compute: accuracy },
          }),
        endIteration: (task) => saturation(task.model, probeX, config.activation),
        async finish(method, task, result, [seed], perIteration) {
          const model = join('models', method, `seed-${seed}`);
          const best = result.solutions[result.selected[0]];
          for (const weight of task.weights) weight.variable.assign(best.get(weight.name) as tf.Tensor);
          await saveLayersModel(task.model, join(context.outDir, model));
          return {
            details: perIteration.map((layers, iteration) => ({ method, seed, iteration, layers })),
            models: [join(model, 'model.json')],
          };
        },
      });
      return {
        metric: { name: 'accuracy', higherIsBetter: true },
        runs,
        details: { saturation: Object.values(details).flat() },
      };
    } finally {
      probeX.dispose();
      for (const split of [data.train, data.validation, data.test]) tf.dispose([split.x, split.y]);
    }
  },
};
