import { Add } from '@tensorflow/tfjs-core';
import { nativeBinary } from './binary_util.js';
import { type KernelArgs, registerNativeKernel } from './util.js';

export function add(args: KernelArgs) {
  return nativeBinary(Add, 'add', args);
}

registerNativeKernel(Add, add);
