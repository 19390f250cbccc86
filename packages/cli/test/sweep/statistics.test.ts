import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { sweepTable } from '../../src/cli/commands/sweep.js';
import { describePaired, holm } from '../../src/experiments/summary.js';
import { renderSweepReport } from '../../src/sweep/report.js';
import { type SweepFile, type SweepPoint, sweepFileSchema } from '../../src/sweep/state.js';
import { adjustAcrossGrid, gridComparisons } from '../../src/sweep/statistics.js';

const stats = (values: number[]) => {
  const d = describePaired(values);
  return { mean: d.mean, std: d.std, median: d.median, n: d.n };
};

/** A done point of a λ grid whose persistent method differs from the baselines by `vsReinit` and `vsLong` per seed. */
function point(index: number, lambda: number, vsReinit: number[], vsLong: number[]): SweepPoint {
  const accuracy = (shift: number) => stats([0.8, 0.82, 0.79, 0.81, 0.8].map((v) => v + shift));
  return {
    index,
    label: `penalty.lambda=${lambda}`,
    values: { 'penalty.lambda': lambda },
    dir: `points/${index}-penalty.lambda=${lambda}`,
    config: {},
    jobs: [],
    status: 'done',
    summary: {
      'standard-long': { valMetric: accuracy(0), testMetric: accuracy(0) },
      reinit: { valMetric: accuracy(-0.01), testMetric: accuracy(-0.01) },
      persistent: { valMetric: accuracy(0.01), testMetric: accuracy(0.01) },
    },
    pairedVsReinit: { persistent: { valMetric: describePaired(vsReinit), testMetric: describePaired(vsReinit) } },
    pairedVsStandardLong: { persistent: { valMetric: describePaired(vsLong), testMetric: describePaired(vsLong) } },
  };
}

function sweepOf(points: SweepPoint[]): SweepFile {
  return sweepFileSchema.parse({
    format: 1,
    id: '0123456789ab',
    experiment: 'lenet5-init',
    preset: 'quick',
    base: {},
    grid: [{ key: 'penalty.lambda', values: points.map((p) => p.values['penalty.lambda']) }],
    metric: { name: 'accuracy', higherIsBetter: true },
    status: 'done',
    queue: { embedded: true, url: 'redis://127.0.0.1:1' },
    version: '0.0.0',
    lockHash: null,
    environment: { backend: 'cpu', threads: 1, node: 'v20', tfjs: '4.22.0', platform: 'linux', cpus: 2, cpuModel: 'x' },
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
    finishedAt: null,
    totals: { points: points.length, jobs: 0, done: 0, failed: 0, computeSeconds: 0, bytes: 0 },
    points,
    jobs: {},
  });
}

describe('sweep statistics across the grid', () => {
  const gain = [0.03, 0.04, 0.035, 0.05, 0.045];
  const noise = [0.01, -0.02, 0.015, -0.005, 0.0];
  const loss = [-0.05, -0.06, -0.04, -0.055, -0.05];

  test('pHolmGrid is Holm over every done point × baseline × method of a split; pending points are left out', () => {
    const pending: SweepPoint = { ...point(3, 0.1, gain, gain), status: 'pending' };
    const sweep = sweepOf([point(1, 0.01, gain, noise), point(2, 0.03, noise, loss), pending]);
    adjustAcrossGrid(sweep);
    const val = gridComparisons(sweep).filter((c) => c.split === 'valMetric');
    assert.deepEqual(
      val.map((c) => [c.point.index, c.baseline, c.method]),
      [
        [1, 'reinit', 'persistent'],
        [1, 'standard-long', 'persistent'],
        [2, 'reinit', 'persistent'],
        [2, 'standard-long', 'persistent'],
      ],
    );
    const expected = holm(val.map((c) => c.stats.p ?? null));
    assert.deepEqual(
      val.map((c) => c.stats.pHolmGrid),
      expected,
    );
    // The grid correction is at least the raw p, and larger than it for all but the largest p.
    for (const c of val) assert.ok((c.stats.pHolmGrid as number) >= (c.stats.p as number));
    assert.ok((val[0].stats.pHolmGrid as number) > (val[0].stats.p as number));
    assert.equal(pending.pairedVsReinit?.persistent.valMetric.pHolmGrid, undefined, 'a pending point is not adjusted');
    // It survives sweep.json's schema.
    const again = sweepFileSchema.parse(JSON.parse(JSON.stringify(sweep)));
    assert.equal(again.points[0].pairedVsReinit?.persistent.valMetric.pHolmGrid, val[0].stats.pHolmGrid);
  });

  test('a single seed has no p: it stays null and is not counted in the family', () => {
    const sweep = sweepOf([point(1, 0.01, [0.02], [0.01]), point(2, 0.03, gain, loss)]);
    adjustAcrossGrid(sweep);
    const val = gridComparisons(sweep).filter((c) => c.split === 'valMetric');
    assert.deepEqual(
      val.slice(0, 2).map((c) => c.stats.pHolmGrid),
      [null, null],
    );
    assert.deepEqual(
      val.slice(2).map((c) => c.stats.pHolmGrid),
      holm([val[2].stats.p ?? null, val[3].stats.p ?? null]),
    );
  });

  test('pn sweep table and report give both baselines with interval, grid p and verdict', async () => {
    const sweep = sweepOf([point(1, 0.01, gain, noise), point(2, 0.03, noise, loss)]);
    adjustAcrossGrid(sweep);
    const table = sweepTable(sweep);
    assert.match(table, /− reinit \[95% CI\] grid p\s+− standard-long \[95% CI\] grid p/);
    const [first, second] = table.split('\n').filter((line) => /\bpersistent\b/.test(line));
    assert.match(first, /\(better\)/, 'point 1 beats reinit');
    assert.doesNotMatch(first.split('(better)')[1] ?? '', /better|worse/, 'and is within noise of standard-long');
    assert.match(second, /\(worse\)$/, 'point 2 loses to standard-long');
    const html = await renderSweepReport(sweep);
    assert.match(html, /Paired difference to reinit against penalty\.lambda/);
    assert.match(html, /Paired difference to standard-long against penalty\.lambda/);
    assert.equal((html.match(/<svg/g) ?? []).length, 3);
    assert.match(html, /grid p/);
    assert.match(html, /no detectable difference/);
    assert.match(html, /: worse \(n 5\)/);
  });
});
