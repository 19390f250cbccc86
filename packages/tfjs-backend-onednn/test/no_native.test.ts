import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const packageDir = fileURLToPath(new URL('../..', import.meta.url));
const repoNodeModules = fileURLToPath(new URL('../../../../node_modules', import.meta.url));

/**
 * Runs a script that imports the package in `dirs` (the first, then any other copy, as two
 * installed copies would load) in a child process, from `dirs[0]`. Returns what it printed on its
 * last stdout line, parsed, and the lines of stderr.
 */
function importIn(dirs: string[], env: NodeJS.ProcessEnv): { result: Record<string, unknown>; stderr: string[] } {
  const [index, ...others] = dirs.map((dir) => JSON.stringify(join(dir, 'dist/src/index.js')));
  const script = `
    const tf = await import('@tensorflow/tfjs-core');
    await import('@tensorflow/tfjs-backend-cpu');
    tf.enableProdMode(); // keeps tfjs's own advice to install tfjs-node off stderr
    const backend = await import(${index});
    ${others.map((other) => `await import(${other});`).join('\n')}
    await tf.ready();
    console.log(JSON.stringify({
      available: backend.nativeAvailable(),
      reason: backend.nativeLoadError,
      message: backend.nativeUnavailableMessage(),
      registered: tf.findBackendFactory('onednn') !== null,
      kernels: tf.getKernelsForBackend('onednn').length,
      backend: tf.getBackend(),
      sum: tf.sum(tf.tensor1d([1, 2, 3])).dataSync()[0],
    }));
  `;
  const childEnv = { ...process.env, ...env };
  for (const name of ['TFJS_ONEDNN_DISABLE', 'TFJS_ONEDNN_QUIET']) if (!(name in env)) delete childEnv[name];
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    env: childEnv,
    cwd: dirs[0],
    encoding: 'utf8',
  });
  assert.equal(child.status, 0, child.stderr);
  return {
    result: JSON.parse(child.stdout.trim().split('\n').pop()!),
    stderr: child.stderr.split('\n').filter((line) => line.trim() !== ''),
  };
}

describe('without the native addon', () => {
  it('TFJS_ONEDNN_DISABLE=1: imports, reports nativeAvailable() false, leaves tfjs on cpu, and says nothing', () => {
    const { result, stderr } = importIn([packageDir], { TFJS_ONEDNN_DISABLE: '1' });
    assert.deepEqual(result, {
      available: false,
      reason: 'disabled by TFJS_ONEDNN_DISABLE=1',
      message: null,
      registered: false,
      kernels: 0,
      backend: 'cpu',
      sum: 6,
    });
    assert.deepEqual(stderr, []);
  });

  describe('not built', () => {
    // Two copies of the package without build/, resolving tfjs from the workspace's node_modules.
    let root: string;
    let copies: string[];
    before(() => {
      root = mkdtempSync(join(tmpdir(), 'onednn-unbuilt-'));
      copies = ['tfjs-backend-onednn', 'second-copy'].map((name) => join(root, name));
      for (const copy of copies) {
        cpSync(join(packageDir, 'package.json'), join(copy, 'package.json'));
        cpSync(join(packageDir, 'dist/src'), join(copy, 'dist/src'), { recursive: true });
      }
      symlinkSync(repoNodeModules, join(root, 'node_modules'), 'dir');
    });
    after(() => rmSync(root, { recursive: true, force: true }));

    it('imports, leaves tfjs on cpu and warns once per process, with the reason and the fix', () => {
      const { result, stderr } = importIn(copies, {});
      assert.equal(result.available, false);
      assert.equal(result.reason, 'not built: build/Release/onednn_backend.node is missing');
      assert.equal(result.registered, false);
      assert.equal(result.backend, 'cpu');
      assert.equal(result.sum, 6);
      assert.equal(stderr.length, 1, stderr.join('\n'));
      const [line] = stderr;
      assert.equal(line, result.message);
      assert.match(line, /^tfjs-backend-onednn: native addon not loaded \(not built: /);
      assert.match(line, /tfjs stays on its cpu backend/);
      assert.match(line, /apt-get install libdnnl-dev libopenblas-dev/);
      assert.match(line, /npm install-scripts approve tfjs-backend-onednn/);
      assert.match(line, /npm rebuild tfjs-backend-onednn/);
      assert.match(line, /TFJS_ONEDNN_QUIET=1/);
    });

    it('TFJS_ONEDNN_QUIET=1 hides the warning; nativeUnavailableMessage() still gives it', () => {
      const { result, stderr } = importIn(copies, { TFJS_ONEDNN_QUIET: '1' });
      assert.equal(result.available, false);
      assert.match(String(result.message), /^tfjs-backend-onednn: native addon not loaded/);
      assert.deepEqual(stderr, []);
    });
  });
});
