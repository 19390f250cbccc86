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
  const squared = summing ? squares(backend, x, axes) : null;
  const grads = summing && squared === null ? squareGrads(backend, x, axes) : null;
  const xValues = squared?.values ?? grads?.x ?? f32(backend, x);
  if (xValues === null || x.shape.length > MAX_NATIVE_RANK) return fallback(kernelName, args);
  const [outShape] = backend_util.computeOutAndReduceShapes(x.shape, axes);
  const out = outputArray(backend, sizeOf(outShape));
  const dims = packDims(x.shape.length, axes.length, x.shape, axes);
  const native = addon();
  if (grads !== null) {
    const name = op === 'sum' ? 'sumOfSquareGrads' : 'meanOfSquareGrads';
    if (grads.shift === undefined) native.reduce(REDUCE_OPS.indexOf(name), xValues, out, dims, grads.values);
    else native.reduce(REDUCE_OPS.indexOf(shiftedOp(name)), xValues, out, dims, grads.values, grads.shift);
  } else if (squared !== null) {
    const name = op === 'sum' ? 'sumOfSquares' : 'meanOfSquares';
    if (squared.shift === undefined) native.reduce(REDUCE_OPS.indexOf(name), xValues, out, dims);
    else native.reduce(REDUCE_OPS.indexOf(shiftedOp(name)), xValues, out, dims, squared.shift);
  } else native.reduce(REDUCE_OPS.indexOf(op), xValues, out, dims);
  return backend.makeTensorInfo(
    keepDims ? backend_util.expandShapeToKeepDim(outShape, axes) : outShape,
    'float32',
    out,
  );
}

/** The op that reads x + shift where `op` reads x. */
function shiftedOp(op: 'sumOfSquares' | 'meanOfSquares' | 'sumOfSquareGrads' | 'meanOfSquareGrads'): ReduceOp {
  return op.replace(/Of/, 'OfShifted') as ReduceOp;
}

/**
 * x as an unread deferred square the native reduction over `axes` reads (of x + shift where the
 * shift repeats as `perColumn` allows); null otherwise.
 */
function squares(
  backend: MathBackendCPU,
  x: TensorInfo,
  axes: number[],
): { values: Float32Array; shift?: Float32Array } | null {
  const source = deferredSourceOf(backend, x, 'square');
  if (source === null || (source.shift !== undefined && !perColumn(x.shape, axes, source.shift))) return null;
  return source;
}

/**
 * x as an unread square's gradient dy·(2x) (or dy·(2(x + shift))) the native reduction over `axes`
 * reads, dy and shift as `perColumn` allows; null otherwise.
 */
function squareGrads(backend: MathBackendCPU, x: TensorInfo, axes: number[]): SumTerm | null {
  const source = deferredSourceOf(backend, x, 'sum');
  const term = source?.terms.length === 1 ? source.terms[0] : undefined;
  if (term?.x === undefined || !perColumn(x.shape, axes, term.values)) return null;
  return term.shift === undefined || perColumn(x.shape, axes, term.shift) ? term : null;
}

/**
 * Whether the native reduction over `axes` reads `array` as repeating along x every its length: a
 * single value, or a length that divides the kept size where the kept axes are the last ones (a
 * column reduction: some axes reduced, some kept).
 */
function perColumn(shape: readonly number[], axes: number[], array: Float32Array): boolean {
  const reduced = sizeOf(axes.map((axis) => shape[axis]));
  const kept = sizeOf(shape) / reduced;
  const leading = axes.every((axis, i) => axis === i);
  return array.length === 1 || (leading && reduced > 1 && kept > 1 && kept % array.length === 0);
}
