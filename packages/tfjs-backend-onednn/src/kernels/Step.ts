import { Step, type StepAttrs } from '@tensorflow/tfjs-core';
import { nativeUnary } from './unary_util.js';
import { type KernelArgs, registerNativeKernel } from './util.js';

export function step(args: KernelArgs) {
  const { alpha } = args.attrs as unknown as StepAttrs;
  return nativeUnary(Step, 'step', args, alpha ?? 0);
}

registerNativeKernel(Step, step);
