// What the asynchronous trainer's turns to the event loop cost, on the kink net (10 seeds as one
// batched model, the `quick` settings: K = 4, E = 250, 4 steps per epoch), against the
// synchronous loop it replaced (test/core/sync-reference.ts).
//
//   npx tsc -b packages/persistent-neurons && node packages/persistent-neurons/bench/yield-overhead.mjs [--backend cpu|onednn] [--rounds 9]
//
// Variants: `sync` the old loop (no yields, no curves); `async, never` the trainer with
// yieldEveryMs = Infinity (its learning curves, no yields); `async, 10 ms` the default;
// `async, 0 ms` a turn after every batch. Each round runs every variant once, in a rotated order;
// per round each variant's time is divided by that round's `sync` time, and the medians of those
// ratios are printed, for wall time and for the process's CPU time (user + system): on a shared
// machine the load changes between rounds, less within one. The turns a run took (setImmediate
// calls) and the cost of one turn, measured alone, bound the yields' share independently.
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { disposeResult, methodOptions, trainPersistent } from '../dist/src/core/index.js';
import { KinkTask, kinkDefaults, makeKinkData } from '../dist/src/tasks/index.js';
import { trainPersistentSync } from '../dist/test/core/sync-reference.js';

const { values } = parseArgs({
  options: { backend: { type: 'string', default: 'cpu' }, rounds: { type: 'string', default: '9' } },
});
if (values.backend === 'onednn') await import('tfjs-backend-onednn');
tf.enableProdMode();
if (!(await tf.setBackend(values.backend))) throw new Error(`no tfjs backend "${values.backend}"`);

const data = makeKinkData(kinkDefaults.data);
const seeds = Array.from({ length: 10 }, (_, i) => i + 1);
const options = methodOptions('persistent', kinkDefaults);
const steps = options.trajectories * options.epochs * Math.ceil(data.train.x.length / kinkDefaults.batchSize);

const variants = {
  sync: (task) => trainPersistentSync(task, options),
  'async, never': (task) => trainPersistent(task, { ...options, yieldEveryMs: Number.POSITIVE_INFINITY }),
  'async, 10 ms': (task) => trainPersistent(task, options),
  'async, 0 ms': (task) => trainPersistent(task, { ...options, yieldEveryMs: 0 }),
};
const names = Object.keys(variants);

// Counts the trainer's turns: it calls setImmediate once per turn.
let turns = 0;
const setImmediate = globalThis.setImmediate;
globalThis.setImmediate = (callback, ...args) => {
  turns++;
  return setImmediate(callback, ...args);
};

async function time(run) {
  const task = new KinkTask(data, kinkDefaults.hidden, seeds, kinkDefaults.batchSize);
  turns = 0;
  const [start, cpuStart] = [performance.now(), process.cpuUsage()];
  const result = await run(task);
  const cpu = process.cpuUsage(cpuStart);
  const ms = { wall: performance.now() - start, cpu: (cpu.user + cpu.system) / 1000, turns };
  disposeResult(result);
  task.dispose();
  return ms;
}

const median = (xs) => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

// One turn alone: a setImmediate round trip, the median of 20 batches of 1000.
const turnCosts = [];
for (let batch = 0; batch < 20; batch++) {
  const start = performance.now();
  for (let i = 0; i < 1000; i++) await new Promise((resolve) => setImmediate(resolve));
  turnCosts.push(performance.now() - start);
}
const turnUs = median(turnCosts);

const rounds = Number(values.rounds);
const times = Object.fromEntries(names.map((name) => [name, []]));
await time(variants.sync); // warm-up: kernels, first allocations
for (let round = 0; round < rounds; round++) {
  const order = names.map((_, i) => names[(i + round) % names.length]);
  for (const name of order) times[name].push(await time(variants[name]));
}

console.log(
  `backend ${tf.getBackend()}, ${steps} steps per run, ${rounds} rounds; one turn alone: ${turnUs.toFixed(1)} µs`,
);
for (const clock of ['wall', 'cpu']) {
  for (const name of names) {
    const ratios = times[name].map((t, round) => t[clock] / times.sync[round][clock]);
    const perStep = (1000 * median(times[name].map((t) => t[clock]))) / steps;
    console.log(
      `${clock.padEnd(4)} ${name.padEnd(13)} ${perStep.toFixed(0).padStart(5)} µs/step (median)` +
        `  vs sync: median ratio ${(100 * (median(ratios) - 1)).toFixed(1).padStart(5)}%` +
        `  [${ratios.map((r) => (100 * (r - 1)).toFixed(0)).join(' ')}]`,
    );
  }
}
for (const name of names.filter((n) => n.startsWith('async'))) {
  const turnsPerRun = median(times[name].map((t) => t.turns));
  const share = (turnsPerRun * turnUs) / 1000 / median(times.sync.map((t) => t.cpu));
  console.log(
    `${name}: ${turnsPerRun} turns per run; × ${turnUs.toFixed(1)} µs = ${(100 * share).toFixed(2)}% of sync's CPU time`,
  );
}
