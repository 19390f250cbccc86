import { MaxPoolGrad, type MaxPoolGradAttrs } from '@tensorflow/tfjs-core';
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

export function maxPoolGrad(args: KernelArgs) {
  const { dy, input } = args.inputs as Inputs<'dy' | 'input' | 'output'>;
  const attrs = args.attrs as unknown as MaxPoolGradAttrs;
  const backend = cpuBackend(args);
  const dyValues = f32(backend, dy);
  const xValues = f32(backend, input);
  const params = dyValues && xValues ? poolInfoParams(input.shape, attrs) : null;
  if (
    params === null ||
    dyValues === null ||
    xValues === null ||
    dy.shape.join() !== [params.batch, params.outH, params.outW, params.channels].join()
  ) {
    return fallback(MaxPoolGrad, args);
  }
  const dx = outputArray(backend, xValues.length);
  addon().maxPoolGrad({ ...params, dy: dyValues, x: xValues, dx });
  return backend.makeTensorInfo(input.shape, 'float32', dx);
}

registerNativeKernel(MaxPoolGrad, maxPoolGrad);
