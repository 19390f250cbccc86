import { RealDiv } from '@tensorflow/tfjs-core';
import { nativeBinary } from './binary_util.js';
import { type KernelArgs, registerNativeKernel } from './util.js';

export function realDiv(args: KernelArgs) {
  return nativeBinary(RealDiv, 'div', args);
}

registerNativeKernel(RealDiv, realDiv);
