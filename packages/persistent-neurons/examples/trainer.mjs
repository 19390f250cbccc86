// The whole loop from the library: K persistent trajectories of a tfjs-layers model, best by validation.
// Run: node packages/persistent-neurons/examples/trainer.mjs
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { defaultPenaltySpec, LayersTask, trainPersistent } from 'persistent-neurons';

await tf.setBackend('cpu');
tf.enableProdMode();

const makeSet = (n, seed) => {
  const x = tf.add(tf.mul(tf.randomNormal([n, 1], 0, 1, 'float32', seed), 0.5), 5);
  return { x, y: tf.abs(tf.sub(x, 5)) };
};
const task = new LayersTask({
  build: (seed) =>
    tfl.sequential({
      layers: [
        tfl.layers.dense({
          name: 'hidden1',
          units: 16,
          activation: 'relu',
          inputShape: [1],
          kernelInitializer: tfl.initializers.glorotUniform({ seed }),
        }),
        tfl.layers.dense({
          name: 'hidden2',
          units: 16,
          activation: 'relu',
          kernelInitializer: tfl.initializers.glorotUniform({ seed: seed + 1 }),
        }),
        tfl.layers.dense({
          name: 'output',
          units: 1,
          kernelInitializer: tfl.initializers.glorotUniform({ seed: seed + 2 }),
        }),
      ],
    }),
  seed: 1,
  train: makeSet(256, 1),
  validation: makeSet(256, 2),
  batchSize: 32,
  loss: (yTrue, yPred) => tf.losses.meanSquaredError(yTrue, yPred),
  metric: { name: 'mse', higherIsBetter: false, compute: (t, p) => tf.losses.meanSquaredError(t, p).dataSync()[0] },
});

const result = await trainPersistent(task, {
  trajectories: 3,
  epochs: 40,
  restart: 'theta0',
  optimizer: { name: 'sgd', learningRate: 0.05 },
  penalty: defaultPenaltySpec,
  onEvent: (event) => {
    if (event.type === 'trajectory')
      console.log(`trajectory ${event.trajectory + 1}: val mse ${event.records[0].valMetric.toFixed(5)}`);
  },
});
console.log(`selected trajectory ${result.selected[0] + 1}`);
