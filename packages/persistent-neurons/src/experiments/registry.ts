import { alexnetExperiment, resnetExperiment } from './cifar-cnn.js';
import { kink } from './kink.js';
import { lenet5Init } from './lenet5-init.js';
import { toy2d } from './toy2d.js';
import type { Experiment } from './types.js';

/** Every experiment `pn run` knows, by name. */
export const experiments: Record<string, Experiment> = {
  toy2d,
  kink,
  'lenet5-init': lenet5Init,
  alexnet: alexnetExperiment,
  resnet: resnetExperiment,
} as unknown as Record<string, Experiment>;
