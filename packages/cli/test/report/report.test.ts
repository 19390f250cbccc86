import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { learningCurvesSpec, metricPerMethodSpec } from '../../src/report/plots.js';
import { renderReport } from '../../src/report/report.js';
import { type Results, resultsSchema } from '../../src/report/results-schema.js';

/** Two methods × two seeds; persistent has K = 2 trajectories of E = 4 epochs with curves at epochs 2 and 4. */
function results(withCurves: boolean): Results {
  const record = (trajectory: number, val: number) => ({
    trajectory,
    trainLoss: val * 2,
    valMetric: val,
    testMetric: val + 0.1,
    diverged: false,
    epochs: 4,
    distanceToTheta0: 1,
    distanceToPrevious: Array.from({ length: trajectory }, () => 1),
    ...(withCurves ? { curve: { epochs: [2, 4], trainLoss: [val * 3, val * 2], valMetric: [val * 1.5, val] } } : {}),
  });
  const run = (method: string, seed: number, vals: number[], selected: number) => ({
    seed,
    method,
    trajectories: vals.map((v, k) => record(k, v)),
    selectedTrajectory: selected,
    final: { trainLoss: vals[selected] * 2, valMetric: vals[selected], testMetric: vals[selected] + 0.1 },
  });
  const stats = { mean: 0.5, std: 0.1, median: 0.5, n: 2 };
  return resultsSchema.parse({
    schemaVersion: 2,
    experiment: 'anything',
    preset: 'smoke',
    seeds: [1, 2],
    config: { epochs: 4, trajectories: 2 },
    metric: { name: 'loss', higherIsBetter: false },
    runs: [
      run('standard-long', 1, [0.4], 0),
      run('standard-long', 2, [0.5], 0),
      run('persistent', 1, [0.6, 0.3], 1),
      run('persistent', 2, [0.5, 0.7], 0),
    ],
    summary: {
      'standard-long': { runs: 2, diverged: 0, valMetric: stats, testMetric: stats },
      persistent: { runs: 2, diverged: 0, valMetric: stats, testMetric: stats },
    },
    paired: null,
    details: {},
    environment: {
      backend: 'cpu',
      threads: 1,
      node: 'v20',
      tfjs: '4.22.0',
      platform: 'linux x64',
      cpus: 2,
      cpuModel: 'cpu',
    },
    startedAt: '2026-01-01T00:00:00.000Z',
    finishedAt: '2026-01-01T00:00:01.000Z',
    durationSeconds: 1,
  });
}

type Rows = {
  values: { method: string; seed: number; trajectory: number; epoch: number; value: number; selected?: boolean }[];
};

describe('the generic report', () => {
  test('learning curves: x is the epoch of the method run, each seed’s selected trajectory marked', () => {
    assert.equal(learningCurvesSpec(results(false)), null, 'results without curves have no panel');
    const spec = learningCurvesSpec(results(true)) as unknown as { vconcat: { data: Rows }[] };
    const [validation, training] = spec.vconcat.map((panel) => panel.data.values);
    const persistentSeed1 = validation.filter((r) => r.method === 'persistent' && r.seed === 1);
    // Trajectory 2 of E = 4 epochs covers epochs 5..8 of the run.
    assert.deepEqual(
      persistentSeed1.map((r) => [r.trajectory, r.epoch, r.value]),
      [
        [1, 2, 0.6 * 1.5],
        [1, 4, 0.6],
        [2, 6, 0.3 * 1.5],
        [2, 8, 0.3],
      ],
    );
    const marked = validation.filter((r) => r.selected).map((r) => [r.method, r.seed, r.trajectory, r.epoch]);
    assert.deepEqual(marked, [
      ['standard-long', 1, 1, 4],
      ['standard-long', 2, 1, 4],
      ['persistent', 1, 2, 8],
      ['persistent', 2, 1, 4],
    ]);
    assert.equal(training.length, validation.length);
  });

  test('validation and test panels have their own y scales and axes', () => {
    const spec = metricPerMethodSpec(results(true)) as unknown as { resolve: unknown };
    assert.deepEqual(spec.resolve, { scale: { y: 'independent' }, axis: { y: 'independent' } });
  });

  test('renders the figures it is handed and an optional note; learning curves when recorded', async () => {
    const html = await renderReport(results(true), {
      figures: [
        { title: 'A figure of its own', caption: 'caption', spec: { mark: 'point', data: { values: [{ a: 1 }] } } },
      ],
      note: 'a note',
    });
    assert.ok(html.includes('A figure of its own') && html.includes('a note') && html.includes('Learning curves'));
    assert.ok(!html.includes('could not be rendered'));
    assert.equal(html.split('<svg').length - 1, 4, 'final metric, learning curves, per trajectory, and its own');
    const old = await renderReport(results(false));
    assert.ok(!old.includes('Learning curves'));
  });

  test('src/report names no experiment', () => {
    const dir = fileURLToPath(new URL('../../../src/report/', import.meta.url));
    for (const file of readdirSync(dir)) {
      const text = readFileSync(`${dir}${file}`, 'utf8');
      assert.doesNotMatch(text, /toy2d|kink|lenet|alexnet|resnet/i, file);
    }
  });
});

describe('paired statistics', () => {
  test('a paired t-test: the interval and p of a worked example; too few seeds give none', async () => {
    const { describePaired, holm } = await import('../../src/experiments/summary.js');
    // Differences 0.1, 0.2, 0.15, 0.05, 0.3: mean 0.16, sd 0.096177, se 0.043012, t = 3.7199 on 4
    // degrees of freedom; t(0.975, 4) = 2.776445, so the interval is 0.16 ± 0.119420; p = 0.0205.
    const s = describePaired([0.1, 0.2, 0.15, 0.05, 0.3]);
    assert.ok(Math.abs((s.mean as number) - 0.16) < 1e-12);
    assert.ok(Math.abs((s.ci95 as [number, number])[0] - 0.04058) < 1e-5);
    assert.ok(Math.abs((s.ci95 as [number, number])[1] - 0.27942) < 1e-5);
    assert.ok(Math.abs((s.p as number) - 0.0205) < 1e-4);
    assert.deepEqual(describePaired([0.3]).ci95, null);
    assert.deepEqual(describePaired([0.2, 0.2, null]).ci95, [0.2, 0.2]);
    // Holm: sorted 0.01·3, 0.03·2, 0.04·1, made monotone; nulls are not counted.
    assert.deepEqual(holm([0.01, 0.04, null, 0.03]), [0.03, 0.06, null, 0.06]);
  });

  test('the verdict follows the interval: no detectable difference where it spans 0', async () => {
    const { verdict } = await import('../../src/report/format.js');
    assert.equal(verdict({ ci95: [-0.1, 0.2] }, true), 'no detectable difference');
    assert.equal(verdict({ ci95: [0.1, 0.2] }, true), 'better');
    assert.equal(verdict({ ci95: [0.1, 0.2] }, false), 'worse');
    assert.equal(verdict({ ci95: null }, false), 'too few seeds');
  });
});
