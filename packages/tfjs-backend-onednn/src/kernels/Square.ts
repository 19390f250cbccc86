import { Square } from '@tensorflow/tfjs-core';
import { UNARY_OPS } from '../native.js';
import { centered, writeSum } from './sum_util.js';
import { nativeUnary } from './unary_util.js';
import {
  addon,
  cpuBackend,
  DEFERRED_MIN,
  deferredOutput,
  f32,
  type Inputs,
  type KernelArgs,
  registerNativeKernel,
} from './util.js';

const SQUARE = UNARY_OPS.indexOf('square');

/**
 * Large float32 squares are deferred, so that a reduction of them reads x (see DeferredSource); of
 * an unread sum x + shift (tf.moments' x − mean, shift the negated mean), x and the shift.
 */
export function square(args: KernelArgs) {
  const { x } = args.inputs as Inputs<'x'>;
  const backend = cpuBackend(args);
  const shifted = x.dtype === 'float32' ? centered(backend, x) : null;
  if (shifted !== null) {
    const terms = [{ values: shifted.x }, { values: shifted.shift }];
    return deferredOutput(
      backend,
      x.shape,
      [shifted.x, shifted.shift],
      (out) => {
        writeSum(terms, out, false);
        addon().unary(SQUARE, out, out, 0);
      },
      { kind: 'square', values: shifted.x, shift: shifted.shift },
    );
  }
  const values = x.dtype === 'float32' ? f32(backend, x) : null;
  if (values === null || values.length < DEFERRED_MIN) return nativeUnary(Square, 'square', args);
  return deferredOutput(backend, x.shape, [values], (out) => addon().unary(SQUARE, values, out, 0), {
    kind: 'square',
    values,
  });
}

registerNativeKernel(Square, square);
