import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { nativeAvailable } from '../src/index.js';

// bench/conv_layouts.cc, built and run by `npm run bench:layouts`; here at one round of the smallest workload.
const packageRoot = fileURLToPath(new URL('../..', import.meta.url));

const env = { ...process.env, OMP_NUM_THREADS: '1' };

/** `npm run bench:layouts -- args`: compiles the bench, then runs it. */
function benchLayouts(...args: string[]) {
  return spawnSync('npm', ['run', '-s', 'bench:layouts', '--', ...args], { cwd: packageRoot, encoding: 'utf8', env });
}

/** The binary the script built, run without compiling it again. */
function built(...args: string[]) {
  return spawnSync(fileURLToPath(new URL('../../build/conv_layouts', import.meta.url)), args, {
    encoding: 'utf8',
    env,
  });
}

describe('npm run bench:layouts', { skip: !nativeAvailable() }, () => {
  it('builds, times both layouts of a workload and reports their ratio and the reorders', () => {
    const run = benchLayouts('--rounds', '1', 'lenet5');
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /^threads 1, DNNL_MAX_CPU_ISA .*, 1 rounds/m);
    for (const layout of ['nhwc', 'blocked']) {
      const row = run.stdout.split('\n').find((line) => line.startsWith(`lenet5    ${layout} `));
      assert.ok(row, `no ${layout} row in:\n${run.stdout}`);
      const [forward, data, weights, total] = [...row.matchAll(/(\d+\.\d) \(/g)].map((m) => Number(m[1]));
      assert.ok(forward > 0 && data > 0 && weights > 0, row);
      // four numbers rounded to a tenth
      assert.ok(Math.abs(forward + data + weights - total) <= 0.21, row);
    }
    const ratio = run.stdout.match(/^lenet5 +blocked\/nhwc (\d+\.\d+) .*reorders .*: (\d+\.\d) ms/m);
    assert.ok(ratio, run.stdout);
    // no reorders where oneDNN itself picks NHWC (it does not for these shapes on x86 with oneDNN 2.6)
    assert.ok(Number(ratio[1]) > 0 && Number(ratio[2]) >= 0, ratio[0]);
  });

  it('names the workloads it knows when given another, and rejects a bad round count', () => {
    const unknown = built('vgg16');
    assert.equal(unknown.status, 2);
    assert.match(unknown.stderr, /unknown workload vgg16; choose from lenet5, cnn, resnet20, alexnet/);
    for (const [args, got] of [
      [['--rounds', '0'], '0'],
      [['--rounds', '3x'], '3x'],
      [['--rounds'], 'nothing'],
    ] as const) {
      const rounds = built(...args);
      assert.equal(rounds.status, 2);
      assert.match(rounds.stderr, new RegExp(`--rounds takes a positive count, got ${got}\\n`));
    }
  });
});
