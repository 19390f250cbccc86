import { z } from 'zod';
import type { InitScheme } from '../../models/initializers.js';
import { resnet } from '../../models/resnet.js';
import { cifarStylePresets, type ImageConfig, imageExperiment, initSchema, momentum } from '../image-classification.js';

export interface ResNetConfig extends ImageConfig {
  model: {
    /** 6n + 2: 8, 14, 20, 32, … */
    depth: number;
    shortcut: 'A' | 'B';
    init: InitScheme;
  };
}

const { common, data, smoke, quick } = cifarStylePresets;

/**
 * ResNet-20 with BatchNorm: momentum SGD, lr 0.05, batch 64. Batches of 64 give twice the steps
 * of 128 for the same compute, which the moving statistics need: after 16 steps they still
 * weigh the init's 0.9^16 ≈ 0.19 and inference accuracy lags training accuracy far behind.
 * - quick: E = 1 (32 steps an epoch, 11 epochs per seed): about 8 minutes on one core.
 * - paper: 3 seeds; 3,500 training, 1,000 validation and 2,000 test images; K = 3, E = 2
 *   (standard 2 epochs, the other five methods 6 each): 3 · 32 epochs of 55 steps, about
 *   60 minutes on one core (onednn, 1 thread, ≈ 0.6 s a step of 64, plus evaluation).
 */
export const resnetExperiment = imageExperiment<ResNetConfig>({
  name: 'resnet',
  description:
    'ResNet-20 with BatchNorm (--set model.depth=32, model.shortcut="B") on CIFAR-10 (--data-dir) or Fashion-MNIST padded to 32×32×3; full vs partial persistence',
  shape: {
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
  },
  build: (config, seed) => resnet({ ...config.model, seed }),
  input: '32x32x3',
  presets: {
    // ResNet-8 keeps the test run short; the other presets train ResNet-20.
    smoke: { ...smoke, optimizer: momentum(0.05), model: { depth: 8, shortcut: 'A', init: 'he' } },
    quick: {
      ...quick,
      epochs: 1,
      batchSize: 64,
      optimizer: momentum(0.05),
      model: { depth: 20, shortcut: 'A', init: 'he' },
    },
    paper: {
      ...common,
      epochs: 2,
      batchSize: 64,
      optimizer: momentum(0.05),
      model: { depth: 20, shortcut: 'A', init: 'he' },
      data: { ...data, train: 3500, validation: 1000, test: 2000 },
    },
  },
});
