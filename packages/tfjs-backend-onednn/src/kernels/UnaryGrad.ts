import { UNARY_GRAD_OPS, type UnaryGradOp } from '../native.js';
import { centered, deferredSum } from './sum_util.js';
import {
  addon,
  cpuBackend,
  DEFERRED_MIN,
  deferredOutput,
  deferredSourceOf,
  f32,
  type Inputs,
  type KernelArgs,
  outputArray,
  registerNativeKernel,
  repeatsAlongLeadingAxes,
  sizeOf,
} from './util.js';

/**
 * The gradient of Relu, Tanh or Square (attr `op`) from dy and the tensor tfjs saves for it (the
 * input of relu and square, the output of tanh), in one pass where tfjs runs two or three ops.
 * Only the onednn backend has it; gradients.ts calls it for float32 tensors.
 */
export const UnaryGrad = 'OneDnnUnaryGrad';

export function unaryGrad(args: KernelArgs) {
  const { dy, x } = args.inputs as Inputs<'dy' | 'x'>;
  const { op } = args.attrs as unknown as { op: UnaryGradOp };
  const code = UNARY_GRAD_OPS.indexOf(op);
  if (code < 0) throw new Error(`${UnaryGrad}: unknown op '${op}'; expected one of ${UNARY_GRAD_OPS.join(', ')}`);
  const backend = cpuBackend(args);
  // dy spread over leading axes (the gradient of a mean, e.g. BatchNorm's variance) is read as the
  // array it repeats; reading its values would make the full array.
  const source = deferredSourceOf(backend, dy, 'broadcast');
  const dyValues =
    source !== null && repeatsAlongLeadingAxes(source.shape, dy.shape) ? source.values : f32(backend, dy);
  // The square of an unread sum x + shift (tf.moments' x − mean): its gradient reads x and the shift.
  const shifted = op === 'square' ? centered(backend, x) : null;
  const xValues = shifted?.x ?? f32(backend, x);
  if (dyValues === null || xValues === null || sizeOf(dy.shape) !== xValues.length) {
    throw new Error(`${UnaryGrad}: expects non-empty float32 dy and x of one size`);
  }
  // A Relu gradient of full-size dy is deferred: FusedBatchNorm's gradient reads dy and the relu's
  // output instead (see DeferredSource), where a BatchNorm layer is followed by a relu.
  if (op === 'relu' && source === null && xValues.length >= DEFERRED_MIN && dyValues.length === xValues.length)
    return deferredOutput(
      backend,
      dy.shape,
      [dyValues, xValues],
      (out) => addon().unaryGrad(code, dyValues, xValues, out),
      {
        kind: 'reluGrad',
        dy: dyValues,
        output: xValues,
      },
    );
  // A large square's gradient is a deferred one-term sum: in a BatchNorm's moments, Sum reads it
  // for the mean's gradient and Add for the input's, and neither writes it (see DeferredSource).
  if (op === 'square' && xValues.length >= DEFERRED_MIN)
    return deferredSum(backend, dy.shape, [{ values: dyValues, x: xValues, ...(shifted && { shift: shifted.shift }) }]);
  const out = outputArray(backend, xValues.length);
  addon().unaryGrad(code, dyValues, xValues, out);
  return backend.makeTensorInfo(dy.shape, 'float32', out);
}

registerNativeKernel(UnaryGrad, unaryGrad);
