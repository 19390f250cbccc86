import { Sum, type SumAttrs } from '@tensorflow/tfjs-core';
import { nativeReduce } from './reduce_util.js';
import { type Inputs, type KernelArgs, registerNativeKernel } from './util.js';

export function sum(args: KernelArgs) {
  const { x } = args.inputs as Inputs<'x'>;
  const { axis, keepDims } = args.attrs as unknown as SumAttrs;
  return nativeReduce(Sum, 'sum', args, x, axis, keepDims);
}

registerNativeKernel(Sum, sum);
