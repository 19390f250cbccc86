// Persistent training inside your own tfjs loop: θ0 restored for each trajectory, a fresh
// optimizer, and the penalty added to the loss. Run: node packages/persistent-neurons/examples/custom-loop.mjs
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import {
  defaultPenaltySpec,
  layersModelWeights,
  PersistentPenalty,
  restoreSnapshot,
  takeSnapshot,
} from 'persistent-neurons';

await tf.setBackend('cpu');
tf.enableProdMode();

// y = |x - 5| on inputs far from 0, where default-initialized ReLU kinks start outside the data.
const x = tf.add(tf.mul(tf.randomNormal([256, 1], 0, 1, 'float32', 1), 0.5), 5);
const y = tf.abs(tf.sub(x, 5));
const model = tfl.sequential({
  layers: [
    tfl.layers.dense({ name: 'hidden1', units: 16, activation: 'relu', inputShape: [1] }),
    tfl.layers.dense({ name: 'hidden2', units: 16, activation: 'relu' }),
    tfl.layers.dense({ name: 'output', units: 1 }),
  ],
});
const weights = layersModelWeights(model);
const theta0 = takeSnapshot(weights);
const solutions = [];
const steps = 300;

for (let k = 0; k < 3; k++) {
  restoreSnapshot(weights, theta0);
  const optimizer = tf.train.sgd(0.05);
  const penalty = new PersistentPenalty({ theta0, previousSolutions: solutions, spec: defaultPenaltySpec });
  for (let step = 0; step < steps; step++) {
    optimizer.minimize(() => {
      const mse = tf.losses.meanSquaredError(y, model.apply(x, { training: true }));
      return tf.add(mse, penalty.value(weights, step / steps));
    });
  }
  penalty.dispose();
  optimizer.dispose();
  solutions.push(takeSnapshot(weights));
  const mse = tf.tidy(() => tf.losses.meanSquaredError(y, model.predict(x)).dataSync()[0]);
  console.log(`trajectory ${k + 1}: train mse ${mse.toFixed(5)}`);
}
