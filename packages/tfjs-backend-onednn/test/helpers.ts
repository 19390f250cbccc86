import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '../src/index.js';

tf.enableProdMode();

/** Deterministic pseudo-random floats in [-scale, scale). */
export function randomValues(size: number, seed: number, scale = 1): Float32Array {
  let state = (seed * 2654435761) >>> 0 || 1;
  const out = new Float32Array(size);
  for (let i = 0; i < size; ++i) {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    out[i] = (state / 4294967296) * 2 * scale - scale;
  }
  return out;
}

export function randomTensor(shape: number[], seed: number, scale = 1): tf.Tensor {
  return tf.tensor(
    randomValues(
      shape.reduce((a, b) => a * b, 1),
      seed,
      scale,
    ),
    shape,
  );
}

export interface Result {
  shape: number[];
  values: Float32Array | Int32Array | Uint8Array;
}

/** Runs fn on a backend and returns the shapes and values of its outputs; nothing is left allocated. */
export function runOn(backend: string, fn: () => tf.Tensor | tf.Tensor[]): Result[] {
  assert.ok(tf.setBackend(backend));
  return tf.tidy(() => {
    const out = fn();
    const list = Array.isArray(out) ? out : [out];
    return list.map((t) => ({ shape: t.shape, values: t.dataSync() as Float32Array | Int32Array | Uint8Array }));
  });
}

/** Asserts that fn gives the same shapes and (within a magnitude-relative tolerance) values on onednn and cpu. */
export function assertSameOnBackends(fn: () => tf.Tensor | tf.Tensor[], label: string, relTol = 1e-5): void {
  const expected = runOn('cpu', fn);
  const actual = runOn('onednn', fn);
  tf.setBackend('onednn');
  assert.equal(actual.length, expected.length, label);
  for (let i = 0; i < expected.length; ++i) {
    assert.deepEqual(actual[i].shape, expected[i].shape, `${label}: shape of output ${i}`);
    const e = expected[i].values;
    const a = actual[i].values;
    assert.equal(a.length, e.length, label);
    let magnitude = 1;
    for (const v of e) if (Number.isFinite(v)) magnitude = Math.max(magnitude, Math.abs(v));
    const tol = relTol * magnitude;
    for (let j = 0; j < e.length; ++j) {
      if (!Number.isFinite(e[j])) {
        assert.ok(Object.is(a[j], e[j]), `${label}: element ${j} is ${a[j]}, expected ${e[j]}`);
        continue;
      }
      const diff = Math.abs(a[j] - e[j]);
      if (!(diff <= tol)) assert.fail(`${label}: element ${j} is ${a[j]}, expected ${e[j]} (tolerance ${tol})`);
    }
  }
}
