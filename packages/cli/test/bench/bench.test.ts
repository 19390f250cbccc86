import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { nativeAvailable } from 'tfjs-backend-onednn';
import { type BenchRow, benchTable, PYTORCH_REF, pytorchVersion } from '../../src/bench/bench.js';

const pn = fileURLToPath(new URL('../../../bin/pn.js', import.meta.url));

test('pn bench --json prints one JSON object with a row per workload and thread count', () => {
  const result = spawnSync(
    process.execPath,
    [
      pn,
      'bench',
      '--json',
      '--workloads',
      'mlp,lenet5',
      '--threads',
      '1',
      '--steps',
      '2',
      '--min-seconds',
      '0',
      '--rounds',
      '2',
      '--no-cpu',
    ],
    { encoding: 'utf8', timeout: 180_000 },
  );
  assert.equal(result.status, 0, result.stderr);
  const { rows, environment } = JSON.parse(result.stdout);
  assert.deepEqual(
    rows.map((r: { workload: string; threads: number; batch: number }) => [r.workload, r.threads, r.batch]),
    [
      ['mlp', 1, 256],
      ['lenet5', 1, 128],
    ],
  );
  const torch = pytorchVersion();
  for (const row of rows) {
    assert.equal(row.cpuMs, null, '--no-cpu');
    assert.equal(row.onednnMs === null, !nativeAvailable());
    assert.equal(row.pytorchMs === null, torch === null);
    if (row.onednnMs !== null) {
      assert.ok(row.onednnMs > 0 && row.onednnPeakRssMB > 0);
      // Step time with the penalty over step time without it: a timing ratio, so only its sanity is
      // asserted here (two steps on a shared machine can come out either way).
      assert.ok(Number.isFinite(row.penaltyRatio) && row.penaltyRatio > 0, String(row.penaltyRatio));
      assert.ok(Math.abs(row.onednnGflops - row.gflop / (row.onednnMs / 1000)) < 1e-9);
    }
    if (row.pytorchMs !== null) assert.ok(row.pytorchMs > 0 && row.pytorchPeakRssMB > 0);
    if (row.ratio !== null) {
      assert.equal(row.rounds, 2);
      assert.ok(row.ratioMin <= row.ratio && row.ratio <= row.ratioMax);
    }
  }
  // Counted FLOPs: LeNet-5's forward multiply-adds at batch 128, ×2 (FLOPs) ×3 (forward and two gradients).
  const macs = 28 * 28 * 6 * 25 + 10 * 10 * 16 * 25 * 6 + 400 * 120 + 120 * 84 + 84 * 10;
  assert.ok(Math.abs(rows[1].gflop - (3 * 2 * 128 * macs) / 1e9) < 1e-12, String(rows[1].gflop));
  assert.equal(environment.pytorch, torch);
  assert.match(environment.isa, /^(AVX-512|AVX2|AVX|SSE)/);
  if (nativeAvailable()) assert.ok(environment.sgemmPeakGflops['1'] > 0);
});

test('pn bench rejects an unknown workload with exit code 2', () => {
  const result = spawnSync(process.execPath, [pn, 'bench', '--workloads', 'vgg16'], { encoding: 'utf8' });
  assert.equal(result.status, 2);
  assert.match(result.stderr, /--workloads: unknown "vgg16"; choose from mlp, lenet5, cnn, resnet20, alexnet/);
});

test('pn bench names the option a bad count was given to', () => {
  for (const flag of ['--steps', '--warm-up']) {
    const result = spawnSync(process.execPath, [pn, 'bench', flag, '0'], { encoding: 'utf8' });
    assert.equal(result.status, 2);
    assert.equal(result.stderr, `pn: ${flag} must be a positive integer, got "0"\n`);
  }
});

test('--min-seconds: each side times for at least that long, however few --steps', () => {
  const worker = fileURLToPath(new URL('../../src/bench/worker.js', import.meta.url));
  const result = spawnSync(
    process.execPath,
    [worker, 'mlp', nativeAvailable() ? 'onednn' : 'cpu', '256', '2', '1', '0.3'],
    {
      encoding: 'utf8',
    },
  );
  assert.equal(result.status, 0, result.stderr);
  const { times } = JSON.parse(result.stdout) as { times: number[] };
  assert.ok(times.length > 2, `${times.length} steps`);
  // The time between steps (reading the clock) is not in any step's time.
  assert.ok(times.reduce((a, b) => a + b, 0) >= 300 * 0.9, 'timed for at least 0.3 s');
  if (pytorchVersion() !== null) {
    const torch = spawnSync('/usr/bin/python3', [PYTORCH_REF, 'mlp', '1', '256', '2', '1', '0.3'], {
      encoding: 'utf8',
    });
    assert.equal(torch.status, 0, torch.stderr);
    const reference = JSON.parse(torch.stdout) as { times: number[] };
    assert.ok(reference.times.reduce((a, b) => a + b, 0) >= 300 * 0.9, 'PyTorch too');
  }
  const bad = spawnSync(process.execPath, [pn, 'bench', '--min-seconds', '-1'], { encoding: 'utf8' });
  assert.equal(bad.status, 2);
  assert.equal(bad.stderr, 'pn: --min-seconds must be a number ≥ 0, got "-1"\n');
});

test('the PyTorch reference script ships inside the package, where pn bench looks for it', () => {
  assert.ok(existsSync(PYTORCH_REF), PYTORCH_REF);
  const manifest = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8'));
  assert.ok(manifest.files.includes('src/bench/pytorch_ref.py'));
});

test('the bench table shows tfjs cpu columns, and the scaled-cpu footnote, only where a row has them', () => {
  const row: BenchRow = {
    workload: 'lenet5',
    threads: 2,
    batch: 128,
    onednnMs: 6.03,
    cpuMs: null,
    cpuScaled: null,
    pytorchMs: 11.6,
    ratio: 0.5,
    ratioMin: 0.48,
    ratioMax: 0.63,
    rounds: 3,
    gflop: 0.32,
    onednnGflops: 53,
    pytorchGflops: 27.5,
    penaltyRatio: 1.06,
    onednnPeakRssMB: 146,
    pytorchPeakRssMB: 266,
  };
  const without = benchTable([row], { 2: 157 }).split('\n');
  assert.doesNotMatch(without[0], /cpu/);
  assert.match(
    without[2],
    /^lenet5 +2 +128 +6\.03 +11\.6 +0\.50 \(0\.48–0\.63, 3 rounds\) +53\.0 \/ 27\.5 \/ 157 +1\.06 +146 \/ 266$/,
  );
  assert.ok(!without.some((line) => line.startsWith('*')));

  const timed = benchTable([row, { ...row, threads: 1, cpuMs: 90_000, cpuScaled: true }], { 1: 102, 2: 157 }).split(
    '\n',
  );
  assert.match(timed[0], /penalty × +cpu ms +cpu\/onednn +RSS onednn\/pytorch MB$/);
  assert.match(timed[2], /1\.06 +— +— +146 \/ 266$/);
  assert.match(timed[3], /1\.06 +90000\* +14925\.37 +146 \/ 266$/);
  assert.equal(timed.at(-1), '* cpu scaled from a smaller batch: its full-batch step would exceed the budget');
});
