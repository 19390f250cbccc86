import { alexnetExperiment } from './alexnet/index.js';
import { kink } from './kink/index.js';
import { lenet5Init } from './lenet5-init/index.js';
import { resnetExperiment } from './resnet/index.js';
import { toy2d } from './toy2d/index.js';
import type { CommonConfig, Experiment } from './types.js';

/** An experiment of any config, details and prepared data, as the registry holds it. */
// biome-ignore lint/suspicious/noExplicitAny: the registry is heterogeneous; each experiment checks its own types.
export type AnyExperiment = Experiment<CommonConfig, any, any>;

/** Every experiment `pn` knows, by name. */
export const experiments: Record<string, AnyExperiment> = {};

/** Makes an experiment known to `pn run`, reports and sweeps; a name can be registered once. */
export function registerExperiment(experiment: AnyExperiment): void {
  if (!/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/.test(experiment.name))
    throw new Error(`experiment name "${experiment.name}": use lower-case words joined by hyphens`);
  if (experiments[experiment.name]) throw new Error(`an experiment named "${experiment.name}" is already registered`);
  experiments[experiment.name] = experiment;
}

for (const experiment of [toy2d, kink, lenet5Init, alexnetExperiment, resnetExperiment])
  registerExperiment(experiment as AnyExperiment);
