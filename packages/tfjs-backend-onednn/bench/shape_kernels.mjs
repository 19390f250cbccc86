// Times one SGD step of a tanh LeNet-5 and of a small conv net with batch normalization on the onednn
// backend, with the native Tanh, Tile, Slice and PadV2 kernels and with tfjs's cpu versions of them.
// Usage: node packages/tfjs-backend-onednn/bench/shape_kernels.mjs [steps]
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { nativeAvailable } from '../dist/src/index.js';

tf.enableProdMode();
const steps = Number(process.argv[2] ?? 10);
const kernels = ['Tanh', 'Tile', 'Slice', 'PadV2'];
const nativeConfigs = kernels.map((name) => tf.getKernel(name, 'onednn'));

function useKernels(source) {
  for (const [i, name] of kernels.entries()) {
    const config = source === 'native' ? nativeConfigs[i] : tf.getKernel(name, 'cpu');
    tf.unregisterKernel(name, 'onednn');
    tf.registerKernel({ ...config, backendName: 'onednn' });
  }
}

function lenet() {
  return tfl.sequential({
    layers: [
      tfl.layers.conv2d({ inputShape: [28, 28, 1], filters: 6, kernelSize: 5, padding: 'same', activation: 'tanh' }),
      tfl.layers.averagePooling2d({ poolSize: 2 }),
      tfl.layers.conv2d({ filters: 16, kernelSize: 5, activation: 'tanh' }),
      tfl.layers.averagePooling2d({ poolSize: 2 }),
      tfl.layers.flatten(),
      tfl.layers.dense({ units: 120, activation: 'tanh' }),
      tfl.layers.dense({ units: 84, activation: 'tanh' }),
      tfl.layers.dense({ units: 10 }),
    ],
  });
}

function batchNormNet() {
  return tfl.sequential({
    layers: [
      tfl.layers.conv2d({ inputShape: [28, 28, 1], filters: 16, kernelSize: 3, padding: 'same', useBias: false }),
      tfl.layers.batchNormalization(),
      tfl.layers.activation({ activation: 'relu' }),
      tfl.layers.conv2d({ filters: 16, kernelSize: 3, padding: 'same', useBias: false }),
      tfl.layers.batchNormalization(),
      tfl.layers.activation({ activation: 'relu' }),
      tfl.layers.globalAveragePooling2d({}),
      tfl.layers.dense({ units: 10 }),
    ],
  });
}

function msPerStep(build, count) {
  const m = build();
  const optimizer = tf.train.sgd(0.01);
  const x = tf.randomNormal([64, 28, 28, 1], 0, 1, 'float32', 1);
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
  step();
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
await tf.setBackend('onednn');
for (const [label, build] of [
  ['tanh LeNet-5', lenet],
  ['conv + batch norm', batchNormNet],
]) {
  useKernels('cpu');
  const before = msPerStep(build, steps);
  useKernels('native');
  const after = msPerStep(build, steps);
  console.log(
    `${label}: cpu ${kernels.join('/')} ${before.toFixed(1)} ms/step, native ${after.toFixed(1)} ms/step ` +
      `(${(before / after).toFixed(2)}x, batch 64, ${steps} steps)`,
  );
}
