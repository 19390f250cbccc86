import { backend_util } from '@tensorflow/tfjs-core';
import { addon, cpuBackend, f32, fallback, type Inputs, type KernelArgs, outputArray, sizeOf } from './util.js';

/** A broadcasting float32 binary op natively; other dtypes and empty tensors go to the cpu kernel. */
export function nativeBinary(kernelName: string, op: 'add' | 'sub' | 'mul' | 'div', args: KernelArgs) {
  const { a, b } = args.inputs as Inputs<'a' | 'b'>;
  const backend = cpuBackend(args);
  const aValues = f32(backend, a);
  const bValues = f32(backend, b);
  if (aValues === null || bValues === null) return fallback(kernelName, args);
  const outShape = backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
  const out = outputArray(backend, sizeOf(outShape));
  addon().binary({ op, a: aValues, aShape: a.shape, b: bValues, bShape: b.shape, out });
  return backend.makeTensorInfo(outShape, 'float32', out);
}
