import { Conv2D, type Conv2DAttrs } from '@tensorflow/tfjs-core';
import { nativeConv2D } from './conv_util.js';
import { fallback, type Inputs, type KernelArgs, registerNativeKernel } from './util.js';

export function conv2D(args: KernelArgs) {
  const { x, filter } = args.inputs as Inputs<'x' | 'filter'>;
  const attrs = args.attrs as unknown as Conv2DAttrs;
  return nativeConv2D(args, x, filter, attrs, undefined, false) ?? fallback(Conv2D, args);
}

registerNativeKernel(Conv2D, conv2D);
