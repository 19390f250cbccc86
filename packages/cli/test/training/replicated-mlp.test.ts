import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { ReplicatedMlp } from 'persistent-neurons/tasks';
import { nativeAvailable } from 'tfjs-backend-onednn';
import '../setup.js';

/** Predictions and the gradient of a loss with respect to every weight, on `backend`. */
function forwardAndGradients(backend: string): Float32Array[] {
  tf.setBackend(backend);
  const model = new ReplicatedMlp([1, 16, 16, 1], [1, 2, 3]);
  try {
    return tf.tidy(() => {
      const x = tf.tensor3d(
        Float32Array.from({ length: 3 * 32 }, (_, i) => Math.sin(i * 1.7) * 4 + 5),
        [3, 32, 1],
      );
      const prediction = model.predict(x);
      const { grads } = tf.variableGrads(() => tf.sum(tf.square(model.predict(x))) as tf.Scalar);
      return [prediction, ...model.weights.map((w) => grads[w.variable.name])].map((t) => t.dataSync() as Float32Array);
    });
  } finally {
    model.dispose();
  }
}

test(
  'ReplicatedMlp: xW + b on onednn and xW + 1·b on cpu give the same predictions and gradients',
  {
    skip: !nativeAvailable(),
  },
  () => {
    const cpu = forwardAndGradients('cpu');
    const onednn = forwardAndGradients('onednn');
    for (const [i, expected] of cpu.entries()) {
      let magnitude = 1;
      for (const v of expected) magnitude = Math.max(magnitude, Math.abs(v));
      for (let j = 0; j < expected.length; j++)
        assert.ok(
          Math.abs(onednn[i][j] - expected[j]) <= 1e-5 * magnitude,
          `${i === 0 ? 'prediction' : `gradient ${i - 1}`} element ${j}: ${onednn[i][j]} vs ${expected[j]}`,
        );
    }
  },
);
