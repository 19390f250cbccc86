import { Tile, type TileAttrs } from '@tensorflow/tfjs-core';
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

export function tile(args: KernelArgs) {
  const { x } = args.inputs as Inputs<'x'>;
  const { reps } = args.attrs as unknown as TileAttrs;
  const backend = cpuBackend(args);
  const xValues = f32(backend, x);
  if (xValues === null || x.shape.length > MAX_SHAPE_RANK || reps.length !== x.shape.length)
    return fallback(Tile, args);
  const outShape = x.shape.map((d, i) => d * reps[i]);
  const size = sizeOf(outShape);
  if (size === 0) return fallback(Tile, args);
  const out = outputArray(backend, size);
  addon().tile({ x: xValues, shape: [...x.shape], reps: [...reps], out });
  return backend.makeTensorInfo(outShape, 'float32', out);
}

registerNativeKernel(Tile, tile);
