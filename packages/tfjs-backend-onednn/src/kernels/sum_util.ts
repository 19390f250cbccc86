import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import type { TensorInfo } from '@tensorflow/tfjs-core';
import type { SumTerm } from '../backend.js';
import {
  addon,
  DEFERRED_MIN,
  deferredOutput,
  deferredSourceOf,
  f32,
  packDims,
  repeatsAlongLeadingAxes,
  sizeOf,
} from './util.js';

/** The most terms a deferred sum holds (the native sumTerms takes 8). */
export const MAX_SUM_TERMS = 8;

/**
 * A deferred sum of `terms` (see DeferredSource): written in one pass when first read, never where
 * the readers that understand it (Add, Sum, Mean, Relu) are its only ones.
 */
export function deferredSum(backend: MathBackendCPU, shape: number[], terms: SumTerm[]): TensorInfo {
  return deferredOutput(backend, shape, arraysOf(terms), (out) => writeSum(terms, out, false), { kind: 'sum', terms });
}

/** out = the sum of `terms`, or relu of it, in one native pass. */
export function writeSum(terms: SumTerm[], out: Float32Array, relu: boolean): void {
  const kinds = terms.map((term) => (term.x === undefined ? 0 : term.shift === undefined ? 1 : 2));
  addon().sumTerms(packDims(kinds.length, relu ? 1 : 0, kinds), out, ...arraysOf(terms));
}

function arraysOf(terms: SumTerm[]): Float32Array[] {
  return terms.flatMap((term) =>
    term.x === undefined
      ? [term.values]
      : term.shift === undefined
        ? [term.values, term.x]
        : [term.values, term.x, term.shift],
  );
}

/**
 * An unread deferred sum of an array of the output's size and a repeating one (`x + shift`: the sum
 * subtractToSum makes of tf.moments' x − mean, shift the negated mean, or an Add of a per-channel
 * array): its x and shift; null for anything else.
 */
export function centered(backend: MathBackendCPU, t: TensorInfo): { x: Float32Array; shift: Float32Array } | null {
  const source = deferredSourceOf(backend, t, 'sum');
  if (source === null || source.terms.length !== 2) return null;
  const size = sizeOf(t.shape);
  // Either order: addition is commutative.
  const [x, shift] = source.terms[0].values.length === size ? source.terms : [source.terms[1], source.terms[0]];
  if (x.x !== undefined || shift.x !== undefined || x.values.length !== size || shift.values.length === size)
    return null;
  return { x: x.values, shift: shift.values };
}

/**
 * A large `a − b` where b repeats along the output's leading axes (a per-channel mean): the
 * deferred sum of a and −b (x − m is x + (−m) in IEEE arithmetic, bit for bit but for the sign of
 * a NaN m, which the negation flips); null otherwise.
 */
export function subtractToSum(
  backend: MathBackendCPU,
  a: TensorInfo,
  b: TensorInfo,
  outShape: readonly number[],
): TensorInfo | null {
  const size = sizeOf(outShape);
  if (size < DEFERRED_MIN || sizeOf(b.shape) >= size || deferredSourceOf(backend, b, 'sum') !== null) return null;
  const term = termOf(backend, b, outShape);
  if (term === null) return null;
  // A small array of its own (per channel), held by the sum only.
  const negated = new Float32Array(term.values.length);
  for (let i = 0; i < negated.length; i++) negated[i] = -term.values[i];
  return addToSum(backend, a, { values: negated }, outShape);
}

/**
 * A large `a + b` as a deferred sum (see DeferredSource): a longer one where one of them is a
 * deferred sum and the other one term of the output (an array of its size or repeating along its
 * leading axes, or a one-term sum), else a sum of two terms; null where they are not such terms
 * (before reading a sum's values; a term's may have been read). Float addition is commutative, so
 * `b + sum` has the bits of `sum + b` (but for which NaN's payload a NaN + NaN keeps): the sum's
 * terms keep their order and the other comes last.
 */
export function addToSum(
  backend: MathBackendCPU,
  a: TensorInfo,
  b: TensorInfo | SumTerm,
  outShape: readonly number[],
): TensorInfo | null {
  const size = sizeOf(outShape);
  if (size < DEFERRED_MIN) return null;
  const aTerms = sumTerms(backend, a, size);
  const bTerms = 'values' in b ? [b] : sumTerms(backend, b, size);
  let terms: (TensorInfo | SumTerm)[];
  if (aTerms !== null && (bTerms === null || bTerms.length === 1)) terms = [...aTerms, bTerms?.[0] ?? b];
  else if (bTerms !== null && (aTerms === null || aTerms.length === 1)) terms = [...bTerms, aTerms?.[0] ?? a];
  else if (aTerms === null && bTerms === null) terms = [a, b as TensorInfo];
  else return null;
  if (terms.length > MAX_SUM_TERMS) return null;
  const resolved: SumTerm[] = [];
  for (const term of terms) {
    const t = 'values' in term ? term : termOf(backend, term, outShape);
    if (t === null) return null;
    resolved.push(t);
  }
  return deferredSum(backend, [...outShape], resolved);
}

/** The terms of an unread deferred sum of `size` elements; null for any other tensor. */
function sumTerms(backend: MathBackendCPU, t: TensorInfo, size: number): SumTerm[] | null {
  const source = deferredSourceOf(backend, t, 'sum');
  return source !== null && sizeOf(t.shape) === size ? source.terms : null;
}

/**
 * t as a term of a sum of `outShape`: its values where they have the output's size or repeat along
 * its leading axes; an unread broadcast's repeated array where that repeats along them.
 */
function termOf(backend: MathBackendCPU, t: TensorInfo, outShape: readonly number[]): SumTerm | null {
  const broadcast = deferredSourceOf(backend, t, 'broadcast');
  if (broadcast !== null)
    return repeatsAlongLeadingAxes(broadcast.shape, outShape) ? { values: broadcast.values } : null;
  if (t.dtype !== 'float32' || !repeatsAlongLeadingAxes(t.shape, outShape)) return null;
  const values = f32(backend, t);
  return values === null ? null : { values };
}
