import * as tfl from '@tensorflow/tfjs-layers';
import { mixSeed } from 'persistent-neurons';

/**
 * How a model's kernels are drawn. `glorot` and `he` are the good defaults; `tiny` (N(0, 0.01²))
 * starts every unit near zero, where gradients vanish; `large` (N(0, 1)) saturates tanh and
 * sigmoid units. Biases always start at zero, as tfjs-layers does.
 */
export type InitScheme = 'glorot' | 'he' | 'tiny' | 'large';
export const INIT_SCHEMES: readonly InitScheme[] = ['glorot', 'he', 'tiny', 'large'];

/** The kernel initializer of layer `index` of a model built with `seed`: every layer draws its own stream. */
export function kernelInitializer(scheme: InitScheme, seed: number, index: number) {
  const layerSeed = mixSeed(seed, index) % 2147483647;
  switch (scheme) {
    case 'glorot':
      return tfl.initializers.glorotUniform({ seed: layerSeed });
    case 'he':
      return tfl.initializers.heNormal({ seed: layerSeed });
    case 'tiny':
      return tfl.initializers.randomNormal({ mean: 0, stddev: 0.01, seed: layerSeed });
    case 'large':
      return tfl.initializers.randomNormal({ mean: 0, stddev: 1, seed: layerSeed });
  }
}
