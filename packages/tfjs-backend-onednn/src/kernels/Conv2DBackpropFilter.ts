import { Conv2DBackpropFilter, type Conv2DBackpropFilterAttrs } from '@tensorflow/tfjs-core';
import { convInfoParams } from './conv_util.js';
import {
  addon,
  cpuBackend,
  f32,
  fallback,
  type Inputs,
  type KernelArgs,
  outputArray,
  registerNativeKernel,
} from './util.js';

export function conv2DBackpropFilter(args: KernelArgs) {
  const { x, dy } = args.inputs as Inputs<'x' | 'dy'>;
  const attrs = args.attrs as unknown as Conv2DBackpropFilterAttrs;
  const backend = cpuBackend(args);
  const xValues = f32(backend, x);
  const dyValues = f32(backend, dy);
  const params = xValues && dyValues ? convInfoParams(x.shape, attrs.filterShape, attrs) : null;
  if (
    params === null ||
    xValues === null ||
    dyValues === null ||
    dy.shape.join() !== [params.batch, params.outH, params.outW, params.outC].join()
  ) {
    return fallback(Conv2DBackpropFilter, args);
  }
  const dw = outputArray(backend, params.kH * params.kW * params.inC * params.outC);
  addon().conv2dBackpropFilter({ ...params, x: xValues, dy: dyValues, dw });
  return backend.makeTensorInfo([params.kH, params.kW, params.inC, params.outC], 'float32', dw);
}

registerNativeKernel(Conv2DBackpropFilter, conv2DBackpropFilter);
