import { backend_util } from '@tensorflow/tfjs-core';
import { BINARY_OPS, type BinaryOp } from '../native.js';
import { addToSum, subtractToSum } from './sum_util.js';
import {
  addon,
  cpuBackend,
  deferredSourceOf,
  f32,
  fallback,
  type Inputs,
  type KernelArgs,
  MAX_NATIVE_RANK,
  outputArray,
  packDims,
  sizeOf,
} from './util.js';

export type { BinaryOp };

/**
 * Outputs up to this many elements are computed in JavaScript: a native call costs a few hundred
 * nanoseconds of argument passing, about what a JavaScript loop over 256 floats takes. The results
 * are the same bits: +, −, ×, ÷ of two float32 values rounded from double to float32 equal the
 * float32 operations, and the native squared difference computes in double as JavaScript does.
 */
export const SMALL_BINARY = 256;

/**
 * out = a op b for equal sizes, or with a single-element a or b; false for any other broadcast
 * (left to the native kernel). One loop per op and case keeps each loop monomorphic.
 */
export function smallBinary(op: BinaryOp, a: Float32Array, b: Float32Array, out: Float32Array): boolean {
  const n = out.length;
  const sameSize = a.length === n && b.length === n;
  if (!sameSize && a.length !== 1 && b.length !== 1) return false;
  if (!sameSize && a.length === n) {
    const y = b[0];
    if (op === 'add') for (let i = 0; i < n; i++) out[i] = a[i] + y;
    else if (op === 'sub') for (let i = 0; i < n; i++) out[i] = a[i] - y;
    else if (op === 'mul') for (let i = 0; i < n; i++) out[i] = a[i] * y;
    else if (op === 'div') for (let i = 0; i < n; i++) out[i] = a[i] / y;
    else for (let i = 0; i < n; i++) out[i] = (a[i] - y) * (a[i] - y);
  } else if (!sameSize && b.length === n) {
    const x = a[0];
    if (op === 'add') for (let i = 0; i < n; i++) out[i] = x + b[i];
    else if (op === 'sub') for (let i = 0; i < n; i++) out[i] = x - b[i];
    else if (op === 'mul') for (let i = 0; i < n; i++) out[i] = x * b[i];
    else if (op === 'div') for (let i = 0; i < n; i++) out[i] = x / b[i];
    else for (let i = 0; i < n; i++) out[i] = (x - b[i]) * (x - b[i]);
  } else if (sameSize) {
    if (op === 'add') for (let i = 0; i < n; i++) out[i] = a[i] + b[i];
    else if (op === 'sub') for (let i = 0; i < n; i++) out[i] = a[i] - b[i];
    else if (op === 'mul') for (let i = 0; i < n; i++) out[i] = a[i] * b[i];
    else if (op === 'div') for (let i = 0; i < n; i++) out[i] = a[i] / b[i];
    else for (let i = 0; i < n; i++) out[i] = (a[i] - b[i]) * (a[i] - b[i]);
  } else return false;
  return true;
}

/** A broadcasting float32 binary op natively; other dtypes and empty tensors go to the cpu kernel. */
export function nativeBinary(kernelName: string, op: BinaryOp, args: KernelArgs) {
  const { a, b } = args.inputs as Inputs<'a' | 'b'>;
  const backend = cpuBackend(args);
  const outShape = backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
  // A deferred sum (a square's gradient, and what was added to it) gains a term instead; a
  // subtraction of a repeating array is a sum (see DeferredSource).
  if (op === 'add' || op === 'sub') {
    const sum = op === 'add' ? addToSum(backend, a, b, outShape) : subtractToSum(backend, a, b, outShape);
    if (sum !== null) return sum;
  }
  // An unread broadcast (a gradient spread over an activation) is read as the array it repeats,
  // where that gives the same output; reading its values would make the full array.
  let aSource = deferredSourceOf(backend, a, 'broadcast');
  let bSource = deferredSourceOf(backend, b, 'broadcast');
  if (
    (aSource !== null || bSource !== null) &&
    !sameShape(backend_util.assertAndGetBroadcastShape(aSource?.shape ?? a.shape, bSource?.shape ?? b.shape), outShape)
  )
    [aSource, bSource] = [null, null];
  const x: Operand = aSource ?? { values: f32(backend, a), shape: a.shape };
  const y: Operand = bSource ?? { values: f32(backend, b), shape: b.shape };
  if (x.values === null || y.values === null || Math.max(x.shape.length, y.shape.length) > MAX_NATIVE_RANK)
    return fallback(kernelName, args);
  const size = sizeOf(outShape);
  const out = outputArray(backend, size);
  if (size > SMALL_BINARY || !smallBinary(op, x.values, y.values, out))
    addon().binary(
      BINARY_OPS.indexOf(op),
      x.values,
      y.values,
      out,
      packDims(x.shape.length, y.shape.length, x.shape, y.shape),
    );
  return backend.makeTensorInfo(outShape, 'float32', out);
}

interface Operand {
  values: Float32Array | null;
  shape: readonly number[];
}

function sameShape(p: readonly number[], q: readonly number[]): boolean {
  return p.length === q.length && p.every((d, i) => d === q[i]);
}
