import { totalmem } from 'node:os';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import {
  type BackendValues,
  type DataId,
  type DataType,
  findBackendFactory,
  getKernel,
  getKernelsForBackend,
  registerBackend,
  registerKernel,
  type TensorInfo,
  util,
} from '@tensorflow/tfjs-core';
import { BufferPool } from './buffer_pool.js';
import './kernels/all_kernels.js';
import { registerNativeGradients } from './gradients.js';
import { BACKEND_NAME } from './kernels/util.js';
import { nativeAvailable } from './native.js';
import {
  defineLazyValues,
  defineValues,
  type Entry,
  internalsAvailable,
  skipNodeBackendAdvice,
} from './tfjs_internals.js';

/**
 * What an unread deferred output is, for the kernels that can read it without making it:
 * - `broadcast`: `values` (of `shape`) repeated to `broadcastShape` (tfjs's broadcastTo, which the
 *   gradients of Mean and Sum use to spread a per-channel value over an activation); binary
 *   arithmetic and UnaryGrad read `values`. A Reshape shares the data id under another shape: the
 *   source describes only `broadcastShape`.
 * - `square`: the elementwise square of `values` (the variance's in tf.moments), or of `values +
 *   shift` (shift repeating: the square of a deferred subtraction x − mean); Sum and Mean read
 *   `values` and square as they sum (with a shift, where it is one value or per column).
 * - `normalization`: a FusedBatchNorm output; `relu` writes relu of it from the normalization's
 *   inputs in one pass, for a Relu of it.
 * - `reluGrad`: Relu's gradient `dy · step(output)`; FusedBatchNorm's gradient reads `dy` and `output`.
 * - `sum`: `terms[0] + terms[1] + …`, added left to right in float (the bits a chain of Add kernels
 *   gives): a square's gradient (UnaryGrad) is a one-term sum, and Add of a sum and one term appends
 *   it, so the gradient contributions a BatchNorm's input collects (its own, and its batch
 *   statistics': tf.moments' square and mean) are added in one pass when the sum is read. Sum and
 *   Mean read a one-term square gradient as its `dy` and `x`, Relu a sum as it adds. A large Sub
 *   whose second operand repeats along the output's leading axes is the sum of the first and the
 *   negated second (x − m is x + (−m), bit for bit but for the sign of a NaN m): tf.moments'
 *   x − mean, whose Square and whose square's gradient read x and the negated mean.
 * The elementwise kinds hold for a reshaped view too.
 */
export type DeferredSource =
  | { kind: 'broadcast'; values: Float32Array; shape: number[]; broadcastShape: number[] }
  | { kind: 'square'; values: Float32Array; shift?: Float32Array }
  | { kind: 'normalization'; relu: (out: Float32Array) => void }
  | { kind: 'reluGrad'; dy: Float32Array; output: Float32Array }
  | { kind: 'sum'; terms: SumTerm[] };

/**
 * A term of a deferred sum: `values` of the output's length or repeating along it every
 * values.length elements (a broadcast over leading axes), or with `x` the gradient of a square
 * `values · (2x)` (UnaryGrad's arithmetic), x of the output's length; with `shift` too (repeating),
 * the gradient of the square of `x + shift`, `values · (2(x + shift))`.
 */
export interface SumTerm {
  values: Float32Array;
  x?: Float32Array;
  shift?: Float32Array;
}

/** Priority above the cpu backend's (1), so tfjs picks onednn by default once it is registered. */
export const BACKEND_PRIORITY = 3;

/**
 * The most bytes of freed tensor memory the backend keeps for reuse: a quarter of the machine's
 * memory. A training step frees and reallocates its whole working set (a ResNet-20 step at batch
 * 128: 1.2 GB), and every array the pool cannot keep is zero-filled and page-faulted in again:
 * with 256 MB that step took twice as long. `backend.buffers.clear()` hands the memory back.
 */
export const BUFFER_POOL_LIMIT_BYTES = Math.floor(totalmem() / 4);

/**
 * The cpu backend with native kernels: tensors live in the same typed arrays, so every kernel
 * without a native version runs the cpu backend's code unchanged. Native kernels write into
 * arrays from a pool of freed tensor memory (see BufferPool); the overrides below tell the pool
 * which tensor entries hold which arrays, and which arrays left the backend.
 */
export class OneDnnBackend extends MathBackendCPU {
  readonly buffers = new BufferPool(BUFFER_POOL_LIMIT_BYTES);
  /** Entries whose values are not computed yet, with the input arrays they hold (see `deferred`). */
  private readonly unsettled = new WeakMap<Entry, Float32Array[]>();
  /** What some unsettled entries are (see `deferred`). */
  private readonly sources = new WeakMap<Entry, DeferredSource>();

  constructor() {
    super();
    // The cpu backend advises installing a faster Node backend on first use; this is one.
    if (internalsAvailable()) skipNodeBackendAdvice(this);
    registerNativeGradients();
  }

  override write(values: BackendValues, shape: number[], dtype: DataType): DataId {
    this.buffers.retain(values);
    return super.write(values, shape, dtype);
  }

  override move(dataId: DataId, values: BackendValues, shape: number[], dtype: DataType, refCount: number): void {
    const previous = this.data.has(dataId) ? this.data.get(dataId).values : undefined;
    this.buffers.retain(values);
    super.move(dataId, values, shape, dtype, refCount);
    this.buffers.release(previous);
  }

  override readSync(dataId: DataId): BackendValues {
    const values = super.readSync(dataId);
    this.buffers.escape(values);
    return values;
  }

  override disposeData(dataId: DataId, force = false): boolean {
    const entry: Entry | undefined = this.data.has(dataId) ? this.data.get(dataId) : undefined;
    const inputs = entry === undefined ? undefined : this.unsettled.get(entry);
    // Reading the values of an unsettled entry would compute them: look first.
    const values = entry === undefined || inputs !== undefined ? undefined : entry.values;
    const disposed = super.disposeData(dataId, force);
    if (entry !== undefined && !this.data.has(dataId)) {
      if (inputs !== undefined) this.settle(entry, new Float32Array(0), inputs);
      else this.buffers.release(values);
    }
    return disposed;
  }

  /**
   * A float32 kernel output computed when its values are first read, and never if the tensor is
   * disposed unread. tfjs computes some gradients nobody uses (a fused convolution's gradient
   * gives the input's even for the first layer, whose input is data); deferring costly ones skips
   * that work. With a `source`, kernels that understand it read the output without making it (see
   * DeferredSource): arrays written only to be read once by one of them are never written.
   * `inputs` are held (never recycled by the pool) until then; the kernel must have validated
   * everything, so that `compute` cannot fail. On a tfjs-core this backend was not tested with,
   * the output is computed now.
   */
  deferred(
    shape: number[],
    inputs: Float32Array[],
    compute: (out: Float32Array) => void,
    source?: DeferredSource,
  ): TensorInfo {
    if (!internalsAvailable()) {
      const out = this.buffers.take(util.sizeFromShape(shape));
      compute(out);
      return this.makeTensorInfo(shape, 'float32', out);
    }
    const info = this.makeTensorInfo(shape, 'float32', new Float32Array(0));
    const entry: Entry = this.data.get(info.dataId);
    for (const input of inputs) this.buffers.retain(input);
    this.unsettled.set(entry, inputs);
    if (source !== undefined) this.sources.set(entry, source);
    defineLazyValues(
      entry,
      () => {
        const out = this.buffers.take(util.sizeFromShape(shape));
        compute(out);
        this.buffers.retain(out);
        this.settle(entry, out, inputs);
        return out;
      },
      (values) => {
        this.buffers.retain(values);
        this.settle(entry, values, inputs);
      },
    );
    return info;
  }

  /**
   * What an unread deferred output is; null for any other tensor (settling an entry, by a read or
   * its disposal, forgets its source).
   */
  deferredSource(dataId: DataId): DeferredSource | null {
    return this.data.has(dataId) ? (this.sources.get(this.data.get(dataId)) ?? null) : null;
  }

  /** Makes `values` an ordinary property of an unsettled entry and lets go of its inputs. */
  private settle(entry: Entry, values: BackendValues, inputs: Float32Array[]): void {
    defineValues(entry, values);
    this.unsettled.delete(entry);
    this.sources.delete(entry);
    for (const input of inputs) this.buffers.release(input);
  }

  override dispose(): void {
    this.buffers.clear();
    super.dispose();
  }
}

/** Registers the onednn backend; false (and nothing registered) when the addon is unavailable. */
export function registerOneDnnBackend(): boolean {
  if (!nativeAvailable()) return false;
  if (findBackendFactory(BACKEND_NAME) === null) {
    registerBackend(BACKEND_NAME, () => new OneDnnBackend(), BACKEND_PRIORITY);
  }
  for (const config of getKernelsForBackend('cpu')) {
    if (getKernel(config.kernelName, BACKEND_NAME) === undefined) {
      registerKernel({ ...config, backendName: BACKEND_NAME });
    }
  }
  registerNativeGradients();
  return true;
}

registerOneDnnBackend();
