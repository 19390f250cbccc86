import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { defaultPenaltySpec, LayersTask, trainPersistent } from 'persistent-neurons';
import { nativeAvailable } from 'tfjs-backend-onednn';
import { accuracy, crossEntropy } from '../../src/data/images.js';
import { resnet } from '../../src/models/resnet.js';
import { tf } from '../setup.js';

// Labels cycle through the ten classes; the index tensor is freed with the tidy.
const images = (n: number, seed: number) =>
  tf.tidy(() => ({
    x: tf.randomNormal([n, 16, 16, 3], 0, 1, 'float32', seed),
    y: tf.oneHot(
      tf.tensor1d(
        Array.from({ length: n }, (_, i) => (i * 7 + seed) % 10),
        'int32',
      ),
      10,
    ),
  }));

describe('memory over epochs', () => {
  test('persistent training of a BatchNorm ResNet holds a constant number of tensors from epoch to epoch', async () => {
    await tf.setBackend(nativeAvailable() ? 'onednn' : 'cpu');
    const before = tf.memory().numTensors;
    const [train, validation] = [images(48, 1), images(16, 2)];
    const task = new LayersTask({
      build: (seed) => resnet({ inputShape: [16, 16, 3], depth: 8, seed }),
      seed: 1,
      train,
      validation,
      batchSize: 16,
      evalBatchSize: 8,
      loss: crossEntropy,
      metric: { name: 'accuracy', higherIsBetter: true, compute: accuracy },
    });
    const perEpoch: number[][] = [];
    const perTrajectory: number[] = [];
    const result = await trainPersistent(task, {
      trajectories: 3,
      epochs: 4,
      restart: 'theta0',
      optimizer: { name: 'momentum', learningRate: 0.05, momentum: 0.9 },
      penalty: defaultPenaltySpec,
      onEvent: (event) => {
        if (event.type === 'epoch') {
          perEpoch[event.trajectory] ??= [];
          perEpoch[event.trajectory].push(tf.memory().numTensors);
        }
        if (event.type === 'trajectory') perTrajectory.push(tf.memory().numTensors);
      },
    });
    // Within a trajectory nothing accumulates from epoch to epoch (the penalty's own tensors live
    // from the second trajectory on); across trajectories only the solutions do, one tensor per
    // weight (trainable or not), kept for the next penalty.
    for (const counts of perEpoch)
      assert.deepEqual(
        counts,
        counts.map(() => counts[0]),
        `per epoch: ${counts}`,
      );
    const weights = task.weights.length;
    assert.deepEqual(
      perTrajectory.map((count) => count - perTrajectory[0]),
      [0, weights, 2 * weights],
    );
    for (const solution of [...result.solutions, result.theta0]) for (const t of solution.values()) t.dispose();
    task.model.dispose();
    tf.dispose([train.x, train.y, validation.x, validation.y]);
    assert.equal(tf.memory().numTensors, before, 'nothing is left once the results are disposed');
    await tf.setBackend('cpu');
  });
});
