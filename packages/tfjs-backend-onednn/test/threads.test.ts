import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers'; // registers tfjs's gradients
import { getThreads, nativeAvailable, setThreads } from '../src/index.js';
import { WORKER_SPINS, withWorkerSpins } from '../src/native.js';
import { randomTensor } from './helpers.js';

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

  // A child process (TFJS_ONEDNN_THREADS 2, no OpenMP settings) runs `before`, imports the backend,
  // runs `body` and prints what it returns as JSON.
  const child = (body: string, before = '') => {
    const script = `
      ${before}
      const tf = await import('@tensorflow/tfjs-core');
      const backend = await import(${JSON.stringify(index)});
      await tf.setBackend('onednn');
      console.log(JSON.stringify(await (async () => { ${body} })()));
    `;
    const env: NodeJS.ProcessEnv = { ...process.env, TFJS_ONEDNN_THREADS: '2' };
    delete env.OMP_WAIT_POLICY;
    delete env.GOMP_SPINCOUNT;
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      env,
      encoding: 'utf8',
      cwd: fileURLToPath(new URL('.', import.meta.url)),
    });
    assert.equal(run.status, 0, run.stderr);
    return JSON.parse(run.stdout.trim().split('\n').pop()!);
  };

  it('sets GOMP_SPINCOUNT while the addon loads where the user set no OpenMP wait, and restores the environment', () => {
    const seen = (env: NodeJS.ProcessEnv) => {
      const inside = withWorkerSpins(env, () => env.GOMP_SPINCOUNT);
      return { inside, after: env.GOMP_SPINCOUNT };
    };
    assert.deepEqual(seen({}), { inside: String(WORKER_SPINS), after: undefined });
    assert.deepEqual(seen({ OMP_WAIT_POLICY: 'passive' }), { inside: undefined, after: undefined });
    assert.deepEqual(seen({ GOMP_SPINCOUNT: '5' }), { inside: '5', after: '5' });
    const env: NodeJS.ProcessEnv = {};
    assert.throws(() =>
      withWorkerSpins(env, () => {
        throw new Error('no addon');
      }),
    );
    assert.equal(env.GOMP_SPINCOUNT, undefined);
    // In a process: threads read, and nothing left for child processes (PyTorch in pn bench).
    const settings = `return { threads: backend.getThreads(), native: backend.nativeAvailable(), spins: process.env.GOMP_SPINCOUNT ?? null };`;
    assert.deepEqual(child(settings), { threads: 2, native: true, spins: null });
  });

  // Two-thread kernels, then 300 ms of nothing, twice: the process's CPU time over the second pause
  // shows whether the OpenMP worker went to sleep (the first also holds V8's work after start-up).
  const idleCpuMs = `
    const x = tf.ones([1 << 20]);
    let used;
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 5; i++) tf.relu(x).dispose();
      const before = process.cpuUsage();
      await new Promise((resolve) => setTimeout(resolve, 300));
      used = process.cpuUsage(before);
    }
    return (used.user + used.system) / 1000;
  `;

  it('lets an idle OpenMP worker sleep: a process waiting after a two-thread kernel uses no CPU', () => {
    const idle = child(idleCpuMs);
    assert.ok(idle < 30, `${idle} ms of CPU in a 300 ms pause`);
  });

  it(
    'hands OpenMP a setting made in process.env before the addon loads (the measurement above sees a spinning worker)',
    { skip: availableParallelism() < 2 && 'one CPU: libgomp throttles spinning' },
    () => {
      const spinning = child(idleCpuMs, `process.env.OMP_WAIT_POLICY = 'active';`);
      assert.ok(spinning > 150, `${spinning} ms of CPU in a 300 ms pause`);
    },
  );

  it('runs a small convolution on one thread: the same bits at 1 and 2 threads, forward and backward', async () => {
    await tf.setBackend('onednn');
    const initial = getThreads();
    // LeNet-5's first layer at batch 32: 2 · 32 · 28² · 6 · 25 ≈ 7.5 MFLOP, below the threshold (at
    // batch 128 the filter gradient's bits differ between 1 and 2 threads).
    const x = randomTensor([32, 28, 28, 1], 1) as tf.Tensor4D;
    const filter = randomTensor([5, 5, 1, 6], 2) as tf.Tensor4D;
    const dy = randomTensor([32, 28, 28, 6], 3) as tf.Tensor4D;
    const run = (threads: number) => {
      setThreads(threads);
      return tf.tidy(() => {
        const f = (input: tf.Tensor4D, kernel: tf.Tensor4D) => tf.mul(tf.conv2d(input, kernel, 1, 'same'), dy);
        const [dx, df] = tf.grads((a, b) => tf.sum(f(a as tf.Tensor4D, b as tf.Tensor4D)))([x, filter]);
        return [tf.conv2d(x, filter, 1, 'same').dataSync(), dx.dataSync(), df.dataSync()];
      });
    };
    try {
      const one = run(1);
      const two = run(2);
      for (const [i, name] of ['output', 'input gradient', 'filter gradient'].entries())
        assert.deepEqual(two[i], one[i], name);
    } finally {
      setThreads(initial);
      tf.dispose([x, filter, dy]);
    }
  });

  it('gives the same bits for matrix products at 1 and 2 threads, below and above the one-thread threshold', async () => {
    await tf.setBackend('onednn');
    const initial = getThreads();
    // 2 · 128 · 400 · 120 ≈ 12 MFLOP runs on one thread; 2 · 256³ ≈ 34 MFLOP is split by OpenBLAS.
    const pairs = [
      [randomTensor([128, 400], 4), randomTensor([400, 120], 5)],
      [randomTensor([256, 256], 6), randomTensor([256, 256], 7)],
    ] as const;
    const run = (threads: number) => {
      setThreads(threads);
      return pairs.map(([a, b]) => tf.tidy(() => tf.matMul(a, b).dataSync()));
    };
    try {
      const one = run(1);
      const two = run(2);
      for (const i of one.keys()) assert.deepEqual(two[i], one[i], `product ${i}`);
    } finally {
      setThreads(initial);
      tf.dispose(pairs.flat());
    }
  });

  it("gives the same BatchNorm gradients at 1 and 2 threads where the threads' shares are not whole blocks of rows", async () => {
    await tf.setBackend('onednn');
    const initial = getThreads();
    // 2,999 rows of 16 channels: split among two threads at row 1,499, inside a block of 64 rows.
    const shape = [1, 2999, 1, 16];
    const x = randomTensor(shape, 8);
    const run = (threads: number) => {
      setThreads(threads);
      return tf.tidy(() => {
        const loss = (v: tf.Tensor, scale: tf.Tensor, offset: tf.Tensor) => {
          const { mean, variance } = tf.moments(v, [0, 1, 2]);
          return tf.sum(tf.mul(tf.relu(tf.batchNorm(v, mean, variance, offset, scale, 1e-3)), x));
        };
        return tf
          .grads(loss)([x, randomTensor([16], 9), randomTensor([16], 10)])
          .map((g) => g.dataSync());
      });
    };
    try {
      const one = run(1);
      const two = run(2);
      for (const i of one.keys()) assert.deepEqual(Array.from(two[i]), Array.from(one[i]), `gradient ${i}`);
    } finally {
      setThreads(initial);
      x.dispose();
    }
  });
});
