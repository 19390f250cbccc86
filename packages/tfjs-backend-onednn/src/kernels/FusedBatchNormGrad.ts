import type { FusedBatchNormAttrs } from '@tensorflow/tfjs-core';
import { channelValues } from './FusedBatchNorm.js';
import {
  addon,
  cpuBackend,
  deferredSourceOf,
  f32,
  type Inputs,
  type KernelArgs,
  outputArray,
  registerNativeKernel,
} from './util.js';

/**
 * The gradient of FusedBatchNorm with respect to x, mean, variance, scale and offset, in one pass
 * over x and dy. Only the onednn backend has it: the gradient in gradients.ts calls it when the
 * inputs are per-channel float32 (see `canRun`), and tfjs's own gradient otherwise.
 */
export const FusedBatchNormGrad = 'OneDnnFusedBatchNormGrad';

export function fusedBatchNormGrad(args: KernelArgs) {
  const { x, dy, mean, variance, scale } = args.inputs as Inputs<'x' | 'dy' | 'mean' | 'variance'> &
    Partial<Inputs<'scale'>>;
  const { varianceEpsilon } = args.attrs as unknown as FusedBatchNormAttrs;
  const backend = cpuBackend(args);
  const channels = x.shape[x.shape.length - 1];
  const xValues = f32(backend, x);
  // dy as an unread Relu gradient (a BatchNorm layer followed by a relu): its dy and the relu's
  // output, the gradient of the normalization taken in this pass.
  const relu = deferredSourceOf(backend, dy, 'reluGrad');
  const dyValues = relu?.dy ?? f32(backend, dy);
  const [meanValues, varianceValues, scaleValues] = [mean, variance, scale].map((t) =>
    channelValues(backend, t, channels),
  );
  if (xValues === null || dyValues === null || !meanValues || !varianceValues || scaleValues === undefined) {
    throw new Error(
      `${FusedBatchNormGrad}: expects float32 x and dy and one float32 per channel in mean, variance, scale`,
    );
  }
  const dx = outputArray(backend, xValues.length);
  const [dMean, dVariance, dScale, dOffset] = [0, 1, 2, 3].map(() => outputArray(backend, channels));
  addon().batchNormGrad({
    x: xValues,
    dy: dyValues,
    ...(relu ? { reluOutput: relu.output } : {}),
    mean: meanValues,
    variance: varianceValues,
    ...(scaleValues ? { scale: scaleValues } : {}),
    channels,
    epsilon: varianceEpsilon,
    dx,
    dMean,
    dVariance,
    dScale,
    dOffset,
  });
  return [
    backend.makeTensorInfo(x.shape, 'float32', dx),
    ...[dMean, dVariance, dScale, dOffset].map((values) => backend.makeTensorInfo([channels], 'float32', values)),
  ];
}

registerNativeKernel(FusedBatchNormGrad, fusedBatchNormGrad);
