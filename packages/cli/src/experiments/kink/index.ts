import { join } from 'node:path';
import { restoreSnapshot } from 'persistent-neurons';
import { KinkTask, kinkDefaults, makeKinkData } from 'persistent-neurons/tasks';
import { z } from 'zod';
import { saveLayersModel } from '../../io/save-model.js';
import { runMethods } from '../method-runner.js';
import { type CommonConfig, commonConfigShape, type Experiment } from '../types.js';
import { type KinkDetails, kinkDetailsSchema, kinkFigures, kinkSummary } from './figures.js';

const kinkDataSchema = z.strictObject({
  mean: z.number(),
  std: z.number().positive(),
  kinks: z.array(z.number()).min(1),
  slopes: z.array(z.number()).min(1),
  baseSlope: z.number(),
  noise: z.number().nonnegative(),
  train: z.number().int().min(2),
  validation: z.number().int().min(2),
  test: z.number().int().min(2),
  seed: z.number().int(),
});

export const kinkConfigSchema = z
  .strictObject({
    ...commonConfigShape,
    hidden: z.array(z.number().int().positive()).min(1),
    batchSize: z.number().int().positive(),
    data: kinkDataSchema,
    /** Success: final validation MSE below this fraction of the best linear fit's. */
    successRatio: z.number().positive(),
    /** How many seeds' fitted curves the report plots. */
    plotSeeds: z.number().int().nonnegative(),
  })
  .refine((c) => c.data.kinks.length === c.data.slopes.length, {
    message: 'data.kinks and data.slopes must have the same length',
  });

export type KinkConfig = z.infer<typeof kinkConfigSchema> & CommonConfig;

const base: KinkConfig = {
  seeds: 10,
  methods: ['standard', 'standard-long', 'reinit', 'persistent'],
  ...kinkDefaults,
  successRatio: 0.1,
  plotSeeds: 4,
};

/** Every seed trains as one replica of one batched model. */
const SEEDS_PER_TASK = 'all' as const;

export const kink: Experiment<KinkConfig, KinkDetails> = {
  name: 'kink',
  description:
    '1→h→h→1 ReLU net on a kinked target, inputs far from 0: default init puts every kink at 0, outside the data',
  schema: kinkConfigSchema as z.ZodType<KinkConfig>,
  presets: {
    smoke: { ...base, seeds: 4, trajectories: 2, epochs: 20, hidden: [8, 8], plotSeeds: 2 },
    quick: base,
    paper: { ...base, seeds: 50 },
  },
  details: kinkDetailsSchema,
  seedsPerTask: SEEDS_PER_TASK,
  layers: (config) => [...config.hidden.map((_, i) => `hidden${i + 1}`), 'output'],
  async run(config, context) {
    const data = makeKinkData(config.data);
    const grid = Array.from({ length: 101 }, (_, i) => {
      const lo = config.data.mean - 3 * config.data.std;
      return lo + (i / 100) * 6 * config.data.std;
    });
    const { runs, details } = await runMethods(config, context, {
      seedsPerTask: SEEDS_PER_TASK,
      makeTask: (_, seeds) => new KinkTask(data, config.hidden, seeds, config.batchSize),
      success: (mse) => mse < config.successRatio * data.linearFitMse,
      details: kinkDetailsSchema.shape.fits.element,
      async finish(method, task, result, seeds) {
        // Each seed's selected solution: export it as a layers model and record its fit.
        const fits: KinkDetails['fits'] = [];
        const models: string[] = [];
        for (const k of new Set(result.selected)) {
          restoreSnapshot(task.weights, result.solutions[k]);
          const predictions = task.predict(Float32Array.from(grid));
          for (const [r, seed] of seeds.entries()) {
            if (result.selected[r] !== k) continue;
            const model = task.model.toLayersModel(r);
            models[r] = join('models', method, `seed-${seed}`, 'model.json');
            await saveLayersModel(model, join(context.outDir, 'models', method, `seed-${seed}`));
            model.dispose();
            if (r < config.plotSeeds) fits.push({ method, seed, x: grid, y: Array.from(predictions[r]) });
          }
        }
        return { details: fits.sort((a, b) => a.seed - b.seed), models };
      },
    });
    return {
      metric: { name: 'mse', higherIsBetter: false, successThreshold: config.successRatio * data.linearFitMse },
      runs,
      details: {
        linearFitMse: data.linearFitMse,
        data: { x: Array.from(data.validation.x), y: Array.from(data.validation.y) },
        fits: Object.values(details).flat(),
      },
    };
  },
  figures: kinkFigures,
  summary: (details, results) => kinkSummary(details, results.metric.successThreshold),
  explorerPanel: '#kink',
};
