import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { version_core } from '@tensorflow/tfjs-core';
import { nativeAvailable } from '../src/index.js';
import { internalsAvailable, supportsTfjsVersion, TESTED_TFJS_VERSIONS } from '../src/tfjs_internals.js';

const module = (path: string) => JSON.stringify(fileURLToPath(new URL(path, import.meta.url)));

/**
 * Runs `script` (an ES module body) in a child process where the installed tfjs-core reports
 * `version`: its CommonJS exports are changed before anything imports them. Returns the last line
 * of stdout, parsed, and the lines of stderr.
 */
function withTfjsVersion(version: string, script: string): { result: unknown; warnings: string[] } {
  const child = spawnSync(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `import { createRequire } from 'node:module';
      createRequire(process.cwd() + '/')('@tensorflow/tfjs-core').version_core = ${JSON.stringify(version)};
      ${script}`,
    ],
    { cwd: fileURLToPath(new URL('..', import.meta.url)), encoding: 'utf8' },
  );
  assert.equal(child.status, 0, child.stderr);
  const warnings = child.stderr.split('\n').filter((line) => line.trim() !== '');
  return { result: JSON.parse(child.stdout.trim().split('\n').pop() ?? ''), warnings };
}

/**
 * Trains a small model (convolutions, BatchNorm, Relu, Tanh) for three SGD steps on cpu and on
 * onednn; counts the native gradient kernels it runs, then the native Conv2DBackpropInput calls
 * of a fused convolution's gradient taken for its filter and bias only (deferred, it is never
 * computed); and says whether any registered gradient was replaced.
 */
const training = `
  const tf = await import('@tensorflow/tfjs-core');
  await import('@tensorflow/tfjs-backend-cpu');
  const tfl = await import('@tensorflow/tfjs-layers');
  tf.enableProdMode(); // keeps tfjs's own advice to install tfjs-node off stderr
  const gradients = tf.getKernelsForBackend('cpu').map(({ kernelName }) => tf.getGradient(kernelName)?.gradFunc);
  await import(${module('../src/index.js')});
  const { native } = await import(${module('../src/native.js')});
  const calls = { unaryGrad: 0, batchNormGrad: 0, conv2dBackpropInput: 0 };
  for (const name of Object.keys(calls)) {
    const original = native[name];
    native[name] = (...args) => { calls[name]++; original(...args); };
  }
  const random = (shape, seed) => tf.randomUniform(shape, -1, 1, 'float32', seed);

  async function train(backend) {
    tf.setBackend(backend);
    const init = (seed) => tfl.initializers.glorotUniform({ seed });
    const model = tfl.sequential({ layers: [
      tfl.layers.conv2d({ inputShape: [8, 8, 2], filters: 4, kernelSize: 3, activation: 'relu', kernelInitializer: init(1) }),
      tfl.layers.batchNormalization(),
      tfl.layers.conv2d({ filters: 4, kernelSize: 3, strides: 2, padding: 'same', activation: 'tanh', kernelInitializer: init(2) }),
      tfl.layers.flatten(),
      tfl.layers.dense({ units: 3, activation: 'softmax', kernelInitializer: init(3) }),
    ] });
    model.compile({ optimizer: tf.train.sgd(0.1), loss: 'categoricalCrossentropy' });
    const x = random([4, 8, 8, 2], 1);
    const y = tf.cast(tf.oneHot(tf.tensor1d([0, 1, 2, 1], 'int32'), 3), 'float32');
    const losses = [];
    for (let step = 0; step < 3; step++) losses.push(await model.trainOnBatch(x, y));
    const weights = model.getWeights().map((w) => Array.from(w.dataSync()));
    tf.dispose([x, y]);
    model.dispose();
    return { losses, weights };
  }
  const cpu = await train('cpu');
  const onednn = await train('onednn');
  const trainingCalls = { unaryGrad: calls.unaryGrad, batchNormGrad: calls.batchNormGrad };

  calls.conv2dBackpropInput = 0;
  tf.tidy(() => {
    const x = random([2, 6, 6, 3], 2);
    const conv = (filter, bias) => tf.sum(tf.fused.conv2d({ x, filter, bias, strides: 1, pad: 'same' }));
    tf.grads(conv)([random([3, 3, 3, 4], 3), random([4], 4)]);
  });

  console.log(JSON.stringify({
    backend: tf.getBackend(),
    gradientsReplaced: tf.getKernelsForBackend('cpu').some(
      ({ kernelName }, i) => tf.getGradient(kernelName)?.gradFunc !== gradients[i]),
    trainingCalls,
    unusedInputGradientCalls: calls.conv2dBackpropInput,
    cpu,
    onednn,
  }));
`;

interface Training {
  backend: string;
  gradientsReplaced: boolean;
  trainingCalls: { unaryGrad: number; batchNormGrad: number };
  unusedInputGradientCalls: number;
  cpu: { losses: number[]; weights: number[][] };
  onednn: { losses: number[]; weights: number[][] };
}

function assertSameTraining({ cpu, onednn }: Training): void {
  for (let i = 0; i < cpu.losses.length; i++)
    assert.ok(Math.abs(cpu.losses[i] - onednn.losses[i]) < 1e-5, `step ${i}: ${onednn.losses[i]} vs ${cpu.losses[i]}`);
  assert.notEqual(cpu.losses[2], cpu.losses[0], 'the loss moves');
  for (const [w, weights] of cpu.weights.entries())
    for (const [i, value] of weights.entries())
      assert.ok(
        Math.abs(onednn.weights[w][i] - value) < 1e-5,
        `weight ${w}[${i}]: ${onednn.weights[w][i]} vs ${value}`,
      );
}

describe('the tfjs-core versions whose internals the backend uses', () => {
  it('are a list that includes the installed tfjs-core', () => {
    assert.ok(TESTED_TFJS_VERSIONS.includes(version_core), `tfjs-core ${version_core} is not in the tested list`);
    assert.ok(supportsTfjsVersion(version_core) && internalsAvailable());
    for (const other of ['4.21.0', '4.22.1', '5.0.0', '']) assert.ok(!supportsTfjsVersion(other), other);
  });

  const skip = !nativeAvailable();

  it('on a tested version: native gradients, deferred Conv2DBackpropInput, no warning', { skip }, () => {
    const { result, warnings } = withTfjsVersion(version_core, training);
    const run = result as Training;
    assert.deepEqual(warnings, []);
    assert.equal(run.backend, 'onednn');
    assert.ok(run.gradientsReplaced);
    assert.ok(
      run.trainingCalls.unaryGrad > 0 && run.trainingCalls.batchNormGrad > 0,
      JSON.stringify(run.trainingCalls),
    );
    assert.equal(run.unusedInputGradientCalls, 0);
    assertSameTraining(run);
  });

  it('on another version: one warning, tfjs gradients, eager Conv2DBackpropInput, same results', { skip }, () => {
    const { result, warnings } = withTfjsVersion('4.99.0', training);
    const run = result as Training;
    assert.equal(warnings.length, 1, warnings.join('\n'));
    assert.match(warnings[0], /^tfjs-backend-onednn: @tensorflow\/tfjs-core 4\.99\.0 .*Results are correct/);
    assert.ok(warnings[0].includes(`(${TESTED_TFJS_VERSIONS.join(', ')})`), 'it names the tested versions');
    assert.equal(run.backend, 'onednn');
    assert.ok(!run.gradientsReplaced, 'no gradient is wrapped');
    assert.deepEqual(run.trainingCalls, { unaryGrad: 0, batchNormGrad: 0 });
    assert.equal(run.unusedInputGradientCalls, 1);
    assertSameTraining(run);
  });
});
