import { PadV2, type PadV2Attrs } from '@tensorflow/tfjs-core';
import {
  addon,
  cpuBackend,
  f32,
  fallback,
  type Inputs,
  type KernelArgs,
  MAX_SHAPE_RANK,
  outputArray,
  registerNativeKernel,
  sizeOf,
} from './util.js';

export function padV2(args: KernelArgs) {
  const { x } = args.inputs as Inputs<'x'>;
  const { paddings, constantValue } = args.attrs as unknown as PadV2Attrs;
  const backend = cpuBackend(args);
  const xValues = f32(backend, x);
  const rank = x.shape.length;
  if (xValues === null || rank > MAX_SHAPE_RANK || paddings.length !== rank) return fallback(PadV2, args);
  const flat = paddings.flat();
  if (flat.some((p) => !Number.isInteger(p) || p < 0)) return fallback(PadV2, args);
  const outShape = x.shape.map((d, i) => d + flat[2 * i] + flat[2 * i + 1]);
  const out = outputArray(backend, sizeOf(outShape));
  addon().pad({ x: xValues, shape: [...x.shape], paddings: flat, value: constantValue, out });
  return backend.makeTensorInfo(outShape, 'float32', out);
}

registerNativeKernel(PadV2, padV2);
