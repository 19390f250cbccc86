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
    const reason = oneDnn
      ? (oneDnn.nativeLoadError ?? 'the addon is not built')
      : 'tfjs-backend-onednn is not installed';
    process.stderr.write(
      `pn: native backend unavailable (${reason.split('\n')[0]}); running on tfjs cpu, which is far slower. ` +
        'Run bash scripts/setup.sh (needs libdnnl-dev and libopenblas-dev) to build it.\n',
    );
    await tf.setBackend('cpu');
  }
  await tf.ready();
  return tf.getBackend();
}
