import { AvgPoolGrad, type AvgPoolGradAttrs } from '@tensorflow/tfjs-core';
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
  sizeOf,
} from './util.js';

export function avgPoolGrad(args: KernelArgs) {
  const { dy, input } = args.inputs as Inputs<'dy' | 'input'>;
  const attrs = args.attrs as unknown as AvgPoolGradAttrs;
  const backend = cpuBackend(args);
  const dyValues = f32(backend, dy);
  const params = dyValues && input.dtype === 'float32' ? poolInfoParams(input.shape, attrs) : null;
  if (
    params === null ||
    dyValues === null ||
    dy.shape.join() !== [params.batch, params.outH, params.outW, params.channels].join()
  ) {
    return fallback(AvgPoolGrad, args);
  }
  const dx = outputArray(backend, sizeOf(input.shape));
  addon().avgPoolGrad({ ...params, dy: dyValues, dx });
  return backend.makeTensorInfo(input.shape, 'float32', dx);
}

registerNativeKernel(AvgPoolGrad, avgPoolGrad);
