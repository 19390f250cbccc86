import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers'; // registers tfjs's gradients
import { native } from '../src/native.js';
import { randomTensor, runOn } from './helpers.js';

/** Counts native conv2dBackpropInput calls while fn runs. */
function countBackpropInput(fn: () => void): number {
  const addon = native as NonNullable<typeof native>;
  const original = addon.conv2dBackpropInput;
  let calls = 0;
  addon.conv2dBackpropInput = (p) => {
    calls++;
    original(p);
  };
  try {
    fn();
  } finally {
    addon.conv2dBackpropInput = original;
  }
  return calls;
}

const firstLayer = (x: tf.Tensor, filter: tf.Tensor, bias: tf.Tensor) =>
  tf.sum(tf.fused.conv2d({ x: x as tf.Tensor4D, filter: filter as tf.Tensor4D, bias, strides: 1, pad: 'same' }));

describe('deferred Conv2DBackpropInput', { skip: native === null }, () => {
  it('is never computed when the gradient of a fused convolution input goes unused', () => {
    tf.setBackend('onednn');
    const x = randomTensor([2, 6, 6, 3], 1);
    const filter = randomTensor([3, 3, 3, 4], 2);
    const bias = randomTensor([4], 3);
    const onlyWeights = countBackpropInput(() =>
      tf.tidy(() => tf.grads((f: tf.Tensor, b: tf.Tensor) => firstLayer(x, f, b))([filter, bias])),
    );
    assert.equal(onlyWeights, 0);
    const withInput = countBackpropInput(() =>
      tf.tidy(() => {
        const [dx] = tf.grads((v: tf.Tensor) => firstLayer(v, filter, bias))([x]);
        dx.dataSync();
      }),
    );
    assert.equal(withInput, 1);
    tf.dispose([x, filter, bias]);
  });

  it('gives the right values after its inputs were disposed and their memory reused', () => {
    const transpose = () =>
      tf.conv2dTranspose(
        randomTensor([2, 5, 5, 4], 4) as tf.Tensor4D,
        randomTensor([3, 3, 6, 4], 5) as tf.Tensor4D,
        [2, 9, 9, 6],
        2,
        'same',
      );
    const [expected] = runOn('cpu', transpose);
    tf.setBackend('onednn');
    const dy = randomTensor([2, 5, 5, 4], 4);
    const filter = randomTensor([3, 3, 6, 4], 5);
    const dx = tf.conv2dTranspose(dy as tf.Tensor4D, filter as tf.Tensor4D, [2, 9, 9, 6], 2, 'same');
    tf.dispose([dy, filter]);
    for (let i = 0; i < 4; i++)
      tf.dispose([tf.relu(randomTensor([2, 5, 5, 4], 10 + i)), tf.relu(randomTensor([3, 3, 6, 4], 20 + i))]);
    const actual = dx.dataSync();
    dx.dispose();
    for (let i = 0; i < actual.length; i++) assert.ok(Math.abs(actual[i] - expected.values[i]) < 1e-4, `element ${i}`);
  });
});
