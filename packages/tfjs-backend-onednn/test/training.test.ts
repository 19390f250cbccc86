import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { randomTensor } from './helpers.js';

function smallCnn(inputShape: number[], seed: number): tfl.Sequential {
  const init = (s: number) => tfl.initializers.glorotUniform({ seed: seed + s });
  const model = tfl.sequential({
    layers: [
      tfl.layers.conv2d({ inputShape, filters: 6, kernelSize: 3, activation: 'relu', kernelInitializer: init(1) }),
      tfl.layers.maxPooling2d({ poolSize: 2 }),
      tfl.layers.conv2d({
        filters: 8,
        kernelSize: 3,
        strides: 2,
        padding: 'same',
        activation: 'relu',
        kernelInitializer: init(2),
      }),
      tfl.layers.flatten(),
      tfl.layers.dense({ units: 5, activation: 'softmax', kernelInitializer: init(3) }),
    ],
  });
  model.compile({ optimizer: tf.train.sgd(0.1), loss: 'categoricalCrossentropy' });
  return model;
}

function batch(size: number, shape: number[], seed: number): { x: tf.Tensor; y: tf.Tensor } {
  return tf.tidy(() => {
    const x = randomTensor([size, ...shape], seed);
    const labels = tf.tensor1d(
      Array.from({ length: size }, (_, i) => (i * 7 + seed) % 5),
      'int32',
    );
    return { x, y: tf.cast(tf.oneHot(labels, 5), 'float32') };
  });
}

async function losses(backend: string, steps: number): Promise<number[]> {
  assert.ok(tf.setBackend(backend));
  const model = smallCnn([12, 12, 3], 7);
  const out: number[] = [];
  for (let step = 0; step < steps; ++step) {
    const { x, y } = batch(8, [12, 12, 3], step);
    out.push((await model.trainOnBatch(x, y)) as number);
    tf.dispose([x, y]);
  }
  model.dispose();
  return out;
}

describe('training a small conv net', () => {
  it('gives the same SGD losses on onednn and cpu', async () => {
    const cpu = await losses('cpu', 5);
    const onednn = await losses('onednn', 5);
    for (let i = 0; i < cpu.length; ++i) {
      assert.ok(Number.isFinite(cpu[i]));
      assert.ok(Math.abs(cpu[i] - onednn[i]) < 1e-5, `step ${i}: onednn ${onednn[i]}, cpu ${cpu[i]}`);
    }
    assert.ok(onednn[onednn.length - 1] !== onednn[0], 'the loss moves');
  });

  it('leaks no tensors over 100 steps', async () => {
    assert.ok(tf.setBackend('onednn'));
    const model = smallCnn([8, 8, 2], 3);
    const { x, y } = batch(4, [8, 8, 2], 1);
    let after5 = 0;
    for (let step = 0; step < 100; ++step) {
      await model.trainOnBatch(x, y);
      if (step === 4) after5 = tf.memory().numTensors;
    }
    assert.equal(tf.memory().numTensors, after5);
    tf.dispose([x, y]);
    model.dispose();
  });
});
