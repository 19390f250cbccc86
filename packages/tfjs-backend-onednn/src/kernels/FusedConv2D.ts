import { FusedConv2D, type FusedConv2DAttrs } from '@tensorflow/tfjs-core';
import { nativeConv2D } from './conv_util.js';
import { type FusedInputs, fallback, type KernelArgs, registerNativeKernel } from './util.js';

export function fusedConv2D(args: KernelArgs) {
  const { x, filter, bias, preluActivationWeights } = args.inputs as FusedInputs<'x' | 'filter'>;
  const attrs = args.attrs as unknown as FusedConv2DAttrs;
  if (preluActivationWeights !== undefined || (attrs.activation !== 'linear' && attrs.activation !== 'relu')) {
    return fallback(FusedConv2D, args);
  }
  return nativeConv2D(args, x, filter, attrs, bias, attrs.activation === 'relu') ?? fallback(FusedConv2D, args);
}

registerNativeKernel(FusedConv2D, fusedConv2D);
