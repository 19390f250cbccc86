import { Tanh } from '@tensorflow/tfjs-core';
import { nativeUnary } from './unary_util.js';
import { type KernelArgs, registerNativeKernel } from './util.js';

export function tanh(args: KernelArgs) {
  return nativeUnary(Tanh, 'tanh', args);
}

registerNativeKernel(Tanh, tanh);
