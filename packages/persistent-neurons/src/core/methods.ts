import type { OptimizerSpec } from './optimizers.js';
import type { PenaltySpec } from './penalty.js';
import type { TrainOptions } from './trainer.js';

/** The four methods of DESIGN §1, compared with equal compute (K·E epochs, except `standard`). */
export const METHODS = ['standard', 'standard-long', 'reinit', 'persistent'] as const;
export type Method = (typeof METHODS)[number];

export interface MethodSettings {
  /** K */
  iterations: number;
  /** E */
  epochs: number;
  optimizer: OptimizerSpec;
  penalty: PenaltySpec;
}

/** The trainer options that make `method` out of K, E, the optimizer and the penalty. */
export function methodOptions(method: Method, settings: MethodSettings): TrainOptions {
  const { iterations, epochs, optimizer, penalty } = settings;
  switch (method) {
    case 'standard':
      return { iterations: 1, epochs, optimizer, restart: 'theta0' };
    case 'standard-long':
      return { iterations: 1, epochs: iterations * epochs, optimizer, restart: 'theta0' };
    case 'reinit':
      return { iterations, epochs, optimizer, restart: 'reinit' };
    case 'persistent':
      return { iterations, epochs, optimizer, restart: 'theta0', penalty };
  }
}
