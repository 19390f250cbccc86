import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { getThreads, nativeAvailable, setThreads } from '../src/index.js';

const index = fileURLToPath(new URL('../src/index.js', import.meta.url));

describe('thread control', { skip: !nativeAvailable() }, () => {
  it('defaults to one thread and follows setThreads', () => {
    const initial = getThreads();
    if (process.env.TFJS_ONEDNN_THREADS === undefined) assert.equal(initial, 1);
    setThreads(2);
    assert.equal(getThreads(), 2);
    setThreads(initial);
    assert.equal(getThreads(), initial);
  });

  it('reads TFJS_ONEDNN_THREADS and sets a passive OpenMP wait policy', () => {
    const script = `
      const backend = await import(${JSON.stringify(index)});
      console.log(JSON.stringify({ threads: backend.getThreads(), wait: process.env.OMP_WAIT_POLICY }));
    `;
    const env: NodeJS.ProcessEnv = { ...process.env, TFJS_ONEDNN_THREADS: '2' };
    delete env.OMP_WAIT_POLICY;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { env, encoding: 'utf8' });
    assert.equal(child.status, 0, child.stderr);
    assert.deepEqual(JSON.parse(child.stdout.trim().split('\n').pop()!), { threads: 2, wait: 'passive' });
  });
});
