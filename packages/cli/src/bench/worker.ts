// One measurement in a process of its own, so that its peak RSS is its own:
// node worker.js <workload> <backend> <batch> <steps> <warmUp>; prints one JSON line.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-layers';
import { describe } from '../experiments/summary.js';
import { loadOneDnn } from '../native-backend.js';
import { timeTrainingStep, WORKLOADS, type WorkloadName } from './workloads.js';

const [name, backend, batch, steps, warmUp] = process.argv.slice(2);
if (!(name in WORKLOADS)) throw new Error(`unknown workload ${name}`);
await loadOneDnn();
tf.enableProdMode();
if (!(await tf.setBackend(backend))) throw new Error(`backend ${backend} is not available`);
const times = timeTrainingStep(name as WorkloadName, Number(batch), Number(steps), Number(warmUp));
process.stdout.write(
  `${JSON.stringify({ ms: describe(times).median, times, peakRssMB: process.resourceUsage().maxRSS / 1024, backend: tf.getBackend() })}\n`,
);
