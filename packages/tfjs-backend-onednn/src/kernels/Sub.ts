import { Sub } from '@tensorflow/tfjs-core';
import { nativeBinary } from './binary_util.js';
import { type KernelArgs, registerNativeKernel } from './util.js';

export function sub(args: KernelArgs) {
  return nativeBinary(Sub, 'sub', args);
}

registerNativeKernel(Sub, sub);
