import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { resultsSchema } from '../../src/report/results-schema.js';
import { assertNoProcessesWith, processesWith } from '../sweep/helpers.js';

const pn = fileURLToPath(new URL('../../../bin/pn.js', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'pn-jobs-'));

function cli(args: string[], env: Record<string, string> = {}) {
  const result = spawnSync(process.execPath, [pn, ...args], {
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, ...env },
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

const results = (dir: string) => resultsSchema.parse(JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')));

describe('pn run --jobs: methods trained at once in processes of their own', () => {
  const parallel = join(scratch, 'parallel');
  const serial = join(scratch, 'serial');

  test('the same results as one process at the same thread count; every method its models', () => {
    const a = cli(['run', 'kink', '--preset', 'smoke', '--jobs', '2', '--out', parallel]);
    assert.equal(a.code, 0, a.stderr);
    assert.match(a.stderr, /2 methods at once \(1 thread\(s\) each\)/);
    const b = cli(['run', 'kink', '--preset', 'smoke', '--jobs', '1', '--out', serial], { TFJS_ONEDNN_THREADS: '1' });
    assert.equal(b.code, 0, b.stderr);
    assert.doesNotMatch(b.stderr, /at once/);
    const [x, y] = [results(parallel), results(serial)];
    for (const key of ['runs', 'summary', 'pairedVsReinit', 'pairedVsStandardLong', 'details'] as const)
      assert.deepEqual(x[key], y[key], key);
    assert.deepEqual(
      x.runs.map((run) => run.method),
      y.runs.map((run) => run.method),
      'runs in the config order',
    );
    assert.equal(x.environment.processes, 2);
    assert.equal(x.environment.threads, y.environment.threads);
    assert.equal(y.environment.processes, undefined);
    for (const method of (x.config as { methods: string[] }).methods)
      assert.ok(existsSync(join(parallel, 'models', method, 'seed-1', 'model.json')), `${method}'s model`);
    // Same stdout but for the paths it names.
    assert.equal(a.stdout.replaceAll(parallel, 'DIR'), b.stdout.replaceAll(serial, 'DIR'));
  });

  test('a method that fails stops the run with one line naming the problem; --resume finishes it', async () => {
    const dir = join(scratch, 'failing');
    assert.equal(cli(['run', 'kink', '--preset', 'smoke', '--jobs', '1', '--out', dir]).code, 0);
    const whole = results(dir);
    rmSync(join(dir, 'results.json'));
    // Where persistent keeps its checkpoints, a file: the method cannot write them.
    rmSync(join(dir, 'checkpoints', 'persistent'), { recursive: true });
    writeFileSync(join(dir, 'checkpoints', 'persistent'), 'in the way');
    const failed = cli(['run', '--resume', dir, '--jobs', '2']);
    assert.equal(failed.code, 1, failed.stderr);
    const lines = failed.stderr.trim().split('\n');
    assert.match(
      lines[lines.length - 1],
      /^pn: persistent: cannot write .*checkpoints\/persistent\/trajectory-0\.bin \(EEXIST/,
    );
    assert.equal(existsSync(join(dir, 'results.json')), false, 'no results from a failed run');
    await assertNoProcessesWith(dir);
    rmSync(join(dir, 'checkpoints', 'persistent'));
    const resumed = cli(['run', '--resume', dir, '--jobs', '2']);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.deepEqual(results(dir).runs, whole.runs);
  });

  test('SIGKILL of pn leaves no training process behind', async () => {
    const dir = join(scratch, 'killed');
    const child = spawn(process.execPath, [pn, 'run', 'kink', '--preset', 'quick', '--jobs', '2', '--out', dir], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    const methodProcesses = () => processesWith(dir).filter((found) => Number(found.split(' ')[0]) !== child.pid);
    const deadline = Date.now() + 30_000;
    while (methodProcesses().length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.equal(methodProcesses().length, 2, `two method processes besides pn: ${stderr}`);
    child.kill('SIGKILL');
    await assertNoProcessesWith(dir);
  });
});
