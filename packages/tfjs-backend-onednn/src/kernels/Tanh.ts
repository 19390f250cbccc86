import { Tanh } from '@tensorflow/tfjs-core';
import { addon, cpuBackend, f32, fallback, type Inputs, type KernelArgs, registerNativeKernel } from './util.js';

export function tanh(args: KernelArgs) {
  const { x } = args.inputs as Inputs<'x'>;
  const backend = cpuBackend(args);
  const xValues = f32(backend, x);
  if (xValues === null) return fallback(Tanh, args);
  const out = new Float32Array(xValues.length);
  addon().unary({ op: 'tanh', x: xValues, out });
  return backend.makeTensorInfo(x.shape, 'float32', out);
}

registerNativeKernel(Tanh, tanh);
