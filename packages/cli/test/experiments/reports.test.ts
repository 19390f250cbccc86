import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { uniform as rng } from 'persistent-neurons';
import { runReport as renderReport } from '../../src/experiments/presentation.js';
import { describe as stats } from '../../src/experiments/summary.js';
import { escapeHtml, formatNumber } from '../../src/report/format.js';
import { type Results, type RunRecord, resultsSchema, type Stats } from '../../src/report/results-schema.js';

/** Set REPORT_TEST_OUT to a directory to keep the rendered fixtures (report-toy2d.html, report-kink.html) for a look. */
const OUT = process.env.REPORT_TEST_OUT;

const METHODS = ['standard', 'standard-long', 'reinit', 'persistent'] as const;
type Method = (typeof METHODS)[number];
const SEEDS = [0, 1, 2, 3];
const K = 3;
const EVIL = '<img src=x onerror=alert(1)>';

/** Runs whose trajectory metrics come from `metric(method, seed, trajectory)` (null = diverged); summary and paired follow. */
function buildResults(
  experiment: string,
  metricName: string,
  metric: (method: Method, seed: number, trajectory: number) => { val: number | null; test: number | null },
  details: Record<string, unknown>,
  successThreshold?: number,
): Results {
  const runs: RunRecord[] = [];
  for (const method of METHODS) {
    const trajectories = method === 'reinit' || method === 'persistent' ? K : 1;
    for (const seed of SEEDS) {
      const records = Array.from({ length: trajectories }, (_, trajectory) => {
        const m = metric(method, seed, trajectory);
        return {
          trajectory,
          trainLoss: m.val === null ? null : m.val * 0.8,
          valMetric: m.val,
          testMetric: m.test,
          diverged: m.val === null,
          epochs: 20,
          distanceToTheta0: 1 + trajectory,
          distanceToPrevious: Array.from({ length: trajectory }, (_, j) => trajectory - j),
        };
      });
      let selected = 0;
      records.forEach((r, i) => {
        const best = records[selected].valMetric;
        if (r.valMetric !== null && (best === null || r.valMetric < best)) selected = i;
      });
      const sel = records[selected];
      runs.push({
        seed,
        method,
        trajectories: records,
        selectedTrajectory: selected,
        final: { trainLoss: sel.trainLoss, valMetric: sel.valMetric, testMetric: sel.testMetric },
        ...(successThreshold === undefined
          ? {}
          : { success: sel.valMetric !== null && sel.valMetric <= successThreshold }),
      });
    }
  }
  const summary: Results['summary'] = {};
  for (const method of METHODS) {
    const mine = runs.filter((r) => r.method === method);
    summary[method] = {
      runs: mine.length,
      ...(successThreshold === undefined ? {} : { successRate: mine.filter((r) => r.success).length / mine.length }),
      diverged: mine.filter((r) => r.trajectories.some((it) => it.diverged)).length,
      valMetric: stats(mine.map((r) => r.final.valMetric)),
      testMetric: stats(mine.map((r) => r.final.testMetric)),
    };
  }
  const diff = (pick: (r: RunRecord) => number | null) =>
    stats(
      SEEDS.map((seed) => {
        const p = runs.find((r) => r.method === 'persistent' && r.seed === seed);
        const q = runs.find((r) => r.method === 'reinit' && r.seed === seed);
        const a = p ? pick(p) : null;
        const b = q ? pick(q) : null;
        return a === null || b === null ? null : a - b;
      }),
    );
  return resultsSchema.parse({
    schemaVersion: 2,
    experiment,
    preset: 'quick',
    seeds: SEEDS,
    config: {
      experiment,
      preset: 'quick',
      trajectories: K,
      epochs: 20,
      optimizer: { name: 'sgd', learningRate: 0.05 },
      penalty: { kind: 'persistent', strength: 0.5, radius: 0.3 },
      note: EVIL,
    },
    metric: {
      name: metricName,
      higherIsBetter: false,
      ...(successThreshold === undefined ? {} : { successThreshold }),
    },
    runs,
    summary,
    paired: { valMetric: diff((r) => r.final.valMetric), testMetric: diff((r) => r.final.testMetric) },
    details,
    environment: {
      backend: 'onednn',
      threads: null,
      node: 'v20.20.2',
      tfjs: '4.22.0',
      platform: 'linux x64',
      cpus: 16,
      cpuModel: 'Test CPU "Model" <X>',
    },
    startedAt: '2025-01-01T00:00:00.000Z',
    finishedAt: '2025-01-01T00:01:23.000Z',
    durationSeconds: 83.4567,
  });
}

/** A 2-D surface with four basins of different depth, and gradient-descent trajectories into them. */
function toy2dResults(): Results {
  const f = (x: number, y: number) => (x * x - 1) ** 2 + (y * y - 1) ** 2 + 0.3 * x + 0.15 * y;
  const grad = (x: number, y: number): [number, number] => [4 * x * (x * x - 1) + 0.3, 4 * y * (y * y - 1) + 0.15];
  const xs = Array.from({ length: 41 }, (_, i) => -2 + (4 * i) / 40);
  const ys = Array.from({ length: 36 }, (_, i) => -2 + (4 * i) / 35);
  const loss = ys.map((y) => xs.map((x) => f(x, y)));
  const start: [number, number] = [0.05, 0.1];
  const endLoss = new Map<string, number>();
  const trajectories: {
    method: string;
    seed: number;
    trajectory: number;
    points: [number, number][];
    endLoss: number;
  }[] = [];
  for (const method of METHODS) {
    const count = method === 'reinit' || method === 'persistent' ? K : 1;
    for (const seed of SEEDS.slice(0, 3)) {
      for (let trajectory = 0; trajectory < count; trajectory++) {
        const r = rng(seed * 100 + trajectory * 7 + method.length);
        // Persistent pushes each later trajectory away along a different direction; the others just add noise.
        const angle = method === 'persistent' ? (trajectory * 2 * Math.PI) / K + seed : r() * 2 * Math.PI;
        const push = method === 'persistent' && trajectory > 0 ? 0.9 : 0.35;
        let [x, y] = method === 'reinit' ? [start[0] + (r() - 0.5) * 0.6, start[1] + (r() - 0.5) * 0.6] : start;
        const points: [number, number][] = [[x, y]];
        for (let step = 0; step < 120; step++) {
          const [gx, gy] = grad(x, y);
          const decay = Math.exp(-step / 15);
          x -= 0.03 * gx - 0.03 * push * decay * Math.cos(angle) * 4;
          y -= 0.03 * gy - 0.03 * push * decay * Math.sin(angle) * 4;
          points.push([x, y]);
        }
        const l = f(x, y);
        endLoss.set(`${method}/${seed}/${trajectory}`, l);
        trajectories.push({ method, seed, trajectory, points, endLoss: l });
      }
    }
  }
  return buildResults(
    'toy2d',
    'loss',
    (method, seed, trajectory) => {
      const l = endLoss.get(`${method}/${seed}/${trajectory}`) ?? 0.5 + 0.1 * seed;
      // Seed 3 of standard-long diverged.
      if (method === 'standard-long' && seed === 3) return { val: null, test: null };
      return { val: l, test: null };
    },
    { surface: { x: xs, y: ys, loss }, start, trajectories },
    -0.2,
  );
}

/** |x|-shaped regression: data with noise, fits that get the kink more or less right. */
function kinkResults(): Results {
  const r = rng(42);
  const truth = (x: number) => Math.abs(x - 0.2) * 1.5 - 0.3;
  const dataX = Array.from({ length: 150 }, () => r() * 2 - 1);
  const data = { x: dataX, y: dataX.map((x) => truth(x) + (r() - 0.5) * 0.15) };
  const quality: Record<Method, number> = { standard: 0.5, 'standard-long': 0.35, reinit: 0.3, persistent: 0.12 };
  const grid = Array.from({ length: 101 }, (_, i) => -1 + (2 * i) / 100);
  const fits = METHODS.flatMap((method) =>
    SEEDS.slice(0, 3).map((seed) => {
      const q = quality[method] * (1 + 0.4 * seed);
      const kink = 0.2 + (seed - 1) * q * 0.5;
      return { method, seed, x: grid, y: grid.map((x) => Math.sqrt((x - kink) ** 2 + q * q) * 1.5 - 0.3 - q * 0.8) };
    }),
  );
  return buildResults(
    'kink',
    'mse',
    (method, seed, trajectory) => {
      if (method === 'reinit' && seed === 2 && trajectory === 1) return { val: null, test: null };
      const base = quality[method] ** 2 * 0.05 + 0.002;
      const val = base * (1 + 0.3 * seed) * (1 + 0.2 * Math.abs(trajectory - 1));
      return { val, test: val * 1.1 };
    },
    { linearFitMse: 0.1234567, data, fits },
  );
}

function count(haystack: string, needle: string): number {
  return haystack.split(needle).length - 1;
}

/** Asserts that `pattern` does not occur, without dumping the whole document on failure. */
function absent(html: string, pattern: RegExp): void {
  const m = pattern.exec(html);
  assert.ok(!m, m ? `found ${pattern}: …${html.slice(Math.max(0, m.index - 80), m.index + 80)}…` : '');
}

function assertSelfContainedDocument(html: string): void {
  assert.ok(/^<!DOCTYPE html>\s*<html[^>]*>/.test(html), 'starts as an HTML document');
  assert.ok(/<\/html>\s*$/.test(html), 'ends as an HTML document');
  assert.ok(/<head>[\s\S]*<style>[\s\S]*<\/style>[\s\S]*<\/head>/.test(html), 'inline style in head');
  absent(html, /<script/i);
  absent(html, /<link/i);
  absent(html, /<iframe/i);
  absent(html, /@import/i);
  // Nothing is loaded from elsewhere; the one link (to the explorer) is followed only on a click.
  absent(html, /<(?!a\s)\w+[^>]*\s(src|href)\s*=/i);
  absent(html, /url\(\s*["']?(https?:)?\/\//i);
  absent(html, /NaN/);
  absent(html, /undefined/);
  absent(html, /Infinity/);
  absent(html, /could not be rendered/);
  // Escaped, not live.
  assert.ok(!html.includes(EVIL));
  assert.ok(html.includes(escapeHtml(EVIL)));
  // Ids of the inline SVGs do not collide.
  const ids = [...html.matchAll(/\bid="([^"]+)"/g)].map((m) => m[1]);
  assert.equal(new Set(ids).size, ids.length);
}

async function render(name: string, results: Results): Promise<string> {
  const html = await renderReport(results);
  if (OUT) {
    mkdirSync(OUT, { recursive: true });
    writeFileSync(join(OUT, `report-${name}.html`), html);
  }
  return html;
}

describe('formatNumber', () => {
  it('keeps 4 significant digits and never prints NaN', () => {
    assert.equal(formatNumber(0.0123456), '0.01235');
    assert.equal(formatNumber(12.5), '12.5');
    assert.equal(formatNumber(-7.77777), '-7.778');
    assert.equal(formatNumber(12345.6), '12350');
    assert.equal(formatNumber(123456), '1.235e5');
    assert.equal(formatNumber(0.0000123456), '1.235e-5');
    assert.equal(formatNumber(0), '0');
    assert.equal(formatNumber(null), '—');
    assert.equal(formatNumber(Number.NaN), '—');
    assert.equal(formatNumber(Number.POSITIVE_INFINITY), '—');
  });
});

describe('renderReport', () => {
  it('renders a toy2d run: summary, paired difference, metric, trajectory and trajectory plots', async () => {
    const results = toy2dResults();
    const html = await render('toy2d', results);
    assertSelfContainedDocument(html);
    assert.ok(html.includes('<title>Persistent Neurons — toy2d (quick)</title>'));
    assert.equal(count(html, '<svg'), 3, 'metric per method, per trajectory, loss surface');
    assert.equal(count(html, '</svg>'), 3);
    for (const method of METHODS) assert.ok(html.includes(`<th scope="row">${method}</th>`), method);
    const s = results.summary.persistent;
    assert.ok(html.includes(formatNumber(s.valMetric.median)));
    assert.ok(html.includes(`${formatNumber(s.valMetric.mean)} ± ${formatNumber(s.valMetric.std)}`));
    // standard-long seed 3 diverged: counted, and its mean is over 3 of 4 runs.
    assert.equal(results.summary['standard-long'].diverged, 1);
    assert.ok(html.includes('(n=3)'));
    assert.ok(html.includes('success rate (loss ≤ -0.2)'));
    const paired = results.paired?.valMetric;
    assert.ok(paired?.mean !== null && paired?.mean !== undefined);
    assert.ok(html.includes('validation loss, persistent against reinit: '));
    assert.ok(html.includes(formatNumber(Math.abs(paired.mean))));
    // No test metric anywhere: no test columns, no test paired line.
    assert.ok(!html.includes('test loss mean'));
    // The trajectory plot: start marker, per-trajectory labels, iso-lines.
    assert.ok(html.includes('persistent #2'));
    assert.ok(html.includes('Trajectories on the loss surface'));
    assert.ok(html.includes('<a href="http://127.0.0.1:4173/#landscape">the explorer</a>'));
    assert.ok(html.includes(escapeHtml('"strength": 0.5')), 'config is pretty-printed JSON');
    assert.ok(html.includes('onednn'));
    assert.ok(html.includes(escapeHtml('Test CPU "Model" <X>')));
  });

  it('renders a kink run: data and fits, test metric columns, linear-fit reference', async () => {
    const results = kinkResults();
    const html = await render('kink', results);
    assertSelfContainedDocument(html);
    assert.equal(count(html, '<svg'), 3, 'metric per method, per trajectory, fits');
    for (const method of METHODS) assert.ok(html.includes(`<th scope="row">${method}</th>`), method);
    assert.ok(html.includes('test mse mean ± std'));
    assert.ok(html.includes(formatNumber(results.summary.reinit.testMetric.median)));
    assert.ok(html.includes('a linear fit has mse 0.1235'));
    assert.ok(html.includes('Fits to the kink'));
    assert.ok(!html.includes('Trajectories on the loss surface'));
    assert.ok(html.includes('validation mse, persistent against reinit: '));
    assert.ok(html.includes('better on'));
  });

  it('survives null metrics, missing paired data, and unknown or malformed details', async () => {
    const base = kinkResults();
    const runs = base.runs.map((r) => ({
      ...r,
      final: { trainLoss: null, valMetric: null, testMetric: null },
      trajectories: r.trajectories.map((it) => ({
        ...it,
        valMetric: null,
        testMetric: null,
        trainLoss: null,
        diverged: true,
      })),
    }));
    const empty: Stats = { mean: null, std: null, median: null, n: 0 };
    const results = resultsSchema.parse({
      ...base,
      experiment: 'mystery',
      preset: '"><script>alert(1)</script>',
      runs,
      summary: Object.fromEntries(
        Object.entries(base.summary).map(([m, s]) => [
          m,
          { ...s, diverged: s.runs, valMetric: empty, testMetric: empty },
        ]),
      ),
      paired: null,
      details: {
        surface: 'not a surface',
        fits: [{ method: 'reinit' }],
        data: { x: [1, 2] },
        somethingElse: { deep: [1] },
      },
    });
    const html = await renderReport(results);
    assert.ok(html.startsWith('<!DOCTYPE html>'));
    absent(html, /<script/i);
    assert.ok(html.includes('&#34;&#62;&#60;script&#62;'));
    absent(html, /NaN|undefined|Infinity/);
    assert.equal(count(html, '<svg'), 0, 'nothing finite to plot');
    assert.ok(html.includes('No data to plot.'));
    assert.ok(html.includes('Not available'));
    assert.ok(html.includes('—'));

    // Paired stats with nulls, and no details at all.
    const partial = resultsSchema.parse({
      ...base,
      paired: { valMetric: { mean: null, std: null, median: null, n: 0 }, testMetric: base.paired?.testMetric },
      details: {},
    });
    const html2 = await renderReport(partial);
    absent(html2, /NaN|undefined|Infinity/);
    assert.ok(html2.includes('No seed has a finite validation mse'));
    assert.equal(count(html2, '<svg'), 2);
  });
});
