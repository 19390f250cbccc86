import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';

/**
 * Every use of tfjs state that is not public API in the method's core, in one place: the
 * learning-rate scalar `c` of tfjs's MomentumOptimizer, which its `dispose` leaves behind (one
 * tensor per trajectory), and a LayersModel's `isOptimizerOwned` flag, which its public
 * `optimizer` setter clears. Written and tested against the tfjs-core versions below; on any other
 * version both are left alone, as tfjs leaves them, and the first use warns once.
 */
export const TESTED_TFJS_VERSIONS: readonly string[] = ['4.22.0'];

/** Whether `version` of tfjs-core is one this module was tested against. */
export function supportsTfjsVersion(version: string): boolean {
  return TESTED_TFJS_VERSIONS.includes(version);
}

/** Decided once, when this module loads, from the tfjs-core that is running. */
const supported = supportsTfjsVersion(tf.version_core);
let warned = false;

function internalsAvailable(): boolean {
  if (!supported && !warned) {
    warned = true;
    console.warn(
      `persistent-neurons: @tensorflow/tfjs-core ${tf.version_core} is not a version this library was tested with ` +
        `(${TESTED_TFJS_VERSIONS.join(', ')}), so it leaves tfjs's internals alone: each momentum optimizer ` +
        "leaves one tensor behind when disposed, as tfjs's does, and a model fitPersistent trained no longer " +
        'disposes an optimizer that compile() made for it. Results are correct.',
    );
  }
  return supported;
}

/** Makes `optimizer.dispose()` free the learning-rate scalar too, on a tested tfjs-core. */
export function disposeLearningRateToo(optimizer: tf.MomentumOptimizer): tf.MomentumOptimizer {
  if (!internalsAvailable()) return optimizer;
  const dispose = optimizer.dispose.bind(optimizer);
  optimizer.dispose = () => {
    dispose();
    (optimizer as unknown as { c: tf.Tensor }).c.dispose();
  };
  return optimizer;
}

/**
 * Gives a compiled model `optimizer` until the returned function is called, which puts the
 * compiled one back. The public setter marks the model as not owning its optimizer (so that
 * `model.dispose()` leaves it); on a tested tfjs-core the flag is restored with the optimizer.
 */
export function lendOptimizer(model: tfl.LayersModel, optimizer: tf.Optimizer): () => void {
  const state = model as unknown as { isOptimizerOwned?: boolean };
  const [compiled, owned] = [model.optimizer, state.isOptimizerOwned];
  model.optimizer = optimizer;
  return () => {
    model.optimizer = compiled;
    if (typeof owned === 'boolean' && internalsAvailable()) state.isOptimizerOwned = owned;
  };
}

/**
 * The LayersModel that holds a model's compiled state (loss functions, metrics, optimizer,
 * stopTraining): the model itself, or the private inner model a tfjs-layers Sequential delegates
 * `compile`, `fit` and `evaluate` to (Sequential copies the metrics but not the loss functions).
 * Read structurally, on any tfjs version: a model where neither has loss functions is not compiled.
 */
export function compiledModel(model: tfl.LayersModel): tfl.LayersModel | undefined {
  const inner = (model as unknown as { model?: tfl.LayersModel }).model;
  for (const candidate of [model, inner])
    if (candidate && Array.isArray(candidate.lossFunctions) && candidate.lossFunctions.length > 0) return candidate;
  return undefined;
}
