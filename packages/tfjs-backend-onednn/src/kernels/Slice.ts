import { Slice, type SliceAttrs, slice_util } from '@tensorflow/tfjs-core';
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

/** Copies non-contiguous float32 slices natively; contiguous ones stay views on the cpu path. */
export function slice(args: KernelArgs) {
  const { x } = args.inputs as Inputs<'x'>;
  const { begin, size } = args.attrs as unknown as SliceAttrs;
  const backend = cpuBackend(args);
  const xValues = f32(backend, x);
  if (xValues === null || x.shape.length === 0 || x.shape.length > MAX_SHAPE_RANK) return fallback(Slice, args);
  const [b, s] = slice_util.parseSliceParams(x, begin, size);
  slice_util.assertParamsValid(x, b, s);
  if (sizeOf(s) === 0 || slice_util.isSliceContinous(x.shape, b, s)) return fallback(Slice, args);
  const out = outputArray(backend, sizeOf(s));
  addon().slice({ x: xValues, shape: [...x.shape], begin: b, size: s, out });
  return backend.makeTensorInfo(s, 'float32', out);
}

registerNativeKernel(Slice, slice);
