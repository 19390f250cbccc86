import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  defaultPenaltySpec,
  disposeSnapshot,
  type Granularity,
  methodOptions,
  type OptimizerSpec,
  type TrainResult,
  trainPersistent,
} from '../../src/core/index.js';
import { KinkTask, kinkDefaults } from '../../src/tasks/kink.js';
import { makeKinkData } from '../../src/tasks/kink-data.js';
import { tf } from '../setup.js';

const data = makeKinkData({ ...kinkDefaults.data, train: 32, validation: 32, test: 32 });
const seeds = [1, 2, 3];
const optimizers: OptimizerSpec[] = [
  { name: 'sgd', learningRate: 0.05 },
  { name: 'momentum', learningRate: 0.05, momentum: 0.9 },
  { name: 'adam', learningRate: 0.01 },
];
const granularities: Granularity[] = ['neuron', 'layer', 'global'];

/**
 * Persistent training of the replicated kink net, K = 3; with `divergeReplica`, that replica's
 * loss is NaN throughout the first trajectory, so the first solution ends at NaN weights for it only.
 */
async function train(
  optimizer: OptimizerSpec,
  granularity: Granularity,
  divergeReplica?: number,
): Promise<TrainResult> {
  const task = new KinkTask(data, [8, 8], seeds, 16);
  if (divergeReplica !== undefined) {
    const loss = task.loss.bind(task);
    const startEpoch = task.startEpoch.bind(task);
    let trajectory = 0;
    task.startEpoch = (k, epoch) => {
      trajectory = k;
      startEpoch(k, epoch);
    };
    const mask = tf.keep(tf.tensor1d(seeds.map((_, r) => (r === divergeReplica ? Number.NaN : 1))));
    task.loss = (step) => (trajectory === 0 ? tf.tidy(() => tf.mul(loss(step), mask)) : loss(step));
  }
  try {
    return await trainPersistent(
      task,
      methodOptions('persistent', {
        trajectories: 3,
        epochs: 3,
        optimizer,
        penalty: { ...defaultPenaltySpec, granularity, lambda: 0.05 },
      }),
    );
  } finally {
    task.dispose();
  }
}

describe('a replica that diverges in a batched persistent run', () => {
  for (const optimizer of optimizers) {
    for (const granularity of granularities) {
      test(`${optimizer.name}, ${granularity}: its NaN solution is left out, the others train as if it had not diverged`, async () => {
        const clean = await train(optimizer, granularity);
        const damaged = await train(optimizer, granularity, 0);
        const [first, ...later] = damaged.records[0];
        assert.ok(first.diverged, 'the first trajectory of replica 0 diverged');
        for (const record of later) {
          assert.ok(!record.diverged && Number.isFinite(record.valMetric), JSON.stringify(record));
          // Solution 0 is NaN for this replica; its distance says so, and the penalty ignored it.
          assert.equal(record.distanceToPrevious[0], Number.NaN);
        }
        assert.notEqual(damaged.selected[0], 0);
        // Replicas are independent: the others' trajectories are exactly those of the clean run.
        for (const r of [1, 2]) {
          for (const [k, record] of damaged.records[r].entries()) {
            const reference = clean.records[r][k];
            assert.ok(
              Math.abs(record.valMetric - reference.valMetric) <= 1e-6 * Math.max(1, Math.abs(reference.valMetric)),
              `replica ${r}, trajectory ${k}: ${record.valMetric} vs ${reference.valMetric}`,
            );
          }
        }
        for (const result of [clean, damaged]) {
          result.solutions.forEach(disposeSnapshot);
          disposeSnapshot(result.theta0);
        }
      });
    }
  }
});
