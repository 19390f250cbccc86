import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { nativeAvailable } from 'tfjs-backend-onednn';
import { FASHION_MNIST_DIR } from '../../src/data/idx.js';
import { resolveConfig, runExperiment } from '../../src/experiments/index.js';
import { resultsSchema } from '../../src/report/results-schema.js';
import { tf } from '../setup.js';

type Saturation = { method: string; seed: number; trajectory: number; layers: Record<string, number> }[];

// LeNet-5 trains ~500× faster on the native backend; on tfjs's cpu one smoke run takes minutes.
const skip = !existsSync(FASHION_MNIST_DIR)
  ? `${FASHION_MNIST_DIR} is absent (apt-get install dataset-fashion-mnist)`
  : !nativeAvailable()
    ? 'the onednn addon is not built (bash scripts/setup.sh)'
    : false;

describe('lenet5-init on Fashion-MNIST (smoke preset, onednn backend)', { skip }, () => {
  test('a poor (tiny) init: accuracy results, saturation per trajectory, models saved', async () => {
    await tf.setBackend('onednn');
    const dir = mkdtempSync(join(tmpdir(), 'pn-lenet-'));
    const run = resolveConfig('lenet5-init', 'smoke');
    const results = await runExperiment(run, { outDir: dir });
    resultsSchema.parse(JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')));
    assert.equal(results.metric.name, 'accuracy');
    assert.equal(results.environment.backend, 'onednn');
    const seeds = run.config.seeds;
    assert.equal(results.runs.length, 4 * seeds);
    for (const r of results.runs)
      assert.ok(r.final.testMetric! >= 0 && r.final.testMetric! <= 1 && existsSync(join(dir, r.model!)));
    // One saturation record per method, seed and trajectory, a fraction per hidden layer.
    const saturation = (results.details as { saturation: Saturation }).saturation;
    const trajectories = results.runs.reduce((n, r) => n + r.trajectories.length, 0);
    assert.equal(saturation.length, trajectories);
    for (const { layers } of saturation) {
      assert.deepEqual(Object.keys(layers), ['conv1', 'conv2', 'fc1', 'fc2']);
      for (const fraction of Object.values(layers)) assert.ok(fraction >= 0 && fraction <= 1);
    }
    // N(0, 0.01²) kernels keep tanh units near 0: nothing saturates.
    assert.ok(saturation.every(({ layers }) => layers.conv1 < 0.05));
  });

  test('a large-variance init saturates most tanh units', async () => {
    await tf.setBackend('onednn');
    const results = await runExperiment(
      resolveConfig('lenet5-init', 'smoke', 1, ['init="large"', 'methods=["standard"]']),
      {
        outDir: mkdtempSync(join(tmpdir(), 'pn-lenet-')),
      },
    );
    const [first] = (results.details as { saturation: Saturation }).saturation;
    assert.ok(first.layers.conv2 > 0.5 && first.layers.fc1 > 0.5, JSON.stringify(first.layers));
  });
});
