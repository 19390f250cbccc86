import { Relu } from '@tensorflow/tfjs-core';
import { writeSum } from './sum_util.js';
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

/**
 * Relu; of an unread FusedBatchNorm output, written by the normalization's own pass, and of an
 * unread sum (a residual connection's Add) by the pass that adds it (see DeferredSource).
 */
export function relu(args: KernelArgs) {
  const { x } = args.inputs as Inputs<'x'>;
  const backend = cpuBackend(args);
  const normalization = deferredSourceOf(backend, x, 'normalization');
  const sum = normalization === null ? deferredSourceOf(backend, x, 'sum') : null;
  const write = normalization?.relu ?? (sum && ((out: Float32Array) => writeSum(sum.terms, out, true)));
  if (!write) return nativeUnary(Relu, 'relu', args);
  const out = outputArray(backend, sizeOf(x.shape));
  write(out);
  return backend.makeTensorInfo(x.shape, 'float32', out);
}

registerNativeKernel(Relu, relu);
