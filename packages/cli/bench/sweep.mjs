#!/usr/bin/env node
// The same grid as sequential `pn run`s and as one `pn sweep --workers 2` (1 thread per worker):
// wall times, their ratio, jobs per minute and bytes moved through Redis per job.
//
//   node packages/cli/bench/sweep.mjs [--rounds 2] [--only kink|resnet] [--out DIR]
//
// (a) runs every point with `pn run`, one after another, at the thread count a pilot run of the
// first point found faster (1 or 2); (b) runs them all as one sweep. Rounds interleave a and b, so
// that a change in the machine's load hits both. Writes bench.json into DIR and a table to stdout.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PN = fileURLToPath(new URL('../bin/pn.js', import.meta.url));
const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const rounds = Number(option('--rounds', '2'));
const only = option('--only');
const out = option('--out') ?? mkdtempSync(join(tmpdir(), 'pn-bench-sweep-'));
mkdirSync(out, { recursive: true });

/** The grids: each point's `--set`s, and the sweep's `--grid`. */
const GRIDS = [
  {
    name: 'kink',
    preset: 'quick',
    sets: [],
    grid: ['penalty.lambda', [0.003, 0.01, 0.03, 0.1]],
  },
  {
    // ResNet-20 of the quick preset on fewer images: 4 steps an epoch.
    name: 'resnet',
    preset: 'quick',
    sets: ['data.train=256', 'data.validation=128', 'data.test=128'],
    grid: ['penalty.lambda', [0.01, 0.03]],
  },
].filter((g) => !only || g.name === only);

function pn(argv, env = {}) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(process.execPath, [PN, ...argv], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.on('close', (code) => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      if (code === 0) resolve(seconds);
      else reject(new Error(`pn ${argv.join(' ')} exited ${code}:\n${stderr}`));
    });
  });
}

const setArgs = (sets) => sets.flatMap((s) => ['--set', s]);
const pointSets = (g, value) => [...g.sets, `${g.grid[0]}=${JSON.stringify(value)}`];

async function sequential(g, threads, label) {
  let total = 0;
  for (const [i, value] of g.grid[1].entries()) {
    const dir = join(out, `${g.name}-${label}-run-${i + 1}`);
    total += await pn(['run', g.name, '--preset', g.preset, ...setArgs(pointSets(g, value)), '--out', dir], {
      TFJS_ONEDNN_THREADS: String(threads),
    });
    rmSync(dir, { recursive: true, force: true });
  }
  return total;
}

async function sweep(g, label) {
  const dir = join(out, `${g.name}-${label}-sweep`);
  const grid = `${g.grid[0]}=${g.grid[1].join(',')}`;
  const seconds = await pn([
    'sweep',
    g.name,
    '--preset',
    g.preset,
    ...setArgs(g.sets),
    '--grid',
    grid,
    '--workers',
    '2',
    '--out',
    dir,
  ]);
  const saved = JSON.parse(readFileSync(join(dir, 'sweep.json'), 'utf8'));
  const jobs = Object.values(saved.jobs);
  const bytes = jobs.map((job) => job.bytes ?? 0);
  rmSync(dir, { recursive: true, force: true });
  return {
    seconds,
    jobs: jobs.length,
    jobsPerMinute: (jobs.length / seconds) * 60,
    computeSeconds: saved.totals.computeSeconds,
    bytesPerJob: { mean: bytes.reduce((a, b) => a + b, 0) / bytes.length, max: Math.max(...bytes) },
    isa: saved.environment.isa,
    version: saved.version,
  };
}

const report = {
  machine: { cpus: cpus().length, model: cpus()[0]?.model, loadBefore: loadavg() },
  rounds,
  grids: [],
};
for (const g of GRIDS) {
  // Pilot: the first point at 1 and at 2 threads; (a) uses the faster.
  const first = { ...g, grid: [g.grid[0], [g.grid[1][0]]] };
  const pilot = { 1: await sequential(first, 1, 'pilot1'), 2: await sequential(first, 2, 'pilot2') };
  const threads = pilot[1] <= pilot[2] ? 1 : 2;
  const entry = { name: g.name, preset: g.preset, sets: g.sets, grid: g.grid, pilot, threads, rounds: [] };
  for (let r = 1; r <= rounds; r++) {
    const a = await sequential(g, threads, `r${r}`);
    const b = await sweep(g, `r${r}`);
    entry.rounds.push({ sequentialSeconds: a, sweep: b, ratio: b.seconds / a });
    process.stderr.write(
      `${g.name} round ${r}: sequential ${a.toFixed(1)} s, sweep ${b.seconds.toFixed(1)} s, ratio ${(b.seconds / a).toFixed(2)}\n`,
    );
  }
  report.grids.push(entry);
}
report.machine.loadAfter = loadavg();
writeFileSync(join(out, 'bench.json'), `${JSON.stringify(report, null, 2)}\n`);

const rows = [
  [
    'grid',
    'points',
    '(a) threads',
    'round',
    '(a) sequential s',
    '(b) sweep s',
    '(b)/(a)',
    'jobs',
    'jobs/min',
    'bytes/job (mean, max)',
  ],
];
for (const g of report.grids)
  for (const [i, r] of g.rounds.entries())
    rows.push([
      `${g.name} ${g.preset}`,
      String(g.grid[1].length),
      String(g.threads),
      String(i + 1),
      r.sequentialSeconds.toFixed(1),
      r.sweep.seconds.toFixed(1),
      r.ratio.toFixed(2),
      String(r.sweep.jobs),
      r.sweep.jobsPerMinute.toFixed(1),
      `${Math.round(r.sweep.bytesPerJob.mean)}, ${r.sweep.bytesPerJob.max}`,
    ]);
const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)));
for (const row of rows) process.stdout.write(`${row.map((cell, i) => cell.padEnd(widths[i])).join('  ')}\n`);
process.stdout.write(
  `\npilot (first point, 1 vs 2 threads): ${report.grids.map((g) => `${g.name} ${g.pilot[1].toFixed(1)} s vs ${g.pilot[2].toFixed(1)} s`).join('; ')}\n` +
    `load average before ${report.machine.loadBefore.map((l) => l.toFixed(2)).join(' ')}, after ${report.machine.loadAfter.map((l) => l.toFixed(2)).join(' ')} ` +
    `(${report.machine.cpus} × ${report.machine.model}, ${report.grids[0]?.rounds[0]?.sweep.isa ?? ''})\n${join(out, 'bench.json')}\n`,
);
