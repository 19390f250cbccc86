import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { z } from 'zod';
import { defaultPenaltySpec, LayersTask } from '../core/index.js';
import { readCifar10Directory } from '../data/cifar10.js';
import { DataError } from '../data/errors.js';
import { FASHION_MNIST_DIR, type ImageSet, readMnistDirectory } from '../data/idx.js';
import { accuracy, crossEntropy, type ImageSplits, splitImages } from '../data/images.js';
import { saveLayersModel } from '../io/save-model.js';
import { alexnet } from '../models/alexnet.js';
import { INIT_SCHEMES, type InitScheme } from '../models/initializers.js';
import { resnet } from '../models/resnet.js';
import { runMethods } from './method-runner.js';
import { type CommonConfig, commonConfigShape, type Experiment, type Preset } from './types.js';

const dataSchema = z.strictObject({
  /**
   * A CIFAR-10 binary directory (data_batch_1..5.bin, test_batch.bin), or an MNIST-format one
   * whose 28×28 images are padded to 32×32×3; Debian's Fashion-MNIST by default.
   */
  dir: z.string(),
  train: z.number().int().positive(),
  validation: z.number().int().positive(),
  test: z.number().int().positive(),
  seed: z.number().int(),
});

/** The config of a CIFAR-style CNN experiment: the common part, the model's own section, data. */
export interface CnnConfig<M> extends CommonConfig {
  model: M;
  batchSize: number;
  data: z.infer<typeof dataSchema>;
}

/**
 * Partial persistence scopes, by layer class: `persistent-conv` penalizes every convolution
 * (kernels and biases), `persistent-classifier` the dense layers after them. BatchNorm's γ and β
 * are in neither: only `persistent` (all layers) penalizes them. Its moving statistics are
 * never penalized: they are not trainable.
 */
const SCOPE_CLASSES: Record<string, string[]> = { conv: ['Conv2D'], classifier: ['Dense'] };

interface CnnSpec<M> {
  name: string;
  description: string;
  /** The `model` section of the config. */
  model: z.ZodType<M>;
  /** The model of `model` with the init of `seed`. */
  build(model: M, seed: number): tfl.LayersModel;
  presets: Record<Preset, CnnConfig<M>>;
}

export interface CnnExperiment<M> extends Experiment<CnnConfig<M>> {
  /** The model of a config's `model` section with the init of `seed`. */
  build(model: M, seed: number): tfl.LayersModel;
}

/**
 * A CIFAR-10 classification experiment (Fashion-MNIST padded to 32×32×3 when no CIFAR-10 is
 * given) for a model builder: every method with the selected model saved, accuracy selected on
 * validation, test accuracy recorded, scopes `conv` and `classifier` for partial persistence.
 */
export function cnnExperiment<M>(spec: CnnSpec<M>): CnnExperiment<M> {
  const layouts = new Map<string, { layers: string[]; scopes: Record<string, string[]> }>();
  // Layer names and scopes come from a model built to look at, so they cannot drift from the builder.
  const layout = (model: M) => {
    const key = JSON.stringify(model);
    let found = layouts.get(key);
    if (!found) {
      const built = spec.build(model, 1);
      const layers = built.layers.filter((layer) => layer.trainableWeights.length > 0);
      found = {
        layers: layers.map((layer) => layer.name),
        scopes: Object.fromEntries(
          Object.entries(SCOPE_CLASSES).map(([scope, classes]) => [
            scope,
            layers.filter((layer) => classes.includes(layer.getClassName())).map((layer) => layer.name),
          ]),
        ),
      };
      built.dispose();
      layouts.set(key, found);
    }
    return found;
  };
  return {
    name: spec.name,
    description: spec.description,
    schema: z.strictObject({
      ...commonConfigShape,
      model: spec.model,
      batchSize: z.number().int().positive(),
      data: dataSchema,
    }) as unknown as z.ZodType<CnnConfig<M>>,
    presets: spec.presets,
    build: spec.build,
    layers: (config) => layout(config.model).layers,
    scopes: (config) => layout(config.model).scopes,
    prepare(config) {
      const { train, test, source } = readImages(config.data.dir);
      return { source, splits: splitImages(train, test, { ...config.data, padTo32x3: source === 'mnist' }) };
    },
    async run(config, context) {
      const { source, splits } = context.prepared as { source: string; splits: ImageSplits };
      try {
        const { runs } = await runMethods(config, context, {
          seedsPerTask: 1,
          makeTask: (_, [seed]) =>
            new LayersTask({
              build: (s) => spec.build(config.model, s),
              seed,
              train: splits.train,
              validation: splits.validation,
              test: splits.test,
              batchSize: config.batchSize,
              loss: crossEntropy,
              metric: { name: 'accuracy', higherIsBetter: true, compute: accuracy },
            }),
          async finish(method, task, result, [seed]) {
            const model = join('models', method, `seed-${seed}`);
            const best = result.solutions[result.selected[0]];
            for (const weight of task.weights) weight.variable.assign(best.get(weight.name) as tf.Tensor);
            await saveLayersModel(task.model, join(context.outDir, model));
            return { details: [], models: [join(model, 'model.json')] };
          },
        });
        return {
          metric: { name: 'accuracy', higherIsBetter: true },
          runs,
          details: { data: { source, dir: config.data.dir }, scopes: context.scopes ?? {} },
        };
      } finally {
        for (const split of [splits.train, splits.validation, splits.test]) tf.dispose([split.x, split.y]);
      }
    },
  };
}

/** CIFAR-10 binary when `dir` holds its batches, else MNIST-format files (padded later). */
function readImages(dir: string): { train: ImageSet; test: ImageSet; source: 'cifar10' | 'mnist' } {
  if (['data_batch_1.bin', 'test_batch.bin'].some((name) => existsSync(join(dir, name))))
    return { ...readCifar10Directory(dir), source: 'cifar10' };
  try {
    return { ...readMnistDirectory(dir), source: 'mnist' };
  } catch (error) {
    if (dir === FASHION_MNIST_DIR || !(error instanceof DataError)) throw error;
    throw new DataError(
      `${dir} holds neither CIFAR-10 binary batches (data_batch_1..5.bin, test_batch.bin) nor MNIST-format files: ${error.message}`,
    );
  }
}

const initSchema = z.enum(INIT_SCHEMES as [InitScheme, ...InitScheme[]]);

/**
 * What both experiments share: K = 3 and the six methods. Compute per seed: `standard` E epochs,
 * each of the other five K·E, so 16·E epochs in all.
 */
const common = {
  seeds: 3,
  methods: ['standard', 'standard-long', 'reinit', 'persistent', 'persistent-conv', 'persistent-classifier'],
  iterations: 3,
  penalty: defaultPenaltySpec,
} satisfies Partial<CnnConfig<unknown>>;
const data = { dir: FASHION_MNIST_DIR, seed: 1 };

/** For the tests: 64 training images, K = 2, E = 1 epoch of 2 steps, 2 seeds. */
const smoke = {
  ...common,
  seeds: 2,
  iterations: 2,
  epochs: 1,
  batchSize: 32,
  data: { ...data, train: 64, validation: 32, test: 32 },
};

/** 2,000 training, 500 validation and 1,000 test images; K = 2, 2 seeds (E per model). */
const quick = {
  ...common,
  seeds: 2,
  iterations: 2,
  data: { ...data, train: 2000, validation: 500, test: 1000 },
};

export interface AlexNetModelConfig {
  init: InitScheme;
}

/**
 * AlexNet, no BatchNorm: momentum SGD, lr 0.01, batch 128.
 * - quick: E = 2 (16 steps an epoch, 22 epochs per seed): about 2 minutes on one core.
 * - paper: 5 seeds; 12,000 training, 2,000 validation and the 10,000 test images; K = 3, E = 4
 *   (standard 4 epochs, the other five methods 12 each): 5 · 52 epochs of 94 steps, about
 *   55 minutes on one core (onednn, 1 thread, 0.11 s a step, plus the penalty and evaluation).
 */
export const alexnetExperiment = cnnExperiment<AlexNetModelConfig>({
  name: 'alexnet',
  description:
    'CIFAR-style AlexNet on CIFAR-10 (--data-dir) or Fashion-MNIST padded to 32×32×3; full vs partial persistence (persistent-conv, persistent-classifier)',
  model: z.strictObject({ init: initSchema }),
  build: (model, seed) => alexnet({ init: model.init, seed }),
  presets: {
    smoke: { ...smoke, optimizer: sgd(0.01), model: { init: 'he' } },
    quick: { ...quick, epochs: 2, batchSize: 128, optimizer: sgd(0.01), model: { init: 'he' } },
    paper: {
      ...common,
      seeds: 5,
      epochs: 4,
      batchSize: 128,
      optimizer: sgd(0.01),
      model: { init: 'he' },
      data: { ...data, train: 12000, validation: 2000, test: 10000 },
    },
  },
});

export interface ResNetModelConfig {
  /** 6n + 2: 8, 14, 20, 32, … */
  depth: number;
  shortcut: 'A' | 'B';
  init: InitScheme;
}

/**
 * ResNet-20 with BatchNorm: momentum SGD, lr 0.05, batch 64. Batches of 64 give twice the steps
 * of 128 for the same compute, which the moving statistics need: after 16 steps they still
 * weigh the init's 0.9^16 ≈ 0.19 and inference accuracy lags training accuracy far behind.
 * - quick: E = 1 (32 steps an epoch, 11 epochs per seed): about 8 minutes on one core.
 * - paper: 3 seeds; 3,500 training, 1,000 validation and 2,000 test images; K = 3, E = 2
 *   (standard 2 epochs, the other five methods 6 each): 3 · 32 epochs of 55 steps, about
 *   60 minutes on one core (onednn, 1 thread, ≈ 0.6 s a step of 64, plus evaluation).
 */
export const resnetExperiment = cnnExperiment<ResNetModelConfig>({
  name: 'resnet',
  description:
    'ResNet-20 with BatchNorm (--set model.depth=32, model.shortcut="B") on CIFAR-10 (--data-dir) or Fashion-MNIST padded to 32×32×3; full vs partial persistence',
  model: z.strictObject({
    depth: z
      .number()
      .int()
      .refine(
        (depth) => depth >= 8 && (depth - 2) % 6 === 0,
        'ResNet depth must be 6n + 2: 8, 14, 20, 32, 44, 56, 110',
      ),
    shortcut: z.enum(['A', 'B']),
    init: initSchema,
  }),
  build: (model, seed) => resnet({ ...model, seed }),
  presets: {
    // ResNet-8 keeps the test run short; the other presets train ResNet-20.
    smoke: { ...smoke, optimizer: sgd(0.05), model: { depth: 8, shortcut: 'A', init: 'he' } },
    quick: {
      ...quick,
      epochs: 1,
      batchSize: 64,
      optimizer: sgd(0.05),
      model: { depth: 20, shortcut: 'A', init: 'he' },
    },
    paper: {
      ...common,
      epochs: 2,
      batchSize: 64,
      optimizer: sgd(0.05),
      model: { depth: 20, shortcut: 'A', init: 'he' },
      data: { ...data, train: 3500, validation: 1000, test: 2000 },
    },
  },
});

/** SGD with momentum 0.9. */
function sgd(learningRate: number): CnnConfig<unknown>['optimizer'] {
  return { name: 'momentum', learningRate, momentum: 0.9 };
}
