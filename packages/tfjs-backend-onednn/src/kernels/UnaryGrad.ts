import { addon, cpuBackend, f32, type Inputs, type KernelArgs, outputArray, registerNativeKernel } from './util.js';

/**
 * The gradient of Relu, Tanh or Square (attr `op`) from dy and the tensor tfjs saves for it (the
 * input of relu and square, the output of tanh), in one pass where tfjs runs two or three ops.
 * Only the onednn backend has it; gradients.ts calls it for float32 tensors.
 */
export const UnaryGrad = 'OneDnnUnaryGrad';

export function unaryGrad(args: KernelArgs) {
  const { dy, x } = args.inputs as Inputs<'dy' | 'x'>;
  const { op } = args.attrs as unknown as { op: 'relu' | 'tanh' | 'square' };
  const backend = cpuBackend(args);
  const dyValues = f32(backend, dy);
  const xValues = f32(backend, x);
  if (dyValues === null || xValues === null) {
    throw new Error(`${UnaryGrad}: expects non-empty float32 dy and x`);
  }
  const out = outputArray(backend, dyValues.length);
  addon().unaryGrad({ op, dy: dyValues, x: xValues, out });
  return backend.makeTensorInfo(dy.shape, 'float32', out);
}

registerNativeKernel(UnaryGrad, unaryGrad);
