import { Mean, type MeanAttrs } from '@tensorflow/tfjs-core';
import { nativeReduce } from './reduce_util.js';
import { type Inputs, type KernelArgs, registerNativeKernel } from './util.js';

export function mean(args: KernelArgs) {
  const { x } = args.inputs as Inputs<'x'>;
  const { axis, keepDims } = args.attrs as unknown as MeanAttrs;
  return nativeReduce(Mean, 'mean', args, x, axis, keepDims);
}

registerNativeKernel(Mean, mean);
