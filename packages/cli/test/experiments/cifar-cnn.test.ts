import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import {
  disposeSnapshot,
  layerOf,
  layersModelWeights,
  methodOptions,
  type PenaltySpec,
  PersistentPenalty,
  type Snapshot,
  takeSnapshot,
} from 'persistent-neurons';
import { nativeAvailable } from 'tfjs-backend-onednn';
import { DataError } from '../../src/data/errors.js';
import { FASHION_MNIST_DIR } from '../../src/data/idx.js';
import type { ImageSplits } from '../../src/data/images.js';
import { alexnetExperiment } from '../../src/experiments/alexnet/index.js';
import type { ImageConfig, ImageExperiment } from '../../src/experiments/image-classification.js';
import { resolveConfig, runExperiment } from '../../src/experiments/index.js';
import { resnetExperiment } from '../../src/experiments/resnet/index.js';
import { resultsSchema } from '../../src/report/results-schema.js';
import { tf } from '../setup.js';

const SCOPED = ['persistent', 'persistent-conv', 'persistent-classifier'] as const;

/** The smoke config of `experiment` with `--set` values applied. */
function config<C extends ImageConfig>(experiment: ImageExperiment<C, Record<never, never>>, sets: string[] = []): C {
  return resolveConfig(experiment.name, 'smoke', undefined, sets).config as C;
}

describe('scopes: conv and classifier layers of AlexNet and ResNet', () => {
  test('AlexNet: conv1..conv5 and the dense classifier', () => {
    const c = config(alexnetExperiment);
    assert.deepEqual(alexnetExperiment.scopes?.(c), {
      conv: ['conv1', 'conv2', 'conv3', 'conv4', 'conv5'],
      classifier: ['classifier'],
    });
    assert.deepEqual(alexnetExperiment.layers(c), ['conv1', 'conv2', 'conv3', 'conv4', 'conv5', 'classifier']);
  });

  for (const [depth, shortcut] of [
    [20, 'A'],
    [20, 'B'],
    [8, 'A'],
  ] as const) {
    test(`ResNet-${depth}, shortcut ${shortcut}: every convolution's weights and nothing else; BatchNorm in neither`, () => {
      const c = config(resnetExperiment, [`model.depth=${depth}`, `model.shortcut="${shortcut}"`]);
      const scopes = resnetExperiment.scopes?.(c) as Record<string, string[]>;
      const blocks = (depth - 2) / 6;
      const convs = ['conv1'];
      for (let stage = 1; stage <= 3; stage++)
        for (let block = 1; block <= blocks; block++) {
          convs.push(`stage${stage}_block${block}_conv1`, `stage${stage}_block${block}_conv2`);
          if (shortcut === 'B' && stage > 1 && block === 1) convs.push(`stage${stage}_block1_shortcut`);
        }
      assert.deepEqual([...scopes.conv].sort(), convs.sort());
      assert.deepEqual(scopes.classifier, ['fc']);
      const model = resnetExperiment.build(c, 1);
      const weights = layersModelWeights(model);
      const inScope = (scope: string) => weights.filter((w) => scopes[scope].includes(layerOf(w.name)));
      // Every convolution kernel (rank 4) is in `conv`; `conv` holds kernels only (ResNet's convolutions have no bias).
      assert.deepEqual(
        inScope('conv').map((w) => w.name),
        weights.filter((w) => w.variable.rank === 4).map((w) => w.name),
      );
      assert.deepEqual(
        inScope('classifier').map((w) => w.name),
        ['fc/kernel', 'fc/bias'],
      );
      const rest = weights.filter((w) => !scopes.conv.includes(layerOf(w.name)) && layerOf(w.name) !== 'fc');
      assert.ok(rest.length > 0 && rest.every((w) => /_?bn\d?\//.test(w.name) || /shortcut_bn\//.test(w.name)));
      // The penalty may name every layer with trainable weights, BatchNorm included.
      assert.deepEqual(
        resnetExperiment.layers(c),
        model.layers.filter((l) => l.trainableWeights.length).map((l) => l.name),
      );
      model.dispose();
    });
  }

  test('weight names do not depend on what the process built before (checkpoints stay readable)', () => {
    const c = config(resnetExperiment);
    const names = () => {
      const model = resnetExperiment.build(c, 3);
      const list = layersModelWeights(model).map((w) => w.name);
      model.dispose();
      return list;
    };
    const first = names();
    assert.deepEqual(names(), first);
    assert.ok(first.includes('stage1_block1_bn1/moving_mean'));
  });
});

describe('data: CIFAR-10 binary when --data-dir holds it, else MNIST-format padded to 32×32×3', () => {
  test('a CIFAR-10 directory is read as it is; a directory with neither format is refused', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pn-cifar-'));
    // 1 label byte + 3072 pixel bytes per record: 20 images per training batch, 40 test images.
    const batch = (count: number) =>
      Buffer.concat(Array.from({ length: count }, (_, i) => Buffer.from([i % 10, ...new Uint8Array(3072).fill(i)])));
    for (let i = 1; i <= 5; i++) writeFileSync(join(dir, `data_batch_${i}.bin`), batch(20));
    writeFileSync(join(dir, 'test_batch.bin'), batch(40));
    for (const experiment of [alexnetExperiment, resnetExperiment]) {
      const c = config(experiment, [`data.dir=${JSON.stringify(dir)}`]);
      const { source, splits } = experiment.prepare?.(c) as { source: string; splits: ImageSplits };
      assert.equal(source, 'cifar10');
      assert.deepEqual(splits.train.x.shape, [64, 32, 32, 3]);
      assert.deepEqual(splits.test.y.shape, [32, 10]);
      assert.equal(splits.mean.length, 3, 'statistics per colour channel');
      for (const split of [splits.train, splits.validation, splits.test]) tf.dispose([split.x, split.y]);
    }
    const empty = mkdtempSync(join(tmpdir(), 'pn-empty-'));
    assert.throws(
      () => alexnetExperiment.prepare?.(config(alexnetExperiment, [`data.dir=${JSON.stringify(empty)}`])),
      (error: Error) =>
        error instanceof DataError &&
        error.message.startsWith(
          `${empty} holds neither CIFAR-10 binary batches (data_batch_1..5.bin, test_batch.bin) nor MNIST-format files`,
        ),
    );
    rmSync(dir, { recursive: true });
  });
});

describe('partial persistence penalizes exactly the scope, trainable weights only', () => {
  const gradientTest = <C extends ImageConfig>(experiment: ImageExperiment<C, Record<never, never>>) =>
    test(`${experiment.name}: the penalty's gradient after a first solution`, () => {
      const c = config(experiment);
      const scopes = experiment.scopes?.(c) as Record<string, string[]>;
      const model = experiment.build(c, 1);
      const weights = layersModelWeights(model);
      const theta0 = takeSnapshot(weights);
      // θ*_1 differs from θ0 in every weight, moving statistics too, as a trained solution does.
      const solution: Snapshot = new Map(
        [...theta0].map(([name, t], i) => [name, tf.keep(tf.add(t, tf.randomNormal(t.shape, 0, 0.01, 'float32', i)))]),
      );
      // What the trainer does when trajectory 2 starts: back at θ0, a penalty over the trainable weights.
      const trainable = weights.filter((w) => w.trainable);
      const current = new Map(weights.map((w) => [w.name, w.variable as tf.Tensor]));
      const byVariable = new Map(trainable.map((w) => [w.variable.name, w.name]));
      for (const method of SCOPED) {
        const penalty = new PersistentPenalty({
          theta0,
          previousSolutions: [solution],
          spec: methodOptions(method, { ...c, scopes }).penalty as PenaltySpec,
          weightNames: trainable.map((w) => w.name),
        });
        const { value, grads } = tf.variableGrads(
          () => penalty.value(current, 0),
          trainable.map((w) => w.variable),
        );
        const pushed = Object.entries(grads)
          .filter(([, g]) => tf.norm(g).dataSync()[0] > 0)
          .map(([variable]) => byVariable.get(variable) as string);
        const expected = trainable
          .filter(
            (w) => method === 'persistent' || scopes[method.slice('persistent-'.length)].includes(layerOf(w.name)),
          )
          .map((w) => w.name);
        assert.ok(expected.length > 0 && expected.length <= trainable.length);
        assert.deepEqual(pushed.sort(), [...expected].sort(), method);
        assert.deepEqual(penalty.persistentWeights.sort(), [...expected].sort());
        assert.ok(value.dataSync()[0] < 0, 'the distance penalty is −λ Σ d');
        penalty.dispose();
        tf.dispose([value, ...Object.values(grads)]);
      }
      assert.equal(
        weights.some((w) => !w.trainable),
        experiment.name === resnetExperiment.name,
        'ResNet has non-trainable moving statistics, AlexNet none',
      );
      disposeSnapshot(theta0);
      disposeSnapshot(solution);
      model.dispose();
    });
  // ResNet has BatchNorm: γ and β are penalized by `persistent`, the moving statistics never.
  gradientTest(resnetExperiment);
  gradientTest(alexnetExperiment);
});

// The native backend trains these models far faster than tfjs's cpu.
const skip = !existsSync(FASHION_MNIST_DIR)
  ? `${FASHION_MNIST_DIR} is absent (apt-get install dataset-fashion-mnist)`
  : !nativeAvailable()
    ? 'the onednn addon is not built (bash scripts/setup.sh)'
    : false;

describe('alexnet and resnet on padded Fashion-MNIST (smoke presets, onednn backend)', { skip }, () => {
  for (const name of ['alexnet', 'resnet']) {
    test(`${name}: every method, full and partial persistence, end to end`, async () => {
      await tf.setBackend('onednn');
      // AlexNet's checkpoints and models take 10 MB each: the directory goes when the test ends.
      const dir = mkdtempSync(join(tmpdir(), `pn-${name}-`));
      try {
        const run = resolveConfig(name, 'smoke');
        const results = await runExperiment(run, { outDir: dir });
        resultsSchema.parse(JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')));
        const methods = ['standard', 'standard-long', 'reinit', ...SCOPED];
        assert.deepEqual(Object.keys(results.summary), methods);
        assert.deepEqual(Object.keys(results.pairedVsReinit ?? {}), SCOPED);
        assert.deepEqual(results.paired, results.pairedVsReinit?.persistent);
        assert.equal(results.runs.length, methods.length * run.config.seeds);
        assert.deepEqual(results.details.data, { source: 'mnist', dir: FASHION_MNIST_DIR });
        for (const r of results.runs) {
          assert.ok(r.final.testMetric! >= 0 && r.final.testMetric! <= 1);
          assert.ok(existsSync(join(dir, r.model!)), r.model);
        }
        // Before any solution exists there is no penalty: every persistent method's first
        // trajectory is the standard one, bit for bit.
        for (const seed of [1, 2]) {
          const of = (method: string) => results.runs.find((r) => r.method === method && r.seed === seed)!;
          for (const method of SCOPED) assert.deepEqual(of(method).trajectories[0], of('standard').trajectories[0]);
        }
        const html = readFileSync(join(dir, 'report.html'), 'utf8');
        for (const method of SCOPED) assert.ok(html.includes(`${method} − reinit`), method);
      } finally {
        rmSync(dir, { recursive: true, force: true });
        await tf.setBackend('cpu');
      }
    });
  }
});
