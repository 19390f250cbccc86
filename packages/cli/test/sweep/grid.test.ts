import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { nativeAvailable } from 'tfjs-backend-onednn';
import { FASHION_MNIST_DIR } from '../../src/data/idx.js';
import { experiments, resolveConfig, runExperiment, seedList, UsageError } from '../../src/experiments/index.js';
import { mergeOutputs } from '../../src/experiments/merge.js';
import { cartesian, parseGridOption, pointDirName, resolveSweep } from '../../src/sweep/grid.js';
import { fingerprintDifference, fingerprintDirectory, jobPayloadSchema } from '../../src/sweep/job.js';
import { planSweep, seedGroups } from '../../src/sweep/plan.js';
import { tf } from '../setup.js';

const usage = (pattern: RegExp) => (error: unknown) => error instanceof UsageError && pattern.test(error.message);

describe('grid options', () => {
  test('key=v1,v2 splits on commas, each value JSON where it parses', () => {
    assert.deepEqual(parseGridOption('penalty.lambda=0.01,0.03'), { key: 'penalty.lambda', values: [0.01, 0.03] });
    assert.deepEqual(parseGridOption('penalty.kind=distance,inverse').values, ['distance', 'inverse']);
    assert.deepEqual(parseGridOption('x=true,3,"7",abc').values, [true, 3, '7', 'abc']);
  });

  test('key=[…] takes the elements of a JSON array, for values with commas', () => {
    const axis = parseGridOption('optimizer=[{"name":"sgd","learningRate":0.1},{"name":"adam","learningRate":0.01}]');
    assert.deepEqual(axis.values, [
      { name: 'sgd', learningRate: 0.1 },
      { name: 'adam', learningRate: 0.01 },
    ]);
    assert.deepEqual(parseGridOption('hidden=[[8,8],[16,16]]').values, [
      [8, 8],
      [16, 16],
    ]);
  });

  test('malformed options are one clear UsageError', () => {
    assert.throws(() => parseGridOption('penalty.lambda'), usage(/--grid needs key=v1,v2/));
    assert.throws(() => parseGridOption('x=[1,2'), usage(/--grid x=\[…\] is not a JSON array/));
    assert.throws(() => parseGridOption('x=1,,2'), usage(/an empty value/));
    assert.throws(() => parseGridOption('x=1,1'), usage(/the value 1 is listed twice/));
    assert.throws(() => parseGridOption('x=[]'), usage(/no values/));
  });

  test('the cartesian product: first axis slowest', () => {
    const points = cartesian([
      { key: 'a', values: [1, 2] },
      { key: 'b', values: ['x', 'y', 'z'] },
    ]);
    assert.equal(points.length, 6);
    assert.deepEqual(points[0], { a: 1, b: 'x' });
    assert.deepEqual(points[1], { a: 1, b: 'y' });
    assert.deepEqual(points[5], { a: 2, b: 'z' });
    assert.deepEqual(cartesian([]), [{}]);
  });

  test('every point is validated as pn run validates a config; the first bad one is named', () => {
    const sweep = resolveSweep('kink', 'smoke', undefined, [], ['penalty.lambda=0.01,0.03', 'epochs=5,10']);
    assert.equal(sweep.points.length, 4);
    assert.deepEqual(
      sweep.points.map((p) => [p.run.config.penalty.lambda, p.run.config.epochs]),
      [
        [0.01, 5],
        [0.01, 10],
        [0.03, 5],
        [0.03, 10],
      ],
    );
    assert.equal(sweep.points[1].label, 'penalty.lambda=0.01 epochs=10');
    assert.throws(
      () => resolveSweep('kink', 'smoke', undefined, [], ['penalty.lambda=0.01,-1']),
      usage(/^grid point penalty.lambda=-1: invalid kink config: penalty.lambda/),
    );
    assert.throws(
      () => resolveSweep('kink', 'smoke', undefined, [], ['penalty.lamda=0.01']),
      usage(/unknown key "penalty.lamda"/),
    );
    assert.throws(
      () => resolveSweep('kink', 'smoke', undefined, ['epochs=3'], ['epochs=5,10']),
      usage(/epochs is set by both --set and --grid/),
    );
    assert.throws(
      () => resolveSweep('kink', 'smoke', undefined, [], ['epochs=5', 'epochs=6']),
      usage(/--grid epochs is given twice/),
    );
    assert.throws(() => resolveSweep('mnist-gan', 'smoke', undefined, [], []), usage(/unknown experiment/));
  });

  test('point directories: numbered, file-system safe', () => {
    assert.equal(pointDirName({ index: 3, values: { 'penalty.lambda': 0.01 } }, 12), '03-penalty.lambda=0.01');
    assert.equal(
      pointDirName({ index: 1, values: { optimizer: { name: 'sgd', learningRate: 0.1 } } }, 2),
      '1-optimizer=-name-sgd-learningRate-0.1',
    );
    assert.equal(pointDirName({ index: 1, values: {} }, 1), '1');
  });
});

describe('jobs', () => {
  const version = '0.0.0+test';
  const plan = (name: string, grid: string[], sets: string[] = []) => {
    const { base, points } = resolveSweep(name, 'smoke', undefined, sets, grid);
    return { points, plan: planSweep('0123456789ab', base.experiment, points, version, () => null) };
  };

  test('a baseline that a grid axis does not affect runs once and serves every point', () => {
    const { plan: p } = plan('kink', ['penalty.lambda=0.01,0.03,0.1']);
    // standard, standard-long and reinit ignore the penalty; persistent runs per λ. kink trains all seeds as one job.
    assert.equal(p.jobs.length, 3 + 3);
    const byMethod = (method: string) => p.jobs.filter((job) => job.payload.method === method);
    for (const method of ['standard', 'standard-long', 'reinit'])
      assert.deepEqual(byMethod(method)[0].points, [1, 2, 3]);
    assert.equal(byMethod('persistent').length, 3);
    for (const [, ids] of p.pointJobs) assert.equal(ids.length, 4);
    assert.deepEqual(byMethod('reinit')[0].payload.seeds, [1, 2, 3, 4]);
  });

  test('standard ignores K; standard-long runs K·E epochs, so K=2,E=4 and K=4,E=2 share it', () => {
    const { plan: p } = plan('kink', ['trajectories=2,4']);
    assert.equal(p.jobs.filter((job) => job.payload.method === 'standard').length, 1);
    assert.equal(p.jobs.filter((job) => job.payload.method === 'reinit').length, 2);
    const { plan: q } = plan('kink', ['trajectories=2,4', 'epochs=4,2']);
    const longs = q.jobs.filter((job) => job.payload.method === 'standard-long');
    assert.equal(longs.length, 3, 'epochs 8, 16 and 4 (K·E = 2·4 = 4·2)');
  });

  test('image experiments: one job per method and seed; ids depend on the project version', () => {
    const resnet = experiments.resnet;
    assert.equal(resnet.seedsPerTask, 1);
    assert.equal(experiments.kink.seedsPerTask, 'all');
    assert.equal(experiments.toy2d.seedsPerTask, 'all');
    assert.deepEqual(seedGroups(resnet, [1, 2, 3]), [[1], [2], [3]]);
    const { points, plan: p } = plan('resnet', ['penalty.lambda=0.01,0.03']);
    const config = points[0].run.config;
    // Baselines shared; persistent, persistent-conv and persistent-classifier per λ; two seeds each.
    assert.equal(p.jobs.length, 3 * 2 + 3 * 2 * 2);
    assert.equal(p.pointJobs.get(1)?.length, config.methods.length * seedList(config).length);
    for (const job of p.jobs) jobPayloadSchema.parse(job.payload);
    const other = planSweep('0123456789ab', experiments.resnet, points, '0.0.0+other', () => null);
    assert.equal(
      p.jobs.filter((job) => other.jobs.some((o) => o.id === job.id)).length,
      0,
      'another version: other ids',
    );
  });

  test('data fingerprints name what differs', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pn-fp-'));
    writeFileSync(join(dir, 'a.bin'), 'aaaa');
    writeFileSync(join(dir, 'b.bin'), 'bb');
    const seen = fingerprintDirectory(dir);
    assert.ok(seen);
    assert.equal(fingerprintDifference(seen, fingerprintDirectory(dir)), null);
    writeFileSync(join(dir, 'b.bin'), 'bc');
    assert.match(fingerprintDifference(seen, fingerprintDirectory(dir)) ?? '', /another b.bin/);
    writeFileSync(join(dir, 'b.bin'), 'bcd');
    assert.match(fingerprintDifference(seen, fingerprintDirectory(dir)) ?? '', /b.bin of 3 bytes, not 2/);
    assert.equal(fingerprintDifference(seen, fingerprintDirectory(join(dir, 'nope'))), 'is missing');
  });
});

describe('a point from its jobs equals the whole run (in process)', () => {
  // kink and toy2d train all seeds as one model (toy2d merges its own details); lenet5-init is the
  // image experiments' factory with a probe's details, one seed per job (on onednn: minutes on cpu).
  const lenet = !existsSync(FASHION_MNIST_DIR)
    ? `${FASHION_MNIST_DIR} is absent (apt-get install dataset-fashion-mnist)`
    : !nativeAvailable()
      ? 'the onednn addon is not built (bash scripts/setup.sh)'
      : false;
  const cases: [string, string, string | false][] = [
    ['kink', 'cpu', false],
    ['toy2d', 'cpu', false],
    ['lenet5-init', 'onednn', lenet],
  ];
  for (const [name, backend, skip] of cases) {
    test(`${name} (${backend}): one run per method and seed group, merged, is one run of all`, { skip }, async () => {
      await tf.setBackend(backend);
      const run = resolveConfig(name, 'smoke', undefined, ['penalty.lambda=0.05']);
      const whole = await runExperiment(run, { outDir: mkdtempSync(join(tmpdir(), 'pn-merge-')) });
      const { experiment, config } = run;
      const parts = [];
      for (const method of config.methods) {
        for (const seeds of seedGroups(experiment, seedList(config))) {
          const part = { ...config, methods: [method] };
          parts.push(
            await experiment.run(part, {
              outDir: mkdtempSync(join(tmpdir(), 'pn-merge-')),
              prepared: experiment.prepare?.(part),
              scopes: experiment.scopes?.(part),
              seeds,
            }),
          );
        }
      }
      const merged = JSON.parse(JSON.stringify(mergeOutputs(experiment, parts)));
      assert.deepEqual(merged.runs, whole.runs);
      assert.deepEqual(merged.details, whole.details);
      assert.deepEqual(merged.metric, whole.metric);
    });
  }
});
