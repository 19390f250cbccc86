import { addon, cpuBackend, f32, fallback, type Inputs, type KernelArgs, outputArray } from './util.js';

/** An elementwise float32 op natively; other dtypes and empty tensors go to the cpu kernel. */
export function nativeUnary(
  kernelName: string,
  op: 'relu' | 'tanh' | 'step' | 'square' | 'neg',
  args: KernelArgs,
  alpha?: number,
) {
  const { x } = args.inputs as Inputs<'x'>;
  const backend = cpuBackend(args);
  const xValues = f32(backend, x);
  if (xValues === null) return fallback(kernelName, args);
  const out = outputArray(backend, xValues.length);
  addon().unary({ op, x: xValues, out, ...(alpha === undefined ? {} : { alpha }) });
  return backend.makeTensorInfo(x.shape, 'float32', out);
}
