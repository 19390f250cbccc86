import { Relu } from '@tensorflow/tfjs-core';
import { addon, cpuBackend, f32, fallback, type Inputs, type KernelArgs, registerNativeKernel } from './util.js';

export function relu(args: KernelArgs) {
  const { x } = args.inputs as Inputs<'x'>;
  const backend = cpuBackend(args);
  const xValues = f32(backend, x);
  if (xValues === null) return fallback(Relu, args);
  const out = new Float32Array(xValues.length);
  addon().unary({ op: 'relu', x: xValues, out });
  return backend.makeTensorInfo(x.shape, 'float32', out);
}

registerNativeKernel(Relu, relu);
