// One measurement in a process of its own, so that its peak RSS is its own:
// node worker.js <workload> <backend> <batch> <steps> <warmUp> <minSeconds> [penalty solutions]; prints one JSON line.
// `node worker.js sgemm <backend>` measures the backend's sgemm GFLOP/s instead.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-layers';
import { describe } from '../experiments/summary.js';
import { loadOneDnn } from '../native-backend.js';
import { sgemmGflops, timeTrainingStep, WORKLOADS, type WorkloadName } from './workloads.js';

const [name, backend, batch, steps, warmUp, minSeconds = '0', penaltySolutions = '0'] = process.argv.slice(2);
await loadOneDnn();
tf.enableProdMode();
if (!(await tf.setBackend(backend))) throw new Error(`backend ${backend} is not available`);
const peakRssMB = () => process.resourceUsage().maxRSS / 1024;
if (name === 'sgemm') {
  process.stdout.write(
    `${JSON.stringify({ gflops: sgemmGflops(), peakRssMB: peakRssMB(), backend: tf.getBackend() })}\n`,
  );
} else {
  if (!(name in WORKLOADS)) throw new Error(`unknown workload ${name}`);
  const times = timeTrainingStep(
    name as WorkloadName,
    Number(batch),
    Number(steps),
    Number(warmUp),
    Number(penaltySolutions),
    Number(minSeconds),
  );
  process.stdout.write(
    `${JSON.stringify({ ms: describe(times).median, times, peakRssMB: peakRssMB(), backend: tf.getBackend() })}\n`,
  );
}
