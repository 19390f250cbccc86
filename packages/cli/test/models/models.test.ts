import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as tfl from '@tensorflow/tfjs-layers';
import { alexnet, lenet5, mlp, resnet, smallCnn } from '../../src/models/index.js';
import { tf } from '../setup.js';

const trainableCount = (model: tfl.LayersModel) =>
  model.trainableWeights.reduce((n, w) => n + w.shape.reduce((a: number, b) => a * (b ?? 1), 1), 0);

/** One SGD step on a fixed batch; returns the loss before and after. */
function lossBeforeAfter(
  model: tfl.LayersModel,
  input: number[],
  classes: number,
  learningRate: number,
): [number, number] {
  const x = tf.randomNormal([4, ...input], 0, 1, 'float32', 3);
  const y = tf.oneHot(tf.tensor1d([0, 1, 2, 3], 'int32'), classes);
  const loss = () => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar;
  const before = tf.tidy(() => loss().dataSync()[0]);
  tf.train.sgd(learningRate).minimize(loss);
  const after = tf.tidy(() => loss().dataSync()[0]);
  return [before, after];
}

describe('model zoo', () => {
  test('LeNet-5: 61,706 parameters, named layers, [n, 10] output, a step lowers the loss', () => {
    const model = lenet5({ activation: 'tanh', pooling: 'avg' });
    assert.equal(trainableCount(model), 61_706);
    assert.deepEqual(
      model.layers.map((l) => l.name).filter((n) => /conv|fc/.test(n)),
      ['conv1', 'conv2', 'fc1', 'fc2', 'fc3'],
    );
    assert.deepEqual(model.outputs[0].shape, [null, 10]);
    const [before, after] = lossBeforeAfter(model, [28, 28, 1], 10, 0.05);
    assert.ok(after < before, `${after} < ${before}`);
    // The classic 32×32 input: no padding needed, the same parameter count.
    assert.equal(trainableCount(lenet5({ inputShape: [32, 32, 1], pooling: 'max', activation: 'relu' })), 61_706);
  });

  test('AlexNet (CIFAR): 2,472,266 parameters, five convolutions', () => {
    const model = alexnet();
    assert.equal(trainableCount(model), 2_472_266);
    assert.equal(model.layers.filter((l) => l.name.startsWith('conv')).length, 5);
    assert.deepEqual(model.outputs[0].shape, [null, 10]);
  });

  test('ResNet-20: 269,722 parameters with option A, more with option B; BatchNorm statistics are not trainable', () => {
    const a = resnet({ depth: 20, shortcut: 'A' });
    assert.equal(trainableCount(a), 269_722);
    const b = resnet({ depth: 20, shortcut: 'B' });
    // Option B adds a 1×1 conv + BatchNorm where the shape changes: 16→32 and 32→64.
    assert.equal(trainableCount(b), 269_722 + 16 * 32 + 2 * 32 + 32 * 64 + 2 * 64);
    assert.ok(a.nonTrainableWeights.some((w) => w.name.includes('moving_mean')));
    assert.deepEqual(a.outputs[0].shape, [null, 10]);
    assert.throws(() => resnet({ depth: 21 }), /6n \+ 2/);
    // Fully convolutional up to the global pool: a small input trains the same weights, fast on tfjs's cpu backend.
    const small = resnet({ depth: 20, shortcut: 'A', inputShape: [8, 8, 3] });
    assert.equal(trainableCount(small), 269_722);
    const [before, after] = lossBeforeAfter(small, [8, 8, 3], 10, 0.05);
    assert.ok(after < before, `${after} < ${before}`);
  });

  test('a ResNet with option-A shortcuts saves and loads in the layers format (custom layer registered)', async () => {
    const model = resnet({ inputShape: [8, 8, 3], seed: 2 });
    let artifacts: tf.io.ModelArtifacts | undefined;
    await model.save(
      tf.io.withSaveHandler(async (saved) => {
        artifacts = saved;
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
    );
    const loaded = await tfl.loadLayersModel(tf.io.fromMemory(artifacts as tf.io.ModelArtifacts));
    const x = tf.randomNormal([2, 8, 8, 3], 0, 1, 'float32', 9);
    const expected = (model.predict(x) as tf.Tensor).dataSync();
    const actual = (loaded.predict(x) as tf.Tensor).dataSync();
    assert.deepEqual(actual, expected);
  });

  test('the small CNN and the MLP', () => {
    assert.equal(trainableCount(smallCnn()), 3 * 3 * 3 * 32 + 32 + 3 * 3 * 32 * 64 + 64 + 4096 * 10 + 10);
    const net = mlp({ sizes: [1, 16, 16, 1] });
    assert.deepEqual(
      net.layers.map((l) => l.name),
      ['hidden1', 'hidden2', 'output'],
    );
    assert.equal(trainableCount(net), 2 * 16 + 17 * 16 + 17);
  });

  test('the same seed gives the same weights, another seed others; poor inits are what they say', () => {
    const w = (model: tfl.LayersModel) => model.getWeights()[0].dataSync();
    assert.deepEqual(w(lenet5({ seed: 4 })), w(lenet5({ seed: 4 })));
    assert.notDeepEqual(w(lenet5({ seed: 4 })), w(lenet5({ seed: 5 })));
    const std = (values: ArrayLike<number>) =>
      Math.sqrt(Array.from(values).reduce((s, v) => s + v * v, 0) / values.length);
    assert.ok(Math.abs(std(w(lenet5({ init: 'tiny' }))) - 0.01) < 0.002);
    assert.ok(Math.abs(std(w(lenet5({ init: 'large' }))) - 1) < 0.2);
  });
});
