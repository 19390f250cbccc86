import * as tf from '@tensorflow/tfjs-core';
import { disposeLearningRateToo } from './tfjs-internals.js';

export type OptimizerSpec =
  | { name: 'sgd'; learningRate: number }
  | { name: 'momentum'; learningRate: number; momentum: number; nesterov?: boolean }
  | { name: 'adam'; learningRate: number; beta1?: number; beta2?: number; epsilon?: number };

/** A new optimizer with no state: every persistent trajectory starts with one (no carried momentum). */
export function createOptimizer(spec: OptimizerSpec): tf.Optimizer {
  switch (spec.name) {
    case 'sgd':
      return tf.train.sgd(spec.learningRate);
    case 'momentum':
      // tfjs's MomentumOptimizer.dispose leaves its learning-rate scalar behind: one tensor per trajectory.
      return disposeLearningRateToo(tf.train.momentum(spec.learningRate, spec.momentum, spec.nesterov ?? false));
    case 'adam':
      return tf.train.adam(spec.learningRate, spec.beta1 ?? 0.9, spec.beta2 ?? 0.999, spec.epsilon ?? 1e-7);
  }
}
