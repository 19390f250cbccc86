import { broadcast_util, type TensorInfo } from '@tensorflow/tfjs-core';
import { addon, cpuBackend, f32, isChannelBias, type KernelArgs, outputArray, packDims, sizeOf } from './util.js';

/** a·b with optional channel bias and relu, natively; null when the inputs are outside what the addon takes. */
export function nativeMatMul(
  args: KernelArgs,
  a: TensorInfo,
  b: TensorInfo,
  transposeA: boolean,
  transposeB: boolean,
  bias: TensorInfo | undefined,
  relu: boolean,
): TensorInfo | null {
  const backend = cpuBackend(args);
  const aValues = f32(backend, a);
  const bValues = f32(backend, b);
  if (aValues === null || bValues === null || a.shape.length < 2 || b.shape.length < 2) return null;
  const aRank = a.shape.length;
  const bRank = b.shape.length;
  const k = transposeA ? a.shape[aRank - 2] : a.shape[aRank - 1];
  const kB = transposeB ? b.shape[bRank - 1] : b.shape[bRank - 2];
  const m = transposeA ? a.shape[aRank - 1] : a.shape[aRank - 2];
  const n = transposeB ? b.shape[bRank - 2] : b.shape[bRank - 1];
  if (k !== kB) return null;
  const outerA = a.shape.slice(0, -2);
  const outerB = b.shape.slice(0, -2);
  const batchA = sizeOf(outerA);
  const batchB = sizeOf(outerB);
  const outer = broadcast_util.assertAndGetBroadcastShape(outerA, outerB);
  const batch = Math.max(batchA, batchB);
  if (sizeOf(outer) !== batch || (batchA !== batchB && batchA !== 1 && batchB !== 1)) return null;
  const outShape = [...outer, m, n];
  let biasValues: Float32Array | undefined;
  if (bias !== undefined) {
    const values = f32(backend, bias);
    if (values === null || !isChannelBias(bias.shape, n, outShape.length)) return null;
    biasValues = values;
  }
  const out = outputArray(backend, batch * m * n);
  addon().matMul(
    packDims(batchA, batchB, m, n, k, transposeA ? 1 : 0, transposeB ? 1 : 0, relu ? 1 : 0),
    aValues,
    bValues,
    out,
    biasValues,
  );
  return backend.makeTensorInfo(outShape, 'float32', out);
}
