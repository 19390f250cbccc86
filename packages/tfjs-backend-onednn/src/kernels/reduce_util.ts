import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { backend_util, type TensorInfo, util } from '@tensorflow/tfjs-core';
import type { SumTerm } from '../backend.js';
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
 * A sum or mean of an unread deferred square reduces the squares of its source as it reads them,
 * and of a square's unread gradient (a one-term deferred sum) the gradients.
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
  const axes = [...new Set(util.parseAxisParam(axis ?? [...x.shape.keys()], x.shape))].sort((p, q) => p - q);
  // Looked up before x's values are read: reading them would compute the squares or the gradients.
  const summing = op === 'sum' || op === 'mean';
  const squared = summing ? deferredSourceOf(backend, x, 'square') : null;
  const grads = summing ? squareGrads(backend, x, axes) : null;
  const xValues = squared?.values ?? grads?.x ?? f32(backend, x);
  if (xValues === null || x.shape.length > MAX_NATIVE_RANK) return fallback(kernelName, args);
  const [outShape] = backend_util.computeOutAndReduceShapes(x.shape, axes);
  const out = outputArray(backend, sizeOf(outShape));
  const dims = packDims(x.shape.length, axes.length, x.shape, axes);
  if (grads !== null)
    addon().reduce(
      REDUCE_OPS.indexOf(op === 'sum' ? 'sumOfSquareGrads' : 'meanOfSquareGrads'),
      xValues,
      out,
      dims,
      grads.values,
    );
  else
    addon().reduce(
      REDUCE_OPS.indexOf(squared === null ? op : op === 'sum' ? 'sumOfSquares' : 'meanOfSquares'),
      xValues,
      out,
      dims,
    );
  return backend.makeTensorInfo(
    keepDims ? backend_util.expandShapeToKeepDim(outShape, axes) : outShape,
    'float32',
    out,
  );
}

/**
 * x as an unread square's gradient dy·(2x) the native reduction over `axes` reads: dy a single
 * value, or repeating along kept axes that are the last ones (a column reduction); null otherwise.
 */
function squareGrads(backend: MathBackendCPU, x: TensorInfo, axes: number[]): Required<SumTerm> | null {
  const source = deferredSourceOf(backend, x, 'sum');
  const term = source?.terms.length === 1 ? source.terms[0] : undefined;
  if (term?.x === undefined) return null;
  const reduced = sizeOf(axes.map((axis) => x.shape[axis]));
  const kept = sizeOf(x.shape) / reduced;
  const leading = axes.every((axis, i) => axis === i);
  if (term.values.length !== 1 && !(leading && reduced > 1 && kept > 1 && kept % term.values.length === 0)) return null;
  return { values: term.values, x: term.x };
}
