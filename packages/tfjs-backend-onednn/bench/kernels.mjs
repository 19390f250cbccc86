// Times one SGD step of a small CNN on the onednn backend and on tfjs's cpu backend.
// Usage: node packages/tfjs-backend-onednn/bench/kernels.mjs [onednnSteps] (TFJS_ONEDNN_THREADS sets threads)
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { getThreads, nativeAvailable } from '../dist/src/index.js';

tf.enableProdMode();
const steps = Number(process.argv[2] ?? 10);

function model() {
  const m = tfl.sequential({
    layers: [
      tfl.layers.conv2d({ inputShape: [32, 32, 3], filters: 32, kernelSize: 3, activation: 'relu' }),
      tfl.layers.maxPooling2d({ poolSize: 2 }),
      tfl.layers.conv2d({ filters: 64, kernelSize: 3, activation: 'relu' }),
      tfl.layers.maxPooling2d({ poolSize: 2 }),
      tfl.layers.flatten(),
      tfl.layers.dense({ units: 10 }),
    ],
  });
  return m;
}

async function msPerStep(backend, count, warmUp) {
  await tf.setBackend(backend);
  const m = model();
  const optimizer = tf.train.sgd(0.01);
  const x = tf.randomNormal([64, 32, 32, 3], 0, 1, 'float32', 1);
  const y = tf.oneHot(
    tf.tensor1d(
      Array.from({ length: 64 }, (_, i) => i % 10),
      'int32',
    ),
    10,
  );
  const step = () => {
    const loss = optimizer.minimize(() => tf.losses.softmaxCrossEntropy(y, m.predict(x)), true);
    loss.dataSync();
    loss.dispose();
  };
  if (warmUp) step(); // primitive creation, first allocations
  const start = performance.now();
  for (let i = 0; i < count; ++i) step();
  const ms = (performance.now() - start) / count;
  tf.dispose([x, y]);
  m.dispose();
  return ms;
}

if (!nativeAvailable()) {
  console.error('the native addon is not available; build it with: npm run -w tfjs-backend-onednn build:native');
  process.exit(1);
}
const onednn = await msPerStep('onednn', steps, true);
console.log(`onednn (${getThreads()} thread(s)): ${onednn.toFixed(1)} ms/step over ${steps} steps`);
const cpu = await msPerStep('cpu', 1, false);
console.log(`cpu: ${cpu.toFixed(1)} ms/step over 1 step (no warm-up)`);
console.log(`speed-up: ${(cpu / onednn).toFixed(1)}x`);
