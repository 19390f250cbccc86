import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import {
  type DataId,
  getKernel,
  type KernelConfig,
  type KernelFunc,
  registerKernel,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import type { DeferredSource } from '../backend.js';
import type { BufferPool } from '../buffer_pool.js';
import { type ConvParams, type NativeAddon, native, type PoolParams } from '../native.js';

export const BACKEND_NAME = 'onednn';

/** The highest rank any native kernel takes (kMaxRank in native/common.h); higher ranks run on cpu. */
export const MAX_NATIVE_RANK = 8;

/** The highest rank the native shape kernels (tile, slice, pad) take; higher ranks run on cpu. */
export const MAX_SHAPE_RANK = 6;

export type KernelArgs = Parameters<KernelFunc>[0];

/** The addon; only called from kernels, which are registered only when it loaded. */
export function addon(): NativeAddon {
  if (native === null) throw new Error('tfjs-backend-onednn: the native addon is not loaded');
  return native;
}

export function cpuBackend(args: KernelArgs): MathBackendCPU {
  return args.backend as MathBackendCPU;
}

/** Runs the cpu backend's kernel of the same name on the same arguments. */
export function fallback(kernelName: string, args: KernelArgs): TensorInfo | TensorInfo[] {
  return getKernel(kernelName, 'cpu').kernelFunc(args);
}

/** The float32 values of t, or null when t is not a non-empty float32 tensor held as a Float32Array. */
export function f32(backend: MathBackendCPU, t: TensorInfo | undefined): Float32Array | null {
  if (t === undefined || t.dtype !== 'float32') return null;
  const values = backend.data.get(t.dataId).values;
  return values instanceof Float32Array && values.length > 0 ? values : null;
}

export function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/**
 * The Int32Array the positional entry points read sizes and flags from, shared by every call: a
 * call reads it before it returns. A fresh one per call would cost more than the call: V8 keeps a
 * typed array that small inside its heap and moves its bytes out when N-API asks for them.
 */
const DIMS = new Int32Array(32);

/** `parts` (numbers and shapes, in order) written into the shared dims array. */
export function packDims(...parts: (number | readonly number[])[]): Int32Array {
  let k = 0;
  for (const part of parts) {
    if (typeof part === 'number') DIMS[k++] = part;
    else for (const d of part) DIMS[k++] = d;
  }
  if (k > DIMS.length) throw new Error(`tfjs-backend-onednn: ${k} sizes for one native call; at most ${DIMS.length}`);
  return DIMS;
}

/** Registers a kernel for the onednn backend when the addon is loaded. */
export function registerNativeKernel(
  kernelName: string,
  kernelFunc: (args: KernelArgs) => TensorInfo | TensorInfo[],
): void {
  if (native === null) return;
  const config: KernelConfig = { kernelName, backendName: BACKEND_NAME, kernelFunc: kernelFunc as KernelFunc };
  registerKernel(config);
}

interface Conv2DInfoLike {
  batchSize: number;
  inHeight: number;
  inWidth: number;
  inChannels: number;
  outHeight: number;
  outWidth: number;
  outChannels: number;
  filterHeight: number;
  filterWidth: number;
  strideHeight: number;
  strideWidth: number;
  dilationHeight: number;
  dilationWidth: number;
  effectiveFilterHeight: number;
  effectiveFilterWidth: number;
  dataFormat: string;
  padInfo: { top: number; bottom: number; left: number; right: number };
}

/** Native conv parameters, or null when the layout, pads or output size are outside what the addon takes. */
export function convParams(info: Conv2DInfoLike): ConvParams | null {
  const { padInfo: pad } = info;
  if (info.dataFormat !== 'channelsLast') return null;
  const effH = info.effectiveFilterHeight;
  const effW = info.effectiveFilterWidth;
  for (const [p, eff] of [
    [pad.top, effH],
    [pad.bottom, effH],
    [pad.left, effW],
    [pad.right, effW],
  ]) {
    if (!Number.isInteger(p) || p < 0 || p >= eff) return null;
  }
  const spanH = info.inHeight + pad.top + pad.bottom - effH;
  const spanW = info.inWidth + pad.left + pad.right - effW;
  if (spanH < 0 || spanW < 0) return null;
  if (Math.floor(spanH / info.strideHeight) + 1 !== info.outHeight) return null;
  if (Math.floor(spanW / info.strideWidth) + 1 !== info.outWidth) return null;
  const params: ConvParams = {
    batch: info.batchSize,
    inH: info.inHeight,
    inW: info.inWidth,
    inC: info.inChannels,
    outH: info.outHeight,
    outW: info.outWidth,
    outC: info.outChannels,
    kH: info.filterHeight,
    kW: info.filterWidth,
    strideH: info.strideHeight,
    strideW: info.strideWidth,
    padTop: pad.top,
    padBottom: pad.bottom,
    padLeft: pad.left,
    padRight: pad.right,
    dilationH: info.dilationHeight,
    dilationW: info.dilationWidth,
  };
  return Object.values(params).every((v) => Number.isInteger(v) && v >= 0) && params.batch > 0 && params.outC > 0
    ? params
    : null;
}

/** Native pool parameters, or null when dilated, channels-first, or padded beyond the window. */
export function poolParams(info: Conv2DInfoLike): PoolParams | null {
  const { padInfo: pad } = info;
  if (info.dataFormat !== 'channelsLast' || info.dilationHeight !== 1 || info.dilationWidth !== 1) return null;
  if (pad.top < 0 || pad.top >= info.filterHeight || pad.left < 0 || pad.left >= info.filterWidth) return null;
  const params: PoolParams = {
    batch: info.batchSize,
    inH: info.inHeight,
    inW: info.inWidth,
    channels: info.inChannels,
    outH: info.outHeight,
    outW: info.outWidth,
    kH: info.filterHeight,
    kW: info.filterWidth,
    strideH: info.strideHeight,
    strideW: info.strideWidth,
    padTop: pad.top,
    padLeft: pad.left,
  };
  return Object.values(params).every((v) => Number.isInteger(v) && v >= 0) && sizeOf([params.outH, params.outW]) > 0
    ? params
    : null;
}

/** True when bias (shape) adds one value per last-axis element: size n, every other dim 1, rank <= outRank. */
export function isChannelBias(shape: readonly number[], n: number, outRank: number): boolean {
  if (shape.length === 0 || shape.length > outRank) return false;
  return shape[shape.length - 1] === n && sizeOf(shape) === n;
}

/**
 * Outputs of at least this many float32 elements may be deferred with a source (see
 * OneDnnBackend.deferred): a broadcast, a square, a normalization, a Relu gradient, a sum. Smaller ones
 * are computed at once, and tensors below it are never looked up (every binary op asks).
 */
export const DEFERRED_MIN = 1 << 14;

/**
 * Where `t` is an unread deferred output of `kind` on the onednn backend, what it is (see
 * DeferredSource); null otherwise, and for a broadcast's reshaped view.
 */
export function deferredSourceOf<K extends DeferredSource['kind']>(
  backend: MathBackendCPU,
  t: TensorInfo,
  kind: K,
): Extract<DeferredSource, { kind: K }> | null {
  if (t.dtype !== 'float32' || sizeOf(t.shape) < DEFERRED_MIN) return null;
  const source = (backend as MathBackendCPU & Partial<DeferringBackend>).deferredSource?.(t.dataId) ?? null;
  if (source === null || source.kind !== kind) return null;
  if (source.kind === 'broadcast') {
    const { broadcastShape } = source;
    if (broadcastShape.length !== t.shape.length || !broadcastShape.every((d, i) => d === t.shape[i])) return null;
  }
  return source as Extract<DeferredSource, { kind: K }>;
}

/**
 * True when `shape`, aligned to the right of `full`, is 1 (or absent) on some leading axes of
 * `full` and equal to it on the rest: its values repeat along `full` every `sizeOf(shape)` elements.
 */
export function repeatsAlongLeadingAxes(shape: readonly number[], full: readonly number[]): boolean {
  const offset = full.length - shape.length;
  if (offset < 0) return false;
  let i = 0;
  while (i < shape.length && shape[i] === 1) i++;
  for (let j = i; j < shape.length; j++) if (shape[j] !== full[offset + j]) return false;
  return true;
}

/** Kernel inputs with the named tensors present. */
export type Inputs<K extends string> = Record<K, TensorInfo>;

/** Inputs of the fused kernels: two tensors plus the optional bias and prelu weights. */
export type FusedInputs<K extends string> = Inputs<K> & { bias?: TensorInfo; preluActivationWeights?: TensorInfo };

/**
 * An output array of `length` elements, from the onednn backend's pool of freed tensor memory when
 * there is one. Its contents are unspecified: the kernel must write every element.
 */
export function outputArray(backend: MathBackendCPU, length: number): Float32Array {
  const pool = (backend as MathBackendCPU & { buffers?: BufferPool }).buffers;
  return pool === undefined ? new Float32Array(length) : pool.take(length);
}

/**
 * A float32 output of `shape` that `compute` fills: deferred until first read on the onednn
 * backend, where kernels that understand `source` read it without making it (see
 * OneDnnBackend.deferred); computed now elsewhere.
 */
export function deferredOutput(
  backend: MathBackendCPU,
  shape: number[],
  inputs: Float32Array[],
  compute: (out: Float32Array) => void,
  source?: DeferredSource,
): TensorInfo {
  const deferring = backend as MathBackendCPU & Partial<DeferringBackend>;
  if (deferring.deferred !== undefined) return deferring.deferred(shape, inputs, compute, source);
  const out = outputArray(backend, sizeOf(shape));
  compute(out);
  return backend.makeTensorInfo(shape, 'float32', out);
}

interface DeferringBackend {
  deferred(
    shape: number[],
    inputs: Float32Array[],
    compute: (out: Float32Array) => void,
    source?: DeferredSource,
  ): TensorInfo;
  deferredSource(dataId: DataId): DeferredSource | null;
}
