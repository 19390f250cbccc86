import { MaxPool, type MaxPoolAttrs } from '@tensorflow/tfjs-core';
import { poolInfoParams } from './pool_util.js';
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

export function maxPool(args: KernelArgs) {
  const { x } = args.inputs as Inputs<'x'>;
  const attrs = args.attrs as unknown as MaxPoolAttrs;
  const backend = cpuBackend(args);
  const xValues = f32(backend, x);
  const params = xValues ? poolInfoParams(x.shape, attrs) : null;
  if (params === null || xValues === null) return fallback(MaxPool, args);
  const out = outputArray(backend, params.batch * params.outH * params.outW * params.channels);
  addon().maxPool({ ...params, x: xValues, out });
  return backend.makeTensorInfo([params.batch, params.outH, params.outW, params.channels], 'float32', out);
}

registerNativeKernel(MaxPool, maxPool);
