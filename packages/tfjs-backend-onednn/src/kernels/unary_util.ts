import { UNARY_OPS, type UnaryOp } from '../native.js';
import { addon, cpuBackend, f32, fallback, type Inputs, type KernelArgs, outputArray } from './util.js';

/** An elementwise float32 op natively; other dtypes and empty tensors go to the cpu kernel. */
export function nativeUnary(kernelName: string, op: UnaryOp, args: KernelArgs, alpha?: number) {
  const { x } = args.inputs as Inputs<'x'>;
  const backend = cpuBackend(args);
  const xValues = f32(backend, x);
  if (xValues === null) return fallback(kernelName, args);
  const out = outputArray(backend, xValues.length);
  addon().unary(UNARY_OPS.indexOf(op), xValues, out, alpha ?? 0);
  return backend.makeTensorInfo(x.shape, 'float32', out);
}
