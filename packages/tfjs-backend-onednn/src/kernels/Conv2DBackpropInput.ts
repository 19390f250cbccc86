import { Conv2DBackpropInput, type Conv2DBackpropInputAttrs } from '@tensorflow/tfjs-core';
import { convInfoParams } from './conv_util.js';
import {
  addon,
  cpuBackend,
  deferredOutput,
  f32,
  fallback,
  type Inputs,
  type KernelArgs,
  registerNativeKernel,
} from './util.js';

export function conv2DBackpropInput(args: KernelArgs) {
  const { dy, filter } = args.inputs as Inputs<'dy' | 'filter'>;
  const attrs = args.attrs as unknown as Conv2DBackpropInputAttrs;
  const backend = cpuBackend(args);
  const dyValues = f32(backend, dy);
  const filterValues = f32(backend, filter);
  const params = dyValues && filterValues ? convInfoParams(attrs.inputShape, filter.shape, attrs) : null;
  if (
    params === null ||
    dyValues === null ||
    filterValues === null ||
    dy.shape.join() !== [params.batch, params.outH, params.outW, params.outC].join()
  ) {
    return fallback(Conv2DBackpropInput, args);
  }
  // Deferred: tfjs's fused convolution computes this gradient even for a network's first layer.
  return deferredOutput(backend, [params.batch, params.inH, params.inW, params.inC], [dyValues, filterValues], (dx) =>
    addon().conv2dBackpropInput({ ...params, dy: dyValues, filter: filterValues, dx }),
  );
}

registerNativeKernel(Conv2DBackpropInput, conv2DBackpropInput);
