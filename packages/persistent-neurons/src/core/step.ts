import * as tf from '@tensorflow/tfjs-core';
import type { PersistentPenalty } from './penalty.js';
import type { ModelWeight } from './weights.js';

/**
 * One optimizer step on the task loss plus the penalty: the task loss's gradients from tfjs's
 * backprop, the penalty's added by `PersistentPenalty.addGradients` (on a backend with the fused
 * kernels, one kernel call and no taped op: the same numbers as differentiating the sum).
 * Returns the penalty's value.
 */
export function penalizedStep(
  optimizer: tf.Optimizer,
  trainable: readonly ModelWeight[],
  taskLoss: () => tf.Scalar,
  penalty: PersistentPenalty,
  progress: number,
): tf.Scalar {
  const { value, grads } = tf.variableGrads(
    taskLoss,
    trainable.map((w) => w.variable),
  );
  let summed: ReturnType<PersistentPenalty['addGradients']> | undefined;
  try {
    summed = penalty.addGradients(trainable, grads, progress);
    optimizer.applyGradients(summed.grads);
    return summed.value;
  } catch (error) {
    summed?.value.dispose();
    throw error;
  } finally {
    tf.dispose([value, ...Object.values(grads), ...Object.values(summed?.grads ?? {})]);
  }
}
