import { _FusedMatMul, type _FusedMatMulAttrs } from '@tensorflow/tfjs-core';
import { nativeMatMul } from './matmul_util.js';
import { type FusedInputs, fallback, type KernelArgs, registerNativeKernel } from './util.js';

export function fusedMatMul(args: KernelArgs) {
  const { a, b, bias, preluActivationWeights } = args.inputs as FusedInputs<'a' | 'b'>;
  const { transposeA, transposeB, activation } = args.attrs as unknown as _FusedMatMulAttrs;
  if (preluActivationWeights !== undefined || (activation !== 'linear' && activation !== 'relu')) {
    return fallback(_FusedMatMul, args);
  }
  return nativeMatMul(args, a, b, transposeA, transposeB, bias, activation === 'relu') ?? fallback(_FusedMatMul, args);
}

registerNativeKernel(_FusedMatMul, fusedMatMul);
