import * as tf from '@tensorflow/tfjs-core';

/**
 * Every use of tfjs state that is not public API in the method's core, in one place: the
 * learning-rate scalar `c` of tfjs's MomentumOptimizer, which its `dispose` leaves behind (one
 * tensor per trajectory). Written and tested against the tfjs-core versions below; on any other
 * version it is left alone, as tfjs leaves it, and the first use warns once.
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
        "leaves one tensor behind when disposed, as tfjs's does. Results are correct.",
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
