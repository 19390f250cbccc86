import { backend_util } from '@tensorflow/tfjs-core';
import { addon, cpuBackend, f32, fallback, type Inputs, type KernelArgs, outputArray, sizeOf } from './util.js';

export type BinaryOp = 'add' | 'sub' | 'mul' | 'div';

/**
 * Outputs up to this many elements are computed in JavaScript: a native call costs about 1.5 µs of
 * argument passing, while a JavaScript loop over 256 floats takes a few hundred nanoseconds. The
 * results are the same bits: +, −, ×, ÷ of two float32 values rounded from double to float32 equal
 * the float32 operations.
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
    else for (let i = 0; i < n; i++) out[i] = a[i] / y;
  } else if (!sameSize && b.length === n) {
    const x = a[0];
    if (op === 'add') for (let i = 0; i < n; i++) out[i] = x + b[i];
    else if (op === 'sub') for (let i = 0; i < n; i++) out[i] = x - b[i];
    else if (op === 'mul') for (let i = 0; i < n; i++) out[i] = x * b[i];
    else for (let i = 0; i < n; i++) out[i] = x / b[i];
  } else if (sameSize) {
    if (op === 'add') for (let i = 0; i < n; i++) out[i] = a[i] + b[i];
    else if (op === 'sub') for (let i = 0; i < n; i++) out[i] = a[i] - b[i];
    else if (op === 'mul') for (let i = 0; i < n; i++) out[i] = a[i] * b[i];
    else for (let i = 0; i < n; i++) out[i] = a[i] / b[i];
  } else return false;
  return true;
}

/** A broadcasting float32 binary op natively; other dtypes and empty tensors go to the cpu kernel. */
export function nativeBinary(kernelName: string, op: BinaryOp, args: KernelArgs) {
  const { a, b } = args.inputs as Inputs<'a' | 'b'>;
  const backend = cpuBackend(args);
  const aValues = f32(backend, a);
  const bValues = f32(backend, b);
  if (aValues === null || bValues === null) return fallback(kernelName, args);
  const outShape = backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
  const size = sizeOf(outShape);
  const out = outputArray(backend, size);
  if (size > SMALL_BINARY || !smallBinary(op, aValues, bValues, out))
    addon().binary({ op, a: aValues, aShape: a.shape, b: bValues, bShape: b.shape, out });
  return backend.makeTensorInfo(outShape, 'float32', out);
}
