import { Relu } from '@tensorflow/tfjs-core';
import { nativeUnary } from './unary_util.js';
import { type KernelArgs, registerNativeKernel } from './util.js';

export function relu(args: KernelArgs) {
  return nativeUnary(Relu, 'relu', args);
}

registerNativeKernel(Relu, relu);
