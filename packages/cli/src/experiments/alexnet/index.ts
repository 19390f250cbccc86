import { z } from 'zod';
import { alexnet } from '../../models/alexnet.js';
import type { InitScheme } from '../../models/initializers.js';
import { cifarStylePresets, type ImageConfig, imageExperiment, initSchema, momentum } from '../image-classification.js';

export interface AlexNetConfig extends ImageConfig {
  model: { init: InitScheme };
}

const { common, data, smoke, quick } = cifarStylePresets;

/**
 * AlexNet, no BatchNorm: momentum SGD, lr 0.01, batch 128.
 * - quick: E = 2 (16 steps an epoch, 22 epochs per seed): about 2 minutes on one core.
 * - paper: 5 seeds; 12,000 training, 2,000 validation and the 10,000 test images; K = 3, E = 4
 *   (standard 4 epochs, the other five methods 12 each): 5 · 52 epochs of 94 steps, about
 *   55 minutes on one core (onednn, 1 thread, 0.11 s a step, plus the penalty and evaluation).
 */
export const alexnetExperiment = imageExperiment<AlexNetConfig>({
  name: 'alexnet',
  description:
    'CIFAR-style AlexNet on CIFAR-10 (--data-dir) or Fashion-MNIST padded to 32×32×3; full vs partial persistence (persistent-conv, persistent-classifier)',
  shape: { model: z.strictObject({ init: initSchema }) },
  build: (config, seed) => alexnet({ init: config.model.init, seed }),
  input: '32x32x3',
  presets: {
    smoke: { ...smoke, optimizer: momentum(0.01), model: { init: 'he' } },
    quick: { ...quick, epochs: 2, batchSize: 128, optimizer: momentum(0.01), model: { init: 'he' } },
    paper: {
      ...common,
      seeds: 5,
      epochs: 4,
      batchSize: 128,
      optimizer: momentum(0.01),
      model: { init: 'he' },
      data: { ...data, train: 12000, validation: 2000, test: 10000 },
    },
  },
});
