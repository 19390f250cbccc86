import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-layers';

tf.enableProdMode();
await tf.setBackend('cpu');

export { tf };
