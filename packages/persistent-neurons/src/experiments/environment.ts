import { arch, cpus, platform } from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import type { Results } from '../report/results-schema.js';

/** Where the numbers came from. tfjs's cpu backend runs on one JavaScript thread. */
export function environment(threads: number | null = tf.getBackend() === 'cpu' ? 1 : null): Results['environment'] {
  const cores = cpus();
  return {
    backend: tf.getBackend(),
    threads,
    node: process.version,
    tfjs: tf.version_core,
    platform: `${platform()} ${arch()}`,
    cpus: cores.length,
    cpuModel: cores[0]?.model.trim() ?? 'unknown',
  };
}
