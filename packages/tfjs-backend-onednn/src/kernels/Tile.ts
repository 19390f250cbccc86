import { Tile, type TileAttrs } from '@tensorflow/tfjs-core';
import {
  addon,
  cpuBackend,
  DEFERRED_MIN,
  deferredOutput,
  f32,
  fallback,
  type Inputs,
  type KernelArgs,
  MAX_SHAPE_RANK,
  outputArray,
  packDims,
  registerNativeKernel,
  sizeOf,
} from './util.js';

export function tile(args: KernelArgs) {
  const { x } = args.inputs as Inputs<'x'>;
  const { reps } = args.attrs as unknown as TileAttrs;
  const backend = cpuBackend(args);
  const xValues = f32(backend, x);
  if (xValues === null || x.shape.length > MAX_SHAPE_RANK || reps.length !== x.shape.length)
    return fallback(Tile, args);
  const shape = [...x.shape];
  const repeats = [...reps];
  const outShape = shape.map((d, i) => d * repeats[i]);
  const size = sizeOf(outShape);
  if (size === 0) return fallback(Tile, args);
  const fill = (out: Float32Array) => addon().tile(xValues, out, packDims(shape.length, shape, repeats));
  // Only repeating x along its size-1 axes: tfjs's broadcastTo, which kernels that broadcast
  // anyway read as the array it repeats (see DeferredSource).
  if (size >= DEFERRED_MIN && shape.every((d, i) => d === 1 || repeats[i] === 1))
    return deferredOutput(backend, outShape, [xValues], fill, {
      kind: 'broadcast',
      values: xValues,
      shape,
      broadcastShape: outShape,
    });
  const out = outputArray(backend, size);
  fill(out);
  return backend.makeTensorInfo(outShape, 'float32', out);
}

registerNativeKernel(Tile, tile);
