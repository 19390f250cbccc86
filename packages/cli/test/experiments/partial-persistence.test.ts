import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { defaultPenaltySpec, type Method, methodOptions, parseMethod } from 'persistent-neurons';
import { summaryTable } from '../../src/cli/format.js';
import { pairedVs, resolveConfig, summarize, UsageError } from '../../src/experiments/index.js';
import { renderReport } from '../../src/report/report.js';
import { type Results, type RunRecord, resultsSchema } from '../../src/report/results-schema.js';
import '../setup.js';

const settings = {
  trajectories: 3,
  epochs: 2,
  optimizer: { name: 'sgd', learningRate: 0.1 } as const,
  penalty: defaultPenaltySpec,
  scopes: { conv: ['conv1', 'conv2'], classifier: ['fc'] },
};

describe('method labels: persistent-<scope> is partial persistence', () => {
  test('labels parse into a method and a scope', () => {
    assert.deepEqual(parseMethod('persistent'), { method: 'persistent' });
    assert.deepEqual(parseMethod('standard-long'), { method: 'standard-long' });
    assert.deepEqual(parseMethod('persistent-conv'), { method: 'persistent', scope: 'conv' });
    assert.deepEqual(parseMethod('persistent-last-block'), { method: 'persistent', scope: 'last-block' });
    for (const bad of ['persistent-', 'persistent_conv', 'Persistent-conv', 'persistent-Conv', 'reinit-conv', ''])
      assert.equal(parseMethod(bad), undefined, bad);
  });

  test('a scoped method penalizes the scope’s layers; plain persistent keeps penalty.layers', () => {
    assert.deepEqual(methodOptions('persistent-conv', settings).penalty?.layers, ['conv1', 'conv2']);
    assert.deepEqual(methodOptions('persistent-classifier', settings), {
      trajectories: 3,
      epochs: 2,
      optimizer: settings.optimizer,
      restart: 'theta0',
      penalty: { ...defaultPenaltySpec, layers: ['fc'] },
    });
    assert.equal(methodOptions('persistent', settings).penalty?.layers, undefined);
    const chosen = { ...settings, penalty: { ...defaultPenaltySpec, layers: ['conv2'] } };
    assert.deepEqual(methodOptions('persistent', chosen).penalty?.layers, ['conv2']);
    assert.deepEqual(methodOptions('persistent-classifier', chosen).penalty?.layers, ['fc']);
    assert.throws(() => methodOptions('persistent-fc', settings), /no persistence scope "fc".*known: conv, classifier/);
  });
});

describe('config validation of methods and scopes', () => {
  const rejects = (experiment: string, methods: string, message: RegExp) =>
    assert.throws(
      () => resolveConfig(experiment, 'smoke', undefined, [`methods=${methods}`]),
      (error: Error) => error instanceof UsageError && message.test(error.message),
    );

  test('an unknown scope names the experiment’s scopes', () => {
    rejects(
      'resnet',
      '["reinit","persistent-fc"]',
      /^invalid resnet config: methods: no persistence scope "fc" \(persistent-fc\); resnet has persistent-conv, persistent-classifier$/,
    );
    rejects('kink', '["persistent-conv"]', /kink defines none; choose layers with penalty.layers instead/);
  });

  test('an unknown method lists the methods', () => {
    rejects(
      'alexnet',
      '["persistant"]',
      /^invalid alexnet config: methods.0: unknown method "persistant"; choose standard, standard-long, reinit, persistent or persistent-<scope>$/,
    );
    rejects('alexnet', '["reinit","reinit"]', /methods: a method is listed twice/);
    rejects('alexnet', '[]', /methods: /);
  });

  test('every image experiment accepts its scopes', () => {
    for (const experiment of ['alexnet', 'resnet', 'lenet5-init']) {
      const { config } = resolveConfig(experiment, 'smoke', undefined, [
        'methods=["persistent-conv","persistent-classifier"]',
      ]);
      assert.deepEqual(config.methods, ['persistent-conv', 'persistent-classifier']);
    }
  });

  test('pn run: a bad scope is one line and exit code 2', () => {
    const pn = fileURLToPath(new URL('../../../bin/pn.js', import.meta.url));
    const result = spawnSync(
      process.execPath,
      [pn, 'run', 'resnet', '--preset', 'smoke', '--set', 'methods=["persistent-bn"]'],
      { encoding: 'utf8', timeout: 60_000 },
    );
    assert.equal(result.status, 2, result.stderr);
    assert.match(result.stderr, /^pn: invalid resnet config: methods: no persistence scope "bn" \(persistent-bn\)/);
    assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
  });
});

/** A run of `method` on `seed` whose selected trajectory has validation accuracy `val`. */
function run(method: Method, seed: number, val: number): RunRecord {
  const record = {
    trajectory: 0,
    trainLoss: 1,
    valMetric: val,
    testMetric: val - 0.01,
    diverged: false,
    epochs: 2,
    distanceToTheta0: 1,
    distanceToPrevious: [],
  };
  return {
    seed,
    method,
    trajectories: [record],
    selectedTrajectory: 0,
    final: { trainLoss: 1, valMetric: val, testMetric: val - 0.01 },
  };
}

function results(runs: RunRecord[], paired: Partial<Results>): Results {
  return resultsSchema.parse({
    schemaVersion: 2,
    experiment: 'resnet',
    preset: 'quick',
    seeds: [1, 2, 3],
    config: {},
    metric: { name: 'accuracy', higherIsBetter: true },
    runs,
    summary: summarize(runs),
    paired: null,
    ...paired,
    details: {},
    environment: {
      backend: 'onednn',
      threads: 1,
      node: 'v20',
      tfjs: '4.22.0',
      platform: 'linux x64',
      cpus: 2,
      cpuModel: 'cpu',
    },
    startedAt: '2026-01-01T00:00:00.000Z',
    finishedAt: '2026-01-01T00:01:00.000Z',
    durationSeconds: 60,
  });
}

describe('summaries and reports show every persistent variant', () => {
  const accuracy: Partial<Record<Method, number[]>> = {
    reinit: [0.5, 0.6, 0.7],
    persistent: [0.55, 0.6, 0.8],
    'persistent-conv': [0.4, 0.5, 0.6],
    'persistent-classifier': [0.5, 0.6, 0.7],
    standard: [0.3, 0.3, 0.3],
  };
  const runs = Object.entries(accuracy).flatMap(([method, values]) =>
    (values as number[]).map((v, i) => run(method as Method, i + 1, v)),
  );

  test('paired differences to reinit, per persistent method', () => {
    const paired = pairedVs(runs, 'reinit');
    assert.deepEqual(Object.keys(paired), ['persistent', 'persistent-conv', 'persistent-classifier']);
    assert.ok(Math.abs((paired.persistent.valMetric.mean as number) - 0.05) < 1e-12);
    assert.ok(Math.abs((paired['persistent-conv'].valMetric.mean as number) + 0.1) < 1e-12);
    assert.equal(paired['persistent-classifier'].valMetric.mean, 0);
    assert.equal(paired['persistent-conv'].testMetric.n, 3);
    assert.deepEqual(Object.keys(summarize(runs)), Object.keys(accuracy));
    assert.deepEqual(
      pairedVs(
        runs.filter((r) => r.method !== 'reinit'),
        'reinit',
      ),
      {},
    );
  });

  test('the report and the CLI table name each variant; standard first, variants after persistent', async () => {
    const paired = pairedVs(runs, 'reinit');
    const html = await renderReport(results(runs, { paired: paired.persistent, pairedVsReinit: paired }));
    for (const method of Object.keys(accuracy)) assert.ok(html.includes(`<th scope="row">${method}</th>`), method);
    const order = ['standard', 'reinit', 'persistent', 'persistent-classifier', 'persistent-conv'].map((m) =>
      html.indexOf(`<th scope="row">${m}</th>`),
    );
    assert.deepEqual(
      order,
      [...order].sort((a, b) => a - b),
    );
    assert.ok(html.includes('<th scope="row">persistent-conv − reinit</th>'));
    // persistent-conv is 0.1 below reinit on every seed: a zero-width interval, below 0.
    assert.ok(
      html.includes('validation accuracy, persistent-conv against reinit: worse by 0.1 (95% interval [-0.1, -0.1]'),
    );
    assert.ok(html.includes('better on 0 of 3 seeds.'));
    assert.ok(html.includes('validation accuracy, persistent-classifier against reinit: no detectable difference'));
    const table = summaryTable(results(runs, { paired: paired.persistent, pairedVsReinit: paired }));
    for (const method of Object.keys(paired))
      assert.match(table, new RegExp(`${method} − reinit, val accuracy \\(3 seeds\\): mean .*, 95% CI \\[`));
  });

  test('results written before scopes (paired only) still parse and render', async () => {
    const legacy = runs.filter((r) => !r.method.startsWith('persistent-'));
    const old = results(legacy, { paired: pairedVs(legacy, 'reinit').persistent });
    assert.equal(old.pairedVsReinit, undefined);
    const html = await renderReport(old);
    assert.ok(html.includes('<th scope="row">persistent − reinit</th>'));
    assert.ok(html.includes('better on 2 of 3 seeds (1 ties).'));
    assert.match(summaryTable(old), /persistent − reinit, val accuracy \(3 seeds\): mean /);
  });

  test('the results schema refuses a method that is none', () => {
    assert.throws(() => results([run('persistent conv' as Method, 1, 0.5)], {}), /not a method/);
  });
});
