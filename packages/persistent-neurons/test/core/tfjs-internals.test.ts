import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createOptimizer } from '../../src/core/index.js';
import { supportsTfjsVersion, TESTED_TFJS_VERSIONS } from '../../src/core/tfjs-internals.js';
import { tf } from '../setup.js';

/**
 * Trains a variable for a few momentum steps per trajectory, with a new optimizer each, as the
 * trainer does; the number of tensors left after each trajectory, less those before.
 */
function trajectories(core: { createOptimizer: typeof createOptimizer }, t: typeof tf, count: number): number[] {
  const before = t.memory().numTensors;
  const left: number[] = [];
  for (let i = 0; i < count; i++) {
    const w = t.tidy(() => t.variable(t.tensor1d([1, -2, 3])));
    const optimizer = core.createOptimizer({ name: 'momentum', learningRate: 0.1, momentum: 0.9 });
    for (let step = 0; step < 3; step++) optimizer.minimize(() => t.sum(t.square(w)));
    optimizer.dispose();
    w.dispose();
    left.push(t.memory().numTensors - before);
  }
  return left;
}

describe('the tfjs-core versions whose internals the core uses', () => {
  test('are a list that includes the installed tfjs-core', () => {
    assert.ok(TESTED_TFJS_VERSIONS.includes(tf.version_core), `tfjs-core ${tf.version_core} is not in the tested list`);
    assert.ok(supportsTfjsVersion(tf.version_core));
    for (const other of ['4.21.0', '4.22.1', '5.0.0', '']) assert.ok(!supportsTfjsVersion(other), other);
  });

  test('on a tested version a momentum optimizer leaves no tensor behind', async () => {
    await tf.setBackend('cpu');
    assert.deepEqual(trajectories({ createOptimizer }, tf, 3), [0, 0, 0]);
  });

  test('on another version: one warning, and one tensor left per optimizer, as tfjs leaves it', () => {
    // A child process where the installed tfjs-core reports another version: its CommonJS exports
    // are changed before anything imports them.
    const module = (path: string) => JSON.stringify(fileURLToPath(new URL(path, import.meta.url)));
    const script = `
      import { createRequire } from 'node:module';
      createRequire(process.cwd() + '/')('@tensorflow/tfjs-core').version_core = '4.99.0';
      const tf = await import('@tensorflow/tfjs-core');
      await import('@tensorflow/tfjs-backend-cpu');
      await import('@tensorflow/tfjs-layers'); // registers tfjs's gradients
      tf.enableProdMode();
      await tf.setBackend('cpu');
      const core = await import(${module('../../src/core/index.js')});
      const trajectories = ${trajectories.toString()};
      console.log(JSON.stringify(trajectories(core, tf, 3)));
    `;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: fileURLToPath(new URL('../..', import.meta.url)),
      encoding: 'utf8',
    });
    assert.equal(child.status, 0, child.stderr);
    const warnings = child.stderr.split('\n').filter((line) => line.trim() !== '');
    assert.equal(warnings.length, 1, warnings.join('\n'));
    assert.match(warnings[0], /^persistent-neurons: @tensorflow\/tfjs-core 4\.99\.0 .*Results are correct/);
    assert.ok(warnings[0].includes(`(${TESTED_TFJS_VERSIONS.join(', ')})`), 'it names the tested versions');
    assert.deepEqual(JSON.parse(child.stdout.trim().split('\n').pop() ?? ''), [1, 2, 3]);
  });
});
