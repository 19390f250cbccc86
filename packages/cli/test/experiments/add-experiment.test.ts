import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import {
  type AnyExperiment,
  experiments,
  registerExperiment,
  resolveConfig,
  runExperiment,
  summaryLines,
} from '../../src/experiments/index.js';
import '../setup.js';

const dist = (path: string) => JSON.stringify(new URL(`../../src/${path}`, import.meta.url).href);
// A module outside the project resolves no bare specifier: it gets tfjs and zod by their resolved
// URLs, which are the very modules the project loaded.
const resolved = (specifier: string) => JSON.stringify(import.meta.resolve(specifier));

/**
 * A whole experiment in one file of its own folder, as docs/architecture.md describes: its config
 * schema and presets, a task, a details schema, a figure and summary lines. Nothing else in the
 * project is touched: the test registers it and runs it through the generic runner, report and CLI
 * summary.
 */
const source = `
import * as tf from ${resolved('@tensorflow/tfjs-core')};
import { z } from ${resolved('zod')};
import { commonConfigShape, runMethods } from ${dist('experiments/index.js')};
import { defaultPenaltySpec } from ${resolved('persistent-neurons')};

/** θ is one number per replica; L(θ) = (θ − target)², so every method reaches the target. */
class ParabolaTask {
  constructor(target, seeds) {
    this.target = target;
    this.seeds = seeds;
    this.replicaAxis = true;
    this.stepsPerEpoch = 1;
    this.metric = { name: 'loss', higherIsBetter: false };
    this.theta = tf.variable(tf.fill([seeds.length, 1], 0));
    this.weights = [{ name: 'theta/value', variable: this.theta, trainable: true }];
  }
  get replicas() { return this.seeds.length; }
  startEpoch() {}
  loss() { return tf.tidy(() => tf.reshape(tf.square(tf.sub(this.theta, this.target)), [this.replicas])); }
  evaluate(split) { return split === 'validation' ? Array.from(tf.tidy(() => this.loss()).dataSync()) : null; }
  reinitialize(draw) { this.theta.assign(tf.fill([this.replicas, 1], draw)); }
  dispose() { this.theta.dispose(); }
}

const details = z.object({ ends: z.array(z.object({ method: z.string(), seed: z.number(), theta: z.number() })) });
const base = {
  seeds: 2, methods: ['standard', 'reinit', 'persistent'], trajectories: 2, epochs: 30,
  optimizer: { name: 'sgd', learningRate: 0.1 }, penalty: defaultPenaltySpec, target: 3,
};

export const parabola = {
  name: 'parabola',
  description: 'a one-parameter parabola',
  schema: z.strictObject({ ...commonConfigShape, target: z.number() }),
  presets: { smoke: base, quick: base, paper: base },
  details,
  layers: () => ['theta'],
  async run(config, context) {
    const { runs, details: ends } = await runMethods(config, context, {
      seedsPerTask: 'all',
      makeTask: (_, seeds) => new ParabolaTask(config.target, seeds),
      details: details.shape.ends.element,
      async finish(method, task, result, seeds) {
        const theta = result.solutions[result.selected[0]].get('theta/value').dataSync();
        return { details: seeds.map((seed, r) => ({ method, seed, theta: theta[r] })) };
      },
    });
    return { metric: { name: 'loss', higherIsBetter: false }, runs, details: { ends: Object.values(ends).flat() } };
  },
  figures: (d) => [{
    title: 'Where each method ended',
    caption: 'θ of the selected trajectory, per seed.',
    spec: { data: { values: d.ends }, mark: 'point', encoding: { x: { field: 'method' }, y: { field: 'theta', type: 'quantitative' } } },
  }],
  summary: (d) => d.ends.filter((e) => e.method === 'persistent').map((e) => 'persistent seed ' + e.seed + ' ends at θ = ' + e.theta.toFixed(3)),
};
`;

test('an experiment in a folder of its own joins through the registry alone', async () => {
  const root = mkdtempSync(join(tmpdir(), 'pn-experiment-'));
  const folder = join(root, 'parabola');
  mkdirSync(folder);
  writeFileSync(join(folder, 'index.mjs'), source);
  const { parabola } = (await import(pathToFileURL(join(folder, 'index.mjs')).href)) as { parabola: AnyExperiment };
  registerExperiment(parabola);
  assert.equal(experiments.parabola, parabola);
  assert.throws(() => registerExperiment(parabola), /already registered/);

  const run = resolveConfig('parabola', 'smoke', undefined, ['target=2']);
  const outDir = join(root, 'run');
  const results = await runExperiment(run, { outDir });
  assert.deepEqual(Object.keys(results.summary), ['standard', 'reinit', 'persistent']);
  const ends = (results.details as { ends: { method: string; theta: number }[] }).ends;
  assert.equal(ends.length, 6);
  for (const end of ends) assert.ok(Math.abs(end.theta - 2) < 0.05, `${end.method}: θ = ${end.theta}`);
  const html = readFileSync(join(outDir, 'report.html'), 'utf8');
  assert.ok(html.includes('Where each method ended'));
  assert.deepEqual(summaryLines(results), [
    `persistent seed 1 ends at θ = ${ends[4].theta.toFixed(3)}`,
    `persistent seed 2 ends at θ = ${ends[5].theta.toFixed(3)}`,
  ]);
  // The runner's output is checked against the experiment's details schema before anything is written.
  const broken = { ...parabola, name: 'parabola-broken', run: async () => ({ ...results, details: { ends: 'no' } }) };
  registerExperiment(broken);
  await assert.rejects(
    runExperiment(resolveConfig('parabola-broken', 'smoke'), { outDir: join(root, 'broken') }),
    /ends/,
  );
});
