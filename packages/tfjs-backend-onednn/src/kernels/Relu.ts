import { Relu } from '@tensorflow/tfjs-core';
import { nativeUnary } from './unary_util.js';
import {
  cpuBackend,
  deferredSourceOf,
  type Inputs,
  type KernelArgs,
  outputArray,
  registerNativeKernel,
  sizeOf,
} from './util.js';

/** Relu; of an unread FusedBatchNorm output, written by the normalization's own pass (see DeferredSource). */
export function relu(args: KernelArgs) {
  const { x } = args.inputs as Inputs<'x'>;
  const backend = cpuBackend(args);
  const normalization = deferredSourceOf(backend, x, 'normalization');
  if (normalization === null) return nativeUnary(Relu, 'relu', args);
  const out = outputArray(backend, sizeOf(x.shape));
  normalization.relu(out);
  return backend.makeTensorInfo(x.shape, 'float32', out);
}

registerNativeKernel(Relu, relu);
