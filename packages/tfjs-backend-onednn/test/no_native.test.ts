import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const index = fileURLToPath(new URL('../src/index.js', import.meta.url));

describe('without the native addon', () => {
  it('imports, reports nativeAvailable() false and leaves tfjs on cpu', () => {
    const script = `
      const tf = await import('@tensorflow/tfjs-core');
      await import('@tensorflow/tfjs-backend-cpu');
      const backend = await import(${JSON.stringify(index)});
      await tf.ready();
      console.log(JSON.stringify({
        available: backend.nativeAvailable(),
        registered: tf.findBackendFactory('onednn') !== null,
        kernels: tf.getKernelsForBackend('onednn').length,
        backend: tf.getBackend(),
        sum: tf.sum(tf.tensor1d([1, 2, 3])).dataSync()[0],
      }));
    `;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      env: { ...process.env, TFJS_ONEDNN_DISABLE: '1' },
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      encoding: 'utf8',
    });
    assert.equal(child.status, 0, child.stderr);
    const result = JSON.parse(child.stdout.trim().split('\n').pop()!);
    assert.deepEqual(result, { available: false, registered: false, kernels: 0, backend: 'cpu', sum: 6 });
  });
});
