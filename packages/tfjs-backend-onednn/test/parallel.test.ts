import { after, before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers'; // registers tfjs's gradients
import { getThreads, nativeAvailable, setThreads } from '../src/index.js';
import { assertSameOnBackends, randomTensor } from './helpers.js';

// Large enough (>= 2^15 elements) that the native loops split the work among OpenMP threads.
const shape = [8, 32, 32, 16];

describe('kernels on large tensors with two threads match cpu', { skip: !nativeAvailable() }, () => {
  let initial = 1;
  before(() => {
    initial = getThreads();
    setThreads(2);
  });
  after(() => setThreads(initial));

  it('broadcast binary ops', () => {
    for (const bShape of [shape, [16], [32, 1, 16], [8, 1, 1, 1], [1], [8, 32, 32, 1]]) {
      const a = () => randomTensor(shape, 1);
      const b = () => randomTensor(bShape, 2);
      assertSameOnBackends(() => [tf.add(a(), b()), tf.sub(b(), a()), tf.mul(a(), b())], `[${bShape}]`);
    }
    assertSameOnBackends(() => tf.add(randomTensor([1 << 16], 3), randomTensor([1 << 16], 4)), 'one long row');
  });

  it('unary ops and reductions', () => {
    const x = () => randomTensor(shape, 5, 3);
    assertSameOnBackends(() => [tf.relu(x()), tf.tanh(x()), tf.step(x()), tf.square(x()), tf.neg(x())], 'unary');
    for (const axis of [[0, 1, 2], [1, 2], [0], [3]]) {
      assertSameOnBackends(() => [tf.sum(x(), axis), tf.mean(x(), axis), tf.max(x(), axis)], `axes ${axis}`, 1e-4);
    }
  });

  it('pooling and its gradients', () => {
    const x = () => randomTensor(shape, 6) as tf.Tensor4D;
    assertSameOnBackends(() => [tf.maxPool(x(), 2, 2, 'valid'), tf.avgPool(x(), 3, 1, 'same')], 'pool');
    assertSameOnBackends(
      () =>
        tf.grads((v: tf.Tensor) =>
          tf.add(
            tf.sum(tf.maxPool(v as tf.Tensor4D, 2, 2, 'same')),
            tf.sum(tf.avgPool(v as tf.Tensor4D, 3, 2, 'same')),
          ),
        )([x()]),
      'pool gradients',
    );
  });

  it('BatchNorm and its gradient', () => {
    assertSameOnBackends(
      () =>
        tf.grads((v: tf.Tensor, s: tf.Tensor, o: tf.Tensor) => {
          const { mean, variance } = tf.moments(v, [0, 1, 2]);
          return tf.sum(tf.mul(tf.batchNorm(v, mean, variance, o, s, 1e-3), randomTensor(shape, 9)));
        })([randomTensor(shape, 7, 2), randomTensor([16], 8), randomTensor([16], 10)]),
      'd/d(x, scale, offset)',
      1e-4,
    );
  });
});
