import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
// tfjs-layers registers the gradients of every op.
import '@tensorflow/tfjs-layers';

/** Picks the backend for the CLI. Prod mode skips tfjs's debug checks (and its Node.js banner). */
export async function initBackend(): Promise<string> {
  tf.enableProdMode();
  await tf.setBackend('cpu');
  await tf.ready();
  return tf.getBackend();
}
