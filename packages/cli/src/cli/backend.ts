import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
// tfjs-layers registers the gradients of every op.
import '@tensorflow/tfjs-layers';
import { loadOneDnn } from '../native-backend.js';

/**
 * The CLI's backend: the native `onednn` when its addon is built, else tfjs's `cpu` with one
 * warning line. Prod mode skips tfjs's debug checks.
 */
export async function initBackend(): Promise<string> {
  tf.enableProdMode();
  const oneDnn = await loadOneDnn();
  if (oneDnn?.nativeAvailable()) {
    await tf.setBackend('onednn');
  } else {
    const why = oneDnn
      ? (oneDnn.nativeUnavailableMessage() ??
        `tfjs-backend-onednn: ${oneDnn.nativeLoadError ?? 'the native addon is not loaded'}`)
      : 'tfjs-backend-onednn is not installed (npm install tfjs-backend-onednn, with libdnnl-dev and libopenblas-dev)';
    process.stderr.write(`pn: running on tfjs cpu, which is far slower: ${why}\n`);
    await tf.setBackend('cpu');
  }
  await tf.ready();
  return tf.getBackend();
}
