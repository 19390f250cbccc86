import { backend_util, type TensorInfo, util } from '@tensorflow/tfjs-core';
import { REDUCE_OPS, type ReduceOp } from '../native.js';
import {
  addon,
  cpuBackend,
  deferredSourceOf,
  f32,
  fallback,
  type KernelArgs,
  MAX_NATIVE_RANK,
  outputArray,
  packDims,
  sizeOf,
} from './util.js';

/**
 * A float32 reduction over any axes natively; other dtypes and empty tensors go to the cpu kernel.
 * A sum or mean of an unread deferred square reduces the squares of its source as it reads them.
 */
export function nativeReduce(
  kernelName: string,
  op: ReduceOp,
  args: KernelArgs,
  x: TensorInfo,
  axis: number | number[] | undefined,
  keepDims: boolean,
) {
  const backend = cpuBackend(args);
  // Looked up before x's values are read: reading them would compute the squares.
  const squared = op === 'sum' || op === 'mean' ? deferredSourceOf(backend, x, 'square') : null;
  const xValues = squared?.values ?? f32(backend, x);
  if (xValues === null || x.shape.length > MAX_NATIVE_RANK) return fallback(kernelName, args);
  const axes = [...new Set(util.parseAxisParam(axis ?? [...x.shape.keys()], x.shape))].sort((p, q) => p - q);
  const [outShape] = backend_util.computeOutAndReduceShapes(x.shape, axes);
  const out = outputArray(backend, sizeOf(outShape));
  const code = REDUCE_OPS.indexOf(squared === null ? op : op === 'sum' ? 'sumOfSquares' : 'meanOfSquares');
  addon().reduce(code, xValues, out, packDims(x.shape.length, axes.length, x.shape, axes));
  return backend.makeTensorInfo(
    keepDims ? backend_util.expandShapeToKeepDim(outShape, axes) : outShape,
    'float32',
    out,
  );
}
