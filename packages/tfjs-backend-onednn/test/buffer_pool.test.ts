import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { BufferPool } from '../src/buffer_pool.js';
import { nativeAvailable, type OneDnnBackend } from '../src/index.js';
import { randomTensor } from './helpers.js';

describe('BufferPool', () => {
  it('reuses an array once its last holder is gone', () => {
    const pool = new BufferPool(1 << 20);
    const a = pool.take(100);
    pool.retain(a);
    pool.retain(a.subarray(10, 20));
    pool.release(a);
    assert.notEqual(pool.take(100).buffer, a.buffer, 'a view still holds it');
    pool.release(a.subarray(10, 20));
    assert.equal(pool.take(100).buffer, a.buffer);
    assert.deepEqual(pool.stats().reused, 1);
  });

  it('never reuses an escaped array, a foreign one, or beyond its limit', () => {
    const pool = new BufferPool(400);
    const escaped = pool.take(100);
    pool.retain(escaped);
    pool.escape(escaped);
    pool.release(escaped);
    const foreign = new Float32Array(100);
    pool.retain(foreign);
    pool.release(foreign);
    const big = pool.take(101);
    pool.retain(big);
    pool.release(big);
    const fresh = [pool.take(100), pool.take(101)];
    assert.ok(fresh.every((array) => array.buffer !== escaped.buffer && array.buffer !== foreign.buffer));
    assert.notEqual(fresh[1].buffer, big.buffer, '101 floats exceed the 400-byte limit');
    assert.deepEqual(pool.stats(), { reused: 0, allocated: 4, escaped: 1, dropped: 1, freeBytes: 0 });
  });
});

describe('the onednn backend with its buffer pool', { skip: !nativeAvailable() }, () => {
  it('never overwrites what dataSync handed out or what a live view shows', () => {
    tf.setBackend('onednn');
    const a = tf.relu(randomTensor([64, 64], 1));
    const handedOut = a.dataSync();
    const copy = Float32Array.from(handedOut);
    const firstRow = tf.slice(a, [0, 0], [1, 64]); // contiguous: the cpu kernel returns a view
    const rowCopy = Float32Array.from(firstRow.dataSync());
    a.dispose();
    for (let i = 0; i < 5; i++) tf.dispose(tf.tanh(tf.relu(randomTensor([64, 64], 2 + i))));
    assert.deepEqual(handedOut, copy);
    assert.deepEqual(firstRow.dataSync(), rowCopy);
    firstRow.dispose();
  });

  it('reuses freed outputs across training-like steps', () => {
    tf.setBackend('onednn');
    const pool = (tf.backend() as OneDnnBackend).buffers;
    const x = randomTensor([32, 32], 3);
    const before = pool.stats();
    for (let i = 0; i < 10; i++) tf.dispose(tf.tidy(() => tf.sum(tf.mul(tf.tanh(tf.matMul(x, x)), x))));
    const after = pool.stats();
    x.dispose();
    assert.ok(after.reused - before.reused >= 30, JSON.stringify({ before, after }));
    assert.ok(after.allocated - before.allocated <= 4, JSON.stringify({ before, after }));
  });
});
