import {
  broadcastTo,
  div,
  engine,
  FusedBatchNorm,
  type FusedBatchNormAttrs,
  type GradConfig,
  getBackend,
  getGradient,
  getKernelsForBackend,
  Mean,
  type NamedAttrMap,
  Relu,
  registerGradient,
  reshape,
  Square,
  Sum,
  Tanh,
  type Tensor,
  util,
} from '@tensorflow/tfjs-core';
import { FusedBatchNormGrad } from './kernels/FusedBatchNormGrad.js';
import { UnaryGrad } from './kernels/UnaryGrad.js';
import { BACKEND_NAME } from './kernels/util.js';
import { releasingAfter } from './release.js';
import { internalsAvailable, recordingBackwardPass } from './tfjs_internals.js';

/**
 * Gradients are registered per kernel name for every backend. While the onednn backend is active,
 * every registered gradient is wrapped for two things; on any other backend tfjs's own gradient
 * runs unchanged.
 * - A shorter route to the same values where tfjs composes a gradient from many full-size ops
 *   (the NATIVE table below): BatchNorm's backward pass runs about 17 passes over the
 *   activations, where one suffices.
 * - Memory: what an op saved for its gradient, and the gradients of its outputs, are disposed once
 *   its derivatives are computed (src/release.ts).
 */
type GradFunc = GradConfig['gradFunc'];
type Derivatives = ReturnType<GradFunc>;
/** A faster gradient for the onednn backend, or null where its inputs need tfjs's own. */
type NativeGradFunc = (dy: Tensor, saved: Tensor[], attrs: NamedAttrMap) => Derivatives | null;

const wrapped = new WeakSet<GradFunc>();

/** Ops whose saved tensors and output gradients hold fewer elements than this keep them to the end. */
export const RELEASE_MIN_ELEMENTS = 1 << 15;

/** The elements an op's gradient call holds: its output gradients and its saved tensors. */
function holds(dy: Tensor | Tensor[], saved: Tensor[]): number {
  let total = 0;
  for (const t of Array.isArray(dy) ? dy : [dy]) total += t?.size ?? 0;
  for (const t of saved) total += t?.size ?? 0;
  return total;
}

/**
 * Outputs an op's gradient saves besides what tfjs saves: Relu's output, from which its gradient
 * on onednn takes the sign (the same as the input's: relu keeps positives, NaN and −0 as they are,
 * and makes the rest 0), so that a Relu's input (a FusedBatchNorm output) need never be written.
 */
const OUTPUTS_TO_SAVE: Record<string, boolean[]> = { [Relu]: [true] };

/** Wraps the registered gradient of `kernelName` (once), with a faster one on onednn where given. */
function override(kernelName: string, native?: NativeGradFunc): void {
  const original = getGradient(kernelName);
  if (original === undefined || wrapped.has(original.gradFunc)) return;
  const gradFunc: GradFunc = (dy, saved, attrs) => {
    // A tape recording the backward pass (higher-order gradients) needs every tensor, and ops
    // that have gradients themselves: the native gradient kernels have none.
    if (getBackend() !== BACKEND_NAME || recordingBackwardPass()) return original.gradFunc(dy, saved, attrs);
    const compute = () => native?.(dy as Tensor, saved, attrs) ?? original.gradFunc(dy, saved, attrs);
    // Releasing early pays where an op holds large tensors; for small ones its bookkeeping costs
    // more than the memory is worth (a tenth of a kink-net step), and tfjs frees them at the end.
    return holds(dy, saved) < RELEASE_MIN_ELEMENTS ? compute() : releasingAfter(dy, saved, compute);
  };
  wrapped.add(gradFunc);
  const outputsToSave = OUTPUTS_TO_SAVE[kernelName];
  registerGradient({ ...original, gradFunc, ...(outputsToSave && !original.outputsToSave ? { outputsToSave } : {}) });
}

/** All five derivatives of FusedBatchNorm from one native pass over x and dy. */
const fusedBatchNormGrad: NativeGradFunc = (dy, saved, attrs) => {
  const [x, mean, variance, scale] = saved;
  const channels = x.shape[x.rank - 1];
  const perChannel = (t: Tensor | undefined | null) => t == null || (t.dtype === 'float32' && t.size === channels);
  if (x.dtype !== 'float32' || dy.dtype !== 'float32' || x.size === 0 || mean.rank !== 1) return null;
  if (!perChannel(mean) || !perChannel(variance) || !perChannel(scale)) return null;
  const { varianceEpsilon } = attrs as unknown as FusedBatchNormAttrs;
  const inputs = { x, dy, mean, variance, ...(scale == null ? {} : { scale }) };
  const [dx, dMean, dVariance, dScale, dOffset] = engine().runKernel(FusedBatchNormGrad, inputs, {
    varianceEpsilon,
  }) as Tensor[];
  return { x: () => dx, mean: () => dMean, variance: () => dVariance, scale: () => dScale, offset: () => dOffset };
};

/**
 * Mean and Sum spread dy back over the reduced axes. tfjs multiplies by a full tensor of ones (and
 * then divides); a broadcast of the already scaled dy writes the result once.
 */
function spreadGrad(scaleByCount: boolean): NativeGradFunc {
  return (dy, saved, attrs) => {
    const [x] = saved;
    if (x.dtype !== 'float32') return null;
    const axes = util.parseAxisParam((attrs as { axis: number | number[] }).axis, x.shape);
    const keptShape = x.shape.map((size, axis) => (axes.includes(axis) ? 1 : size));
    const count = axes.reduce((product, axis) => product * x.shape[axis], 1);
    return { x: () => broadcastTo(reshape(scaleByCount ? div(dy, count) : dy, keptShape), x.shape) };
  };
}

/**
 * Relu, Tanh and Square: one native pass over dy and the saved tensor `from` (the last saved: for
 * Relu its output, saved after its input, see OUTPUTS_TO_SAVE; the first: Square's input, Tanh's output).
 */
function unaryGrad(op: 'relu' | 'tanh' | 'square', from: 'first' | 'last' = 'first'): NativeGradFunc {
  return (dy, savedTensors) => {
    const saved = savedTensors[from === 'first' ? 0 : savedTensors.length - 1];
    if (saved.dtype !== 'float32' || dy.dtype !== 'float32' || saved.size === 0 || saved.size !== dy.size) return null;
    const dx = engine().runKernel(UnaryGrad, { dy, x: saved }, { op }) as Tensor;
    return { x: () => dx };
  };
}

const NATIVE: Record<string, NativeGradFunc> = {
  [FusedBatchNorm]: fusedBatchNormGrad,
  [Mean]: spreadGrad(true),
  [Sum]: spreadGrad(false),
  [Relu]: unaryGrad('relu', 'last'),
  [Tanh]: unaryGrad('tanh'),
  [Square]: unaryGrad('square'),
};

/**
 * Wraps the gradient of every kernel, wrapping whatever is registered now. Called when the backend
 * is registered and again when it is created, so that gradients registered later by tfjs-layers
 * or `@tensorflow/tfjs` are wrapped too.
 */
export function registerNativeGradients(): void {
  // The NATIVE table is public API (getGradient, registerGradient, runKernel), but a native
  // gradient may run only where the backward pass is not itself recorded, and only the engine's
  // private gradient depth tells that. On a tfjs-core this backend was not tested with, nothing is
  // wrapped: tfjs's own gradients run, on the same values.
  if (!internalsAvailable()) return;
  for (const { kernelName } of getKernelsForBackend('cpu')) override(kernelName, NATIVE[kernelName]);
}
