import * as tfl from '@tensorflow/tfjs-layers';
import { type InitScheme, kernelInitializer } from './initializers.js';

export interface MlpOptions {
  /** Input width, hidden widths…, output width. */
  sizes: number[];
  activation?: 'relu' | 'tanh' | 'sigmoid';
  init?: InitScheme;
  seed?: number;
}

/** A dense network; layers hidden1…hiddenN and output. With `glorot` it is tfjs-layers' default init. */
export function mlp({ sizes, activation = 'relu', init = 'glorot', seed = 1 }: MlpOptions): tfl.Sequential {
  if (sizes.length < 2) throw new Error('an MLP needs at least an input and an output size');
  return tfl.sequential({
    name: 'mlp',
    layers: sizes.slice(1).map((units, i) => {
      const last = i === sizes.length - 2;
      return tfl.layers.dense({
        name: last ? 'output' : `hidden${i + 1}`,
        units,
        activation: last ? 'linear' : activation,
        kernelInitializer: kernelInitializer(init, seed, i),
        ...(i === 0 ? { inputShape: [sizes[0]] } : {}),
      });
    }),
  });
}
