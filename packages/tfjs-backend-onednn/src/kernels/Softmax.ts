import { Softmax, type SoftmaxAttrs } from '@tensorflow/tfjs-core';
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

export function softmax(args: KernelArgs) {
  const { logits } = args.inputs as Inputs<'logits'>;
  const { dim } = args.attrs as unknown as SoftmaxAttrs;
  const backend = cpuBackend(args);
  const values = f32(backend, logits);
  const rank = logits.shape.length;
  if (values === null || rank === 0 || (dim !== -1 && dim !== rank - 1)) return fallback(Softmax, args);
  const cols = logits.shape[rank - 1];
  const out = outputArray(backend, values.length);
  addon().softmax({ x: values, out, rows: values.length / cols, cols });
  return backend.makeTensorInfo(logits.shape, 'float32', out);
}

registerNativeKernel(Softmax, softmax);
