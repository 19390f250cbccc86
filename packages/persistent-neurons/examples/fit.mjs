// Persistent training of a compiled tfjs-layers model with model.fit's arguments.
// Run: node packages/persistent-neurons/examples/fit.mjs
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { disposeSnapshot, fitPersistent } from 'persistent-neurons';

await tf.setBackend('cpu');
tf.enableProdMode();

// y = |x - 5| on inputs far from 0, where default-initialized ReLU kinks start outside the data.
const x = tf.add(tf.mul(tf.randomNormal([256, 1], 0, 1, 'float32', 1), 0.5), 5);
const y = tf.abs(tf.sub(x, 5));
const model = tfl.sequential({
  layers: [
    tfl.layers.dense({ units: 16, activation: 'relu', inputShape: [1] }),
    tfl.layers.dense({ units: 16, activation: 'relu' }),
    tfl.layers.dense({ units: 1 }),
  ],
});
model.compile({ optimizer: tf.train.sgd(0.05), loss: 'meanSquaredError' });

const { histories, selected, solutions } = await fitPersistent(model, x, y, {
  epochs: 40,
  batchSize: 32,
  validationSplit: 0.25, // or validationData: [xVal, yVal]
  trajectories: 3, // K, each from the same initial weights, with a fresh optimizer
  penalty: { lambda: 0.03 }, // over defaultPenaltySpec
  monitor: 'val_loss', // the trajectory kept is the best by it
  seed: 1, // reproducible shuffling (and restart: 'reinit')
  callbacks: [
    tfl.callbacks.earlyStopping({ monitor: 'val_loss', patience: 10 }), // ends a trajectory, not the run
    {
      onTrajectoryEnd: (k, logs) =>
        console.log(`trajectory ${k + 1}: ${logs.epochs} epochs, val mse ${logs.val_loss.toFixed(5)}`),
    },
  ],
});
console.log(
  `selected trajectory ${selected + 1} (${histories[selected].epoch.length} epochs): the model holds its weights`,
);
solutions.forEach(disposeSnapshot); // θ*_1..θ*_K, every weight by name
