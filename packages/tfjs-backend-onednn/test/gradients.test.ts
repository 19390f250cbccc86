import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers';
import { nativeAvailable } from '../src/index.js';
import { assertSameOnBackends, randomTensor } from './helpers.js';

const positive = (shape: number[], seed: number) => tf.add(tf.abs(randomTensor(shape, seed)), 0.1);

describe('FusedBatchNorm matches cpu', { skip: !nativeAvailable() }, () => {
  const shapes = [
    [5, 3],
    [2, 4, 4, 7],
    [1, 1, 1, 1],
    [64, 32, 33],
  ];
  for (const shape of shapes) {
    const c = shape[shape.length - 1];
    it(`x ${shape}`, () => {
      const x = () => randomTensor(shape, 1, 3);
      const params = () => [randomTensor([c], 2), positive([c], 3), randomTensor([c], 4), randomTensor([c], 5)];
      assertSameOnBackends(() => {
        const [mean, variance, offset, scale] = params();
        return tf.batchNorm(x(), mean, variance, offset, scale, 1e-3);
      }, 'scale and offset');
      assertSameOnBackends(() => {
        const [mean, variance] = params();
        return tf.batchNorm(x(), mean, variance, undefined, undefined, 0.5);
      }, 'neither');
    });
  }

  it('falls back where the parameters are not one per channel', () => {
    assertSameOnBackends(
      () =>
        tf.batchNorm(
          randomTensor([2, 3, 4], 1),
          randomTensor([3, 4], 2),
          positive([3, 4], 3),
          randomTensor([3, 4], 4),
          randomTensor([3, 4], 5),
        ),
      'mean [3, 4]',
    );
    assertSameOnBackends(
      () => tf.batchNorm(randomTensor([2, 4], 1), tf.scalar(0.5), tf.scalar(2), tf.scalar(1), tf.scalar(3)),
      'scalar mean',
    );
  });
});

/** Gradients of a BatchNorm in training mode (batch statistics) with respect to x, scale and offset. */
function batchNormTrainingGrads(shape: number[], seed: number) {
  return () => {
    const c = shape[shape.length - 1];
    const x = randomTensor(shape, seed, 2);
    const scale = randomTensor([c], seed + 1);
    const offset = randomTensor([c], seed + 2);
    const weights = randomTensor(shape, seed + 3);
    const axes = shape.slice(0, -1).map((_, i) => i);
    const loss = (xs: tf.Tensor, s: tf.Tensor, o: tf.Tensor) => {
      const { mean, variance } = tf.moments(xs, axes);
      return tf.sum(tf.mul(tf.relu(tf.batchNorm(xs, mean, variance, o, s, 1e-3)), weights));
    };
    return tf.grads(loss)([x, scale, offset]);
  };
}

describe('onednn gradients match cpu', { skip: !nativeAvailable() }, () => {
  for (const shape of [
    [4, 3],
    [2, 5, 5, 6],
    [16, 16, 16, 16],
  ]) {
    it(`BatchNorm with batch statistics, x ${shape}`, () => {
      assertSameOnBackends(batchNormTrainingGrads(shape, 7), 'd/d(x, scale, offset)', 1e-4);
    });
  }

  // tfjs differentiates batchNorm only with both scale and offset given, on every backend.
  it('BatchNorm with mean and variance as independent inputs', () => {
    assertSameOnBackends(() => {
      const mean = randomTensor([5], 1);
      const variance = positive([5], 2);
      return tf.grads((x: tf.Tensor, m: tf.Tensor, v: tf.Tensor, s: tf.Tensor, o: tf.Tensor) =>
        tf.sum(tf.square(tf.batchNorm(x, m, v, o, s, 0.01))),
      )([randomTensor([3, 5], 3), mean, variance, randomTensor([5], 4), randomTensor([5], 5)]);
    }, 'd/d(x, mean, variance, scale, offset)');
  });

  it('Relu, Tanh and Square, including zeros and NaN', () => {
    const special = () => tf.tensor1d([0, -0, 2, -2, Number.NaN, 1e-3, -1e-3]);
    for (const x of [() => randomTensor([4, 6, 5], 3, 3), special]) {
      assertSameOnBackends(
        () =>
          tf.grads((v: tf.Tensor) => tf.sum(tf.mul(tf.add(tf.add(tf.relu(v), tf.tanh(v)), tf.square(v)), v)))([x()]),
        'd/dx',
      );
    }
  });

  it('Mean and Sum over any axes, kept or not', () => {
    for (const [axis, keepDims] of [
      [undefined, false],
      [0, false],
      [[1, 2], true],
      [-1, false],
    ] as [number | number[] | undefined, boolean][]) {
      assertSameOnBackends(
        () =>
          tf.grads((x: tf.Tensor) =>
            tf.add(tf.sum(tf.square(tf.mean(x, axis, keepDims))), tf.sum(tf.square(tf.sum(x, axis, keepDims)))),
          )([randomTensor([2, 3, 4], 9)]),
        `axis ${JSON.stringify(axis)} keepDims ${keepDims}`,
      );
    }
  });

  it('runs the one-pass kernel on onednn, tfjs gradient on cpu', async () => {
    const kernelsOn = async (backend: string) => {
      tf.setBackend(backend);
      const profile = await tf.profile(() => tf.tidy(batchNormTrainingGrads([2, 3, 3, 4], 1)));
      return new Set(profile.kernels.map((k) => k.name));
    };
    const onednn = await kernelsOn('onednn');
    assert.ok(onednn.has('OneDnnFusedBatchNormGrad') && onednn.has('OneDnnUnaryGrad'));
    assert.ok(![...(await kernelsOn('cpu'))].some((name) => name.startsWith('OneDnn')));
    tf.setBackend('onednn');
  });
});

describe('the backward pass on onednn lets go of what an op no longer needs', () => {
  /** Live bytes when the gradient reaches the bottom of a 12-layer tanh chain (sampled there). */
  const bytesAtBottom = (backend: string, rows = 64, width = 256) => {
    tf.setBackend(backend);
    let sampled = 0;
    const probe = tf.customGrad(((x: tf.Tensor) => ({
      value: tf.clone(x),
      gradFunc: (dy: tf.Tensor) => {
        sampled = tf.memory().numBytes;
        return dy.clone();
      },
    })) as unknown as Parameters<typeof tf.customGrad>[0]);
    tf.tidy(() => {
      const x = randomTensor([rows, width], 1);
      const w = randomTensor([width, width], 2, 0.1);
      tf.grads((v: tf.Tensor) => {
        let h = probe(v) as tf.Tensor;
        for (let layer = 0; layer < 12; layer++) h = tf.tanh(tf.matMul(h, w));
        return tf.sum(tf.square(h));
      })([x]);
    });
    return sampled;
  };

  it('holds far less at the end of the backward pass than tfjs does on cpu', () => {
    const cpu = bytesAtBottom('cpu');
    const onednn = bytesAtBottom('onednn');
    tf.setBackend('onednn');
    assert.ok(onednn < 0.5 * cpu, `onednn ${onednn} bytes, cpu ${cpu}`);
  });

  it('leaves ops that hold little to tfjs: their saved tensors stay to the end, as on cpu', () => {
    // Under RELEASE_MIN_ELEMENTS per op; releasing would free the chain's 36 saved tensors.
    const kept = bytesAtBottom('onednn', 4, 16) - bytesAtBottom('cpu', 4, 16);
    tf.setBackend('onednn');
    assert.ok(Math.abs(kept) < 4 * 16 * 4 * 4, `onednn holds ${kept} bytes more than cpu`);
  });

  it('keeps a dy the caller passed in, and matches cpu on second-order gradients', () => {
    tf.setBackend('onednn');
    const dy = tf.ones([3, 4]);
    const [dx] = tf.grads((x: tf.Tensor) => tf.tanh(tf.relu(x)))([randomTensor([3, 4], 1)], dy);
    assert.ok(!dy.isDisposed);
    assert.equal(tf.sum(dy).dataSync()[0], 12);
    tf.dispose([dx, dy]);
    assertSameOnBackends(
      () =>
        tf.grad((x: tf.Tensor) => tf.grad((v: tf.Tensor) => tf.sum(tf.mul(tf.tanh(v), tf.square(v))))(x))(
          randomTensor([5], 2),
        ),
      'second derivative',
    );
  });

  it('is right where one gradient passes its dy on to several inputs', () => {
    // A custom op whose gradient hands the same dy object to both inputs.
    const both = tf.customGrad(((a: tf.Tensor, b: tf.Tensor) => ({
      value: tf.add(a, b),
      gradFunc: (dy: tf.Tensor) => [dy, dy],
    })) as unknown as Parameters<typeof tf.customGrad>[0]);
    assertSameOnBackends(
      () =>
        tf.grads((x: tf.Tensor) => tf.sum(tf.square(both(tf.relu(x), tf.tanh(x)) as tf.Tensor)))([
          randomTensor([4, 3], 3),
        ]),
      'shared dy',
    );
  });
});
