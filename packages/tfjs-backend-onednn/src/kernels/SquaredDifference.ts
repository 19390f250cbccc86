import { SquaredDifference } from '@tensorflow/tfjs-core';
import { nativeBinary } from './binary_util.js';
import { type KernelArgs, registerNativeKernel } from './util.js';

/** (a − b)², broadcasting; computed in double and rounded once, as tfjs's cpu kernel does. */
export function squaredDifference(args: KernelArgs) {
  return nativeBinary(SquaredDifference, 'squaredDifference', args);
}

registerNativeKernel(SquaredDifference, squaredDifference);
