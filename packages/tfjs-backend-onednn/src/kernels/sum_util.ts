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
 * the readers that understand it (Add, Sum, Mean) are its only ones.
 */
export function deferredSum(backend: MathBackendCPU, shape: number[], terms: SumTerm[]): TensorInfo {
  const arrays = terms.flatMap((term) => (term.x === undefined ? [term.values] : [term.values, term.x]));
  const kinds = terms.map((term) => (term.x === undefined ? 0 : 1));
  return deferredOutput(
    backend,
    shape,
    arrays,
    (out) => addon().sumTerms(packDims(kinds.length, kinds), out, ...arrays),
    { kind: 'sum', terms },
  );
}

/**
 * `a + b` as a longer deferred sum where one of them is a deferred sum and the other one term of
 * the output (an array of its size or repeating along its leading axes, or a one-term sum); null
 * otherwise, before reading either's values. Float addition is commutative, so `b + sum` has the
 * bits of `sum + b`: the sum's terms keep their order and the other comes last.
 */
export function addToSum(
  backend: MathBackendCPU,
  a: TensorInfo,
  b: TensorInfo,
  outShape: readonly number[],
): TensorInfo | null {
  const size = sizeOf(outShape);
  if (size < DEFERRED_MIN) return null;
  const aTerms = sumTerms(backend, a, size);
  const bTerms = sumTerms(backend, b, size);
  let terms: SumTerm[];
  let other: TensorInfo | SumTerm;
  if (aTerms !== null && (bTerms === null || bTerms.length === 1)) [terms, other] = [aTerms, bTerms?.[0] ?? b];
  else if (bTerms !== null && aTerms?.length === 1) [terms, other] = [bTerms, aTerms[0]];
  else if (bTerms !== null && aTerms === null) [terms, other] = [bTerms, a];
  else return null;
  if (terms.length >= MAX_SUM_TERMS) return null;
  const term = 'values' in other ? other : termOf(backend, other, outShape);
  return term === null ? null : deferredSum(backend, [...outShape], [...terms, term]);
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
