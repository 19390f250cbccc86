import { arch, cpus, platform } from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import { loadedOneDnn } from '../native-backend.js';
import type { Results } from '../report/results-schema.js';

/** Where the numbers came from. tfjs's cpu backend runs on one JavaScript thread. */
export function environment(): Results['environment'] {
  const backend = tf.getBackend();
  const threads = backend === 'onednn' ? (loadedOneDnn()?.getThreads() ?? null) : backend === 'cpu' ? 1 : null;
  const cores = cpus();
  return {
    backend,
    threads,
    node: process.version,
    tfjs: tf.version_core,
    platform: `${platform()} ${arch()}`,
    cpus: cores.length,
    cpuModel: cores[0]?.model.trim() ?? 'unknown',
  };
}
