import { Multiply } from '@tensorflow/tfjs-core';
import { nativeBinary } from './binary_util.js';
import { type KernelArgs, registerNativeKernel } from './util.js';

export function multiply(args: KernelArgs) {
  return nativeBinary(Multiply, 'mul', args);
}

registerNativeKernel(Multiply, multiply);
