import { Square } from '@tensorflow/tfjs-core';
import { nativeUnary } from './unary_util.js';
import { type KernelArgs, registerNativeKernel } from './util.js';

export function square(args: KernelArgs) {
  return nativeUnary(Square, 'square', args);
}

registerNativeKernel(Square, square);
