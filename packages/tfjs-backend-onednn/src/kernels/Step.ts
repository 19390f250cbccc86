import { Step, type StepAttrs } from '@tensorflow/tfjs-core';
import { addon, cpuBackend, f32, fallback, type Inputs, type KernelArgs, registerNativeKernel } from './util.js';

export function step(args: KernelArgs) {
  const { x } = args.inputs as Inputs<'x'>;
  const { alpha } = args.attrs as unknown as StepAttrs;
  const backend = cpuBackend(args);
  const xValues = f32(backend, x);
  if (xValues === null) return fallback(Step, args);
  const out = new Float32Array(xValues.length);
  addon().unary({ op: 'step', x: xValues, out, alpha: alpha ?? 0 });
  return backend.makeTensorInfo(x.shape, 'float32', out);
}

registerNativeKernel(Step, step);
