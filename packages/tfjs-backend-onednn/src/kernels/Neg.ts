import { Neg } from '@tensorflow/tfjs-core';
import { nativeUnary } from './unary_util.js';
import { type KernelArgs, registerNativeKernel } from './util.js';

export function neg(args: KernelArgs) {
  return nativeUnary(Neg, 'neg', args);
}

registerNativeKernel(Neg, neg);
