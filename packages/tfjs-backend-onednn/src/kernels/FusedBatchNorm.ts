import { FusedBatchNorm, type FusedBatchNormAttrs, type TensorInfo } from '@tensorflow/tfjs-core';
import {
  addon,
  cpuBackend,
  DEFERRED_MIN,
  deferredOutput,
  f32,
  fallback,
  type Inputs,
  type KernelArgs,
  outputArray,
  registerNativeKernel,
} from './util.js';

/** The values of an optional per-channel parameter: null when absent, undefined when not one float32 per channel. */
export function channelValues(
  backend: ReturnType<typeof cpuBackend>,
  t: TensorInfo | null | undefined,
  channels: number,
): Float32Array | null | undefined {
  if (t === null || t === undefined) return null;
  const values = f32(backend, t);
  return values !== null && values.length === channels ? values : undefined;
}

export function fusedBatchNorm(args: KernelArgs) {
  const { x, mean, variance, offset, scale } = args.inputs as Inputs<'x' | 'mean' | 'variance'> &
    Partial<Inputs<'offset' | 'scale'>>;
  const { varianceEpsilon } = args.attrs as unknown as FusedBatchNormAttrs;
  const backend = cpuBackend(args);
  const xValues = f32(backend, x);
  const channels = x.shape[x.shape.length - 1];
  const [meanValues, varianceValues, offsetValues, scaleValues] = [mean, variance, offset, scale].map((t) =>
    channelValues(backend, t, channels),
  );
  if (xValues === null || !meanValues || !varianceValues || offsetValues === undefined || scaleValues === undefined) {
    return fallback(FusedBatchNorm, args);
  }
  const params = {
    x: xValues,
    mean: meanValues,
    variance: varianceValues,
    ...(offsetValues ? { offset: offsetValues } : {}),
    ...(scaleValues ? { scale: scaleValues } : {}),
    channels,
    epsilon: varianceEpsilon,
  };
  if (xValues.length < DEFERRED_MIN) {
    const out = outputArray(backend, xValues.length);
    addon().batchNorm({ ...params, out });
    return backend.makeTensorInfo(x.shape, 'float32', out);
  }
  // Deferred: a Relu of the output (a BatchNorm layer followed by a relu) writes both in one pass.
  const held = [xValues, meanValues, varianceValues, offsetValues, scaleValues].filter((v) => v !== null);
  return deferredOutput(backend, x.shape, held, (out) => addon().batchNorm({ ...params, out }), {
    kind: 'normalization',
    relu: (out) => addon().batchNorm({ ...params, relu: true, out }),
  });
}

registerNativeKernel(FusedBatchNorm, fusedBatchNorm);
