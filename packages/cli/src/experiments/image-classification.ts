import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { defaultPenaltySpec, LayersTask } from 'persistent-neurons';
import { z } from 'zod';
import { readCifar10Directory } from '../data/cifar10.js';
import { DataError } from '../data/errors.js';
import { FASHION_MNIST_DIR, type ImageSet, readMnistDirectory } from '../data/idx.js';
import { accuracy, crossEntropy, type ImageSplits, splitImages } from '../data/images.js';
import { saveLayersModel } from '../io/save-model.js';
import { INIT_SCHEMES, type InitScheme } from '../models/initializers.js';
import type { Figure } from '../report/plots.js';
import { runMethods } from './method-runner.js';
import { type CommonConfig, commonConfigShape, type Experiment, type Preset } from './types.js';

const dataSchema = z.strictObject({
  /**
   * The image files: an MNIST-format directory, or for 32×32×3 models also a CIFAR-10 binary one
   * (data_batch_1..5.bin, test_batch.bin); Debian's Fashion-MNIST by default.
   */
  dir: z.string(),
  train: z.number().int().positive(),
  validation: z.number().int().positive(),
  test: z.number().int().positive(),
  seed: z.number().int(),
});

/** What every image classification config holds beside the experiment's own keys. */
export interface ImageConfig extends CommonConfig {
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

/** Where the images came from, and each scope's layers: the details every image experiment records. */
const baseDetailsShape = {
  data: z.object({ source: z.enum(['cifar10', 'mnist']), dir: z.string() }),
  scopes: z.record(z.string(), z.array(z.string())),
};

/** One trajectory's measurement (see ImageExperimentSpec.probe). */
export interface Measured<I> {
  method: string;
  seed: number;
  trajectory: number;
  value: I;
}

export interface ImageExperimentSpec<C extends ImageConfig, I, X extends z.ZodRawShape> {
  name: string;
  description: string;
  /** The experiment's own config keys beside the common ones, `batchSize` and `data`. */
  shape: z.ZodRawShape;
  /** The model of `config` with the init of `seed`. */
  build(config: C, seed: number): tfl.LayersModel;
  presets: Record<Preset, C>;
  /**
   * `28x28x1`: MNIST-format files only. `32x32x3`: CIFAR-10 binary, or MNIST-format files
   * padded to 32×32 with the channel repeated.
   */
  input: '28x28x1' | '32x32x3';
  /** A measurement of the model at the end of every trajectory (e.g. unit saturation). */
  probe?: {
    schema: z.ZodType<I>;
    measure(model: tfl.LayersModel, config: C, splits: ImageSplits): I;
  };
  /** The experiment's own details, made from every trajectory's measurement. */
  details?: { shape: X; make(measured: Measured<I>[]): z.infer<z.ZodObject<X>> };
  /** The report's figures drawn from those details. */
  figures?(details: ImageDetails<X>): Figure[];
}

/** The details of an image experiment: data source and scopes (absent in results written before them), and its own. */
export type ImageDetails<X extends z.ZodRawShape> = z.infer<z.ZodObject<X>> & {
  data?: { source: 'cifar10' | 'mnist'; dir: string };
  scopes?: Record<string, string[]>;
};

/** Where an image experiment's images came from, as `prepare` reads them. */
export interface PreparedImages {
  source: 'cifar10' | 'mnist';
  splits: ImageSplits;
}

export interface ImageExperiment<C extends ImageConfig, X extends z.ZodRawShape>
  extends Experiment<C, ImageDetails<X>, PreparedImages> {
  /** The model of `config` with the init of `seed`. */
  build(config: C, seed: number): tfl.LayersModel;
}

/**
 * An image classification experiment for a model builder: every method on one LayersTask setup,
 * accuracy selected on validation, test accuracy recorded, each seed's selected model saved,
 * scopes `conv` and `classifier` for partial persistence derived from the built model.
 */
export function imageExperiment<C extends ImageConfig, I = never, X extends z.ZodRawShape = Record<never, never>>(
  spec: ImageExperimentSpec<C, I, X>,
): ImageExperiment<C, X> {
  const layouts = new Map<string, { layers: string[]; scopes: Record<string, string[]> }>();
  // Layer names and scopes come from a model built to look at, so they cannot drift from the builder.
  const layout = (config: C) => {
    const key = JSON.stringify(Object.fromEntries(Object.keys(spec.shape).map((k) => [k, config[k as keyof C]])));
    let found = layouts.get(key);
    if (!found) {
      const built = spec.build(config, 1);
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
  const detailsSchema = z.object({
    data: baseDetailsShape.data.optional(),
    scopes: baseDetailsShape.scopes.optional(),
    ...(spec.details?.shape ?? {}),
  }) as unknown as z.ZodType<ImageDetails<X>>;
  const measuredSchema = z.object({
    method: z.string(),
    seed: z.number(),
    trajectory: z.number(),
    value: spec.probe?.schema ?? z.null(),
  }) as unknown as z.ZodType<Measured<I>>;
  return {
    name: spec.name,
    description: spec.description,
    schema: z.strictObject({
      ...commonConfigShape,
      ...spec.shape,
      batchSize: z.number().int().positive(),
      data: dataSchema,
    }) as unknown as z.ZodType<C>,
    presets: spec.presets,
    build: spec.build,
    details: detailsSchema,
    seedsPerTask: 1,
    layers: (config) => layout(config).layers,
    scopes: (config) => layout(config).scopes,
    prepare(config) {
      const { train, test, source } = readImages(config.data.dir, spec.input);
      return {
        source,
        splits: splitImages(train, test, { ...config.data, padTo32x3: spec.input === '32x32x3' && source === 'mnist' }),
      };
    },
    async run(config, context) {
      const { source, splits } = context.prepared;
      const { probe } = spec;
      try {
        const { runs, details } = await runMethods(config, context, {
          seedsPerTask: 1,
          makeTask: (_, [seed]) =>
            new LayersTask({
              build: (s) => spec.build(config, s),
              seed,
              train: splits.train,
              validation: splits.validation,
              test: splits.test,
              batchSize: config.batchSize,
              loss: crossEntropy,
              metric: { name: 'accuracy', higherIsBetter: true, compute: accuracy },
            }),
          probe: probe && (() => ({ schema: probe.schema, end: (task) => probe.measure(task.model, config, splits) })),
          details: measuredSchema,
          async finish(method, task, result, [seed], measurements) {
            const model = join('models', method, `seed-${seed}`);
            const best = result.solutions[result.selected[0]];
            for (const weight of task.weights) weight.variable.assign(best.get(weight.name) as tf.Tensor);
            await saveLayersModel(task.model, join(context.outDir, model));
            return {
              details: measurements.map((value, trajectory) => ({ method, seed, trajectory, value })),
              models: [join(model, 'model.json')],
            };
          },
        });
        const own = spec.details?.make(Object.values(details).flat()) ?? {};
        return {
          metric: { name: 'accuracy', higherIsBetter: true },
          runs,
          details: { data: { source, dir: config.data.dir }, scopes: context.scopes ?? {}, ...own } as ImageDetails<X>,
        };
      } finally {
        for (const split of [splits.train, splits.validation, splits.test]) tf.dispose([split.x, split.y]);
      }
    },
    figures: spec.figures,
  };
}

/** CIFAR-10 binary when a 32×32×3 model's `dir` holds its batches, else MNIST-format files (padded later). */
function readImages(
  dir: string,
  input: '28x28x1' | '32x32x3',
): { train: ImageSet; test: ImageSet; source: 'cifar10' | 'mnist' } {
  if (input === '28x28x1') return { ...readMnistDirectory(dir), source: 'mnist' };
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

/** SGD with momentum 0.9, as image classifiers are usually trained. */
export function momentum(learningRate: number): CommonConfig['optimizer'] {
  return { name: 'momentum', learningRate, momentum: 0.9 };
}

const fashionMnist = { dir: FASHION_MNIST_DIR, seed: 1 };

/**
 * The presets' parts the CIFAR-style models (alexnet, resnet) share: K = 3 and the six methods.
 * Compute per seed: `standard` E epochs, each of the other five K·E, so 16·E epochs in all.
 * `smoke` (for the tests): 64 training images, K = 2, E = 1 epoch of 2 steps, 2 seeds.
 * `quick`: 2,000 training, 500 validation and 1,000 test images; K = 2, 2 seeds (E per model).
 */
export const cifarStylePresets = (() => {
  const common = {
    seeds: 3,
    methods: ['standard', 'standard-long', 'reinit', 'persistent', 'persistent-conv', 'persistent-classifier'],
    trajectories: 3,
    penalty: defaultPenaltySpec,
  } satisfies Partial<ImageConfig>;
  return {
    common,
    data: fashionMnist,
    smoke: {
      ...common,
      seeds: 2,
      trajectories: 2,
      epochs: 1,
      batchSize: 32,
      data: { ...fashionMnist, train: 64, validation: 32, test: 32 },
    },
    quick: {
      ...common,
      seeds: 2,
      trajectories: 2,
      data: { ...fashionMnist, train: 2000, validation: 500, test: 1000 },
    },
  };
})();

export const initSchema = z.enum(INIT_SCHEMES as [InitScheme, ...InitScheme[]]);
