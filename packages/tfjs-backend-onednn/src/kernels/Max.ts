import { Max, type MaxAttrs } from '@tensorflow/tfjs-core';
import { nativeReduce } from './reduce_util.js';
import { type Inputs, type KernelArgs, registerNativeKernel } from './util.js';

export function max(args: KernelArgs) {
  const { x } = args.inputs as Inputs<'x'>;
  const { reductionIndices, keepDims } = args.attrs as unknown as MaxAttrs;
  return nativeReduce(Max, 'max', args, x, reductionIndices, keepDims);
}

registerNativeKernel(Max, max);
