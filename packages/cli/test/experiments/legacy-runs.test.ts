import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadRunConfig, runExperiment } from '../../src/experiments/index.js';
import { runReport } from '../../src/experiments/presentation.js';
import { type Results, resultsSchema } from '../../src/report/results-schema.js';
import '../setup.js';

// Run directories written by version 1 (before the K runs from θ0 were called trajectories): the
// smoke presets of kink (config, checkpoints, results), toy2d and lenet5-init (config, results).
const fixtures = fileURLToPath(new URL('../../../test/fixtures/v1/', import.meta.url));
const pn = fileURLToPath(new URL('../../../bin/pn.js', import.meta.url));

function copy(name: string): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'pn-v1-')), name);
  cpSync(join(fixtures, name), dir, { recursive: true });
  return dir;
}

const raw = (name: string) => JSON.parse(readFileSync(join(fixtures, name, 'results.json'), 'utf8'));

describe('results and run directories written before the rename', () => {
  const figures: Record<string, string> = {
    'kink-smoke': 'Fits to the kink',
    'toy2d-smoke': 'Trajectories on the loss surface',
    'lenet5-init-smoke': 'Saturated units per layer',
  };
  for (const [name, figure] of Object.entries(figures)) {
    test(`${name}: results.json reads with today's names, and its report has the experiment's figures`, async () => {
      const old = raw(name);
      assert.equal(old.schemaVersion, 1);
      const results = resultsSchema.parse(old);
      assert.equal(results.schemaVersion, 2);
      assert.equal(results.config.trajectories, old.config.iterations);
      assert.ok(!('iterations' in results.config));
      for (const [i, run] of results.runs.entries()) {
        assert.equal(run.selectedTrajectory, old.runs[i].selectedIteration);
        assert.deepEqual(
          run.trajectories.map((t) => t.trajectory),
          old.runs[i].iterations.map((t: { iteration: number }) => t.iteration),
        );
      }
      const html = await runReport(results);
      assert.ok(html.includes(figure), figure);
      assert.ok(!html.includes('do not match'));
    });
  }

  test('pn report re-renders a version 1 run directory', () => {
    const dir = copy('kink-smoke');
    const result = spawnSync(process.execPath, [pn, 'report', dir], { encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
    assert.ok(readFileSync(join(dir, 'report.html'), 'utf8').includes('Fits to the kink'));
  });

  test('--resume finishes a version 1 run: finished methods as they were, the rest from its iteration-k checkpoints', async () => {
    const dir = copy('kink-smoke');
    const before = resultsSchema.parse(raw('kink-smoke'));
    // persistent stopped after its first trajectory.
    for (const file of ['done.json', 'iteration-1.json', 'iteration-1.bin'])
      rmSync(join(dir, 'checkpoints', 'persistent', file));
    rmSync(join(dir, 'results.json'));
    const after: Results = await runExperiment(loadRunConfig(dir), { outDir: dir, resume: true });
    assert.equal(after.schemaVersion, 2);
    assert.equal(after.config.trajectories, 2);
    // The directory keeps its own file names.
    assert.ok(existsSync(join(dir, 'checkpoints', 'persistent', 'iteration-1.json')));
    assert.ok(!existsSync(join(dir, 'checkpoints', 'persistent', 'trajectory-1.json')));
    for (const [i, run] of after.runs.entries()) {
      const old = before.runs[i];
      assert.equal(run.method, old.method);
      assert.equal(run.seed, old.seed);
      if (run.method !== 'persistent') {
        assert.deepEqual(run, old, `${run.method} seed ${run.seed}: read from its done.json`);
        continue;
      }
      assert.deepEqual(run.trajectories[0], old.trajectories[0], 'the checkpointed trajectory');
      // Trajectory 2 was trained again; the fixture was written on onednn, the tests run on cpu.
      const [now, then] = [run.trajectories[1].valMetric as number, old.trajectories[1].valMetric as number];
      assert.ok(Math.abs(now - then) <= 1e-4 * Math.abs(then), `seed ${run.seed}: ${now} vs ${then}`);
    }
  });
});
