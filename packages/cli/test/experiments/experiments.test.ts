import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import * as tfl from '@tensorflow/tfjs-layers';
import { resolveConfig, runExperiment } from '../../src/experiments/index.js';
import { type Results, resultsSchema } from '../../src/report/results-schema.js';
import { tf } from '../setup.js';

const scratch = () => mkdtempSync(join(tmpdir(), 'pn-exp-'));

/** Reads a saved model the way a browser's tf.loadLayersModel('…/model.json') does. */
async function loadSaved(modelJson: string): Promise<tfl.LayersModel> {
  const json = JSON.parse(readFileSync(modelJson, 'utf8'));
  const weights = readFileSync(join(modelJson, '..', json.weightsManifest[0].paths[0]));
  return tfl.loadLayersModel({
    load: async () => ({
      modelTopology: json.modelTopology,
      weightSpecs: json.weightsManifest[0].weights,
      weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength),
    }),
  });
}

describe('experiments end to end (smoke presets)', () => {
  test('toy2d: persistent trajectories leave the first minimum for lower ones', async () => {
    const dir = scratch();
    const results = await runExperiment(resolveConfig('toy2d', 'smoke'), { outDir: dir });
    resultsSchema.parse(JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')));
    const persistent = results.runs.find((r) => r.method === 'persistent' && r.seed === 1)!;
    const standard = results.runs.find((r) => r.method === 'standard' && r.seed === 1)!;
    const ends = persistent.trajectories.map((r) => r.valMetric!);
    assert.equal(ends[0], standard.final.valMetric, 'the first persistent trajectory is the standard one');
    assert.equal(new Set(ends.map((v) => v.toFixed(3))).size, ends.length, `distinct minima: ${ends}`);
    assert.ok(
      persistent.final.valMetric! < standard.final.valMetric! - 0.1,
      `${persistent.final.valMetric} vs ${standard.final.valMetric}`,
    );
    const trajectories = (results.details as { trajectories: { method: string }[] }).trajectories;
    assert.equal(trajectories.filter((t) => t.method === 'persistent').length, ends.length);
    assert.match(readFileSync(join(dir, 'report.html'), 'utf8'), /<svg/);
  });

  test('kink: results.json follows the schema and every selected model loads as a layers model', async () => {
    const dir = scratch();
    const results = await runExperiment(resolveConfig('kink', 'smoke'), { outDir: dir });
    const saved: Results = resultsSchema.parse(JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')));
    assert.deepEqual(saved.runs, results.runs);
    assert.equal(saved.runs.length, saved.seeds.length * 4);
    for (const method of ['standard', 'standard-long', 'reinit', 'persistent']) {
      const summary = saved.summary[method];
      assert.equal(summary.runs, saved.seeds.length);
      assert.ok(summary.successRate !== undefined && summary.valMetric.median !== null);
    }
    assert.ok(saved.paired && saved.paired.valMetric.n === saved.seeds.length);
    assert.equal(saved.environment.backend, 'cpu');
    // The saved model of one run predicts what the experiment measured: its validation MSE.
    const run = saved.runs.find((r) => r.method === 'persistent' && r.seed === 2)!;
    const model = await loadSaved(join(dir, run.model!));
    const details = saved.details as { data: { x: number[]; y: number[] } };
    const prediction = model.predict(tf.tensor2d(details.data.x, [details.data.x.length, 1])) as tf.Tensor;
    const mse = tf.losses
      .meanSquaredError(tf.tensor2d(details.data.y, [details.data.y.length, 1]), prediction)
      .dataSync()[0];
    assert.ok(Math.abs(mse - run.final.valMetric!) <= 1e-5 * Math.max(1, mse), `${mse} vs ${run.final.valMetric}`);
  });

  test('firstSeed runs fresh seeds: seeds 3..4 are the last two of a run of seeds 1..4', async () => {
    const all = await runExperiment(resolveConfig('kink', 'smoke', 4, ['methods=["reinit","persistent"]']), {
      outDir: scratch(),
    });
    const fresh = await runExperiment(
      resolveConfig('kink', 'smoke', 2, ['methods=["reinit","persistent"]', 'firstSeed=3']),
      { outDir: scratch() },
    );
    assert.deepEqual(fresh.seeds, [3, 4]);
    // kink trains all seeds as one batched model; each replica's numbers are its seed's alone.
    const final = (results: Results, seed: number) =>
      results.runs.filter((run) => run.seed === seed).map((run) => [run.method, run.final.valMetric]);
    for (const seed of [3, 4]) assert.deepEqual(final(fresh, seed), final(all, seed), `seed ${seed}`);
    assert.deepEqual(
      fresh.runs.map((run) => run.seed),
      [3, 4, 3, 4],
    );
  });

  test('a run stopped mid-way and resumed gives exactly the results of an uninterrupted run', async () => {
    const run = resolveConfig('kink', 'smoke', 3);
    const whole = await runExperiment(run, { outDir: scratch() });
    const dir = scratch();
    // Stop inside the last method (persistent), after its first trajectory was checkpointed, so the
    // resumed trajectory is penalized by a solution read back from disk: standard runs E epochs,
    // standard-long K·E, reinit K·E, then persistent's first trajectory E.
    const kink = run.config as unknown as { data: { train: number }; batchSize: number };
    const stepsPerEpoch = Math.ceil(kink.data.train / kink.batchSize);
    const { epochs, trajectories } = run.config;
    const stopAt = stepsPerEpoch * epochs * (1 + 2 * trajectories + 1) + 3;
    let steps = 0;
    await assert.rejects(
      runExperiment(run, {
        outDir: dir,
        onProgress: () => {
          if (++steps === stopAt) throw new Error('killed');
        },
      }),
      /killed/,
    );
    assert.throws(() => readFileSync(join(dir, 'results.json')), /ENOENT/, 'no results from a stopped run');
    assert.ok(
      readFileSync(join(dir, 'checkpoints', 'persistent', 'trajectory-0.json')),
      'persistent resumes from its checkpoint',
    );
    assert.throws(() => readFileSync(join(dir, 'checkpoints', 'persistent', 'trajectory-1.json')), /ENOENT/);
    const resumed = await runExperiment(run, { outDir: dir, resume: true });
    assert.deepEqual(resumed.runs, whole.runs);
    assert.deepEqual(resumed.summary, whole.summary);
    assert.deepEqual(resumed.details, whole.details);
  });
});

describe('kink: what the method does (quick settings, 6 seeds)', () => {
  test('persistent training lowers the validation MSE below reinit on the same seeds', async () => {
    const run = resolveConfig('kink', 'quick', 6, ['methods=["reinit","persistent"]']);
    const results = await runExperiment(run, { outDir: scratch() });
    const paired = results.paired!.valMetric;
    const reinit = results.summary.reinit.valMetric;
    const persistent = results.summary.persistent.valMetric;
    assert.ok(persistent.median! < 0.8 * reinit.median!, `median ${persistent.median} vs reinit ${reinit.median}`);
    assert.ok(paired.mean! < 0, `paired mean ${paired.mean}`);
    const better = results.runs
      .filter((r) => r.method === 'persistent')
      .filter(
        (r) =>
          r.final.valMetric! < results.runs.find((q) => q.method === 'reinit' && q.seed === r.seed)!.final.valMetric!,
      );
    assert.ok(better.length >= 4, `persistent better on ${better.length}/6 seeds`);
  });
});
