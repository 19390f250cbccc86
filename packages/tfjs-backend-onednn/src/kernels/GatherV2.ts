import { GatherV2, type GatherV2Attrs, util } from '@tensorflow/tfjs-core';
import {
  cpuBackend,
  f32,
  fallback,
  type Inputs,
  type KernelArgs,
  outputArray,
  registerNativeKernel,
  sizeOf,
} from './util.js';

/**
 * Gathers float32 slices along an axis by copying them: a minibatch drawn from a dataset each step.
 * tfjs's cpu kernel computes an index per element through TensorBuffer, and reads its input through
 * `bufferSync`, which takes the array out of the buffer pool for good. Copying is memory-bound, so
 * this stays in JavaScript (no native call to pay for); batched gathers (batchDims > 0) and other
 * dtypes go to the cpu kernel.
 */
export function gatherV2(args: KernelArgs) {
  const { x, indices } = args.inputs as Inputs<'x' | 'indices'>;
  const { axis, batchDims } = args.attrs as unknown as GatherV2Attrs;
  const backend = cpuBackend(args);
  const values = f32(backend, x);
  if (values === null || (batchDims ?? 0) !== 0) return fallback(GatherV2, args);
  const a = util.parseAxisParam(axis, x.shape)[0];
  const dim = x.shape[a];
  const index = backend.data.get(indices.dataId).values as ArrayLike<number>;
  for (let i = 0; i < index.length; i++)
    if (!(index[i] >= 0 && index[i] <= dim - 1))
      throw new Error(`GatherV2: the index value ${index[i]} is not in [0, ${dim - 1}]`);
  const outer = sizeOf(x.shape.slice(0, a));
  const inner = sizeOf(x.shape.slice(a + 1));
  const n = index.length;
  const outShape = [...x.shape.slice(0, a), ...indices.shape, ...x.shape.slice(a + 1)];
  const out = outputArray(backend, outer * n * inner);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < n; i++) {
      const from = (o * dim + index[i]) * inner;
      const to = (o * n + i) * inner;
      // A view per slice costs more than copying a short one.
      if (inner < 64) for (let k = 0; k < inner; k++) out[to + k] = values[from + k];
      else out.set(values.subarray(from, from + inner), to);
    }
  }
  return backend.makeTensorInfo(outShape, 'float32', out);
}

registerNativeKernel(GatherV2, gatherV2);
