import { BatchMatMul, type BatchMatMulAttrs } from '@tensorflow/tfjs-core';
import { nativeMatMul } from './matmul_util.js';
import { fallback, type Inputs, type KernelArgs, registerNativeKernel } from './util.js';

export function batchMatMul(args: KernelArgs) {
  const { a, b } = args.inputs as Inputs<'a' | 'b'>;
  const { transposeA, transposeB } = args.attrs as unknown as BatchMatMulAttrs;
  return nativeMatMul(args, a, b, transposeA, transposeB, undefined, false) ?? fallback(BatchMatMul, args);
}

registerNativeKernel(BatchMatMul, batchMatMul);
