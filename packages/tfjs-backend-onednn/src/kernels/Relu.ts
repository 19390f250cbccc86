import { Relu } from '@tensorflow/tfjs-core';
import { nativeUnary } from './unary_util.js';
import {
  cpuBackend,
  type Inputs,
  type KernelArgs,
  outputArray,
  registerNativeKernel,
  reluProducerOf,
  sizeOf,
} from './util.js';

/** Relu; of an unread FusedBatchNorm output, written by the normalization's own pass (see deferredWithReluOutput). */
export function relu(args: KernelArgs) {
  const { x } = args.inputs as Inputs<'x'>;
  const backend = cpuBackend(args);
  const producer = reluProducerOf(backend, x);
  if (producer === null) return nativeUnary(Relu, 'relu', args);
  const out = outputArray(backend, sizeOf(x.shape));
  producer(out);
  return backend.makeTensorInfo(x.shape, 'float32', out);
}

registerNativeKernel(Relu, relu);
