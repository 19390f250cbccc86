import { kink } from './kink.js';
import { toy2d } from './toy2d.js';
import type { Experiment } from './types.js';

/** Every experiment `pn run` knows, by name. */
export const experiments: Record<string, Experiment> = { toy2d, kink } as unknown as Record<string, Experiment>;
