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
} from '@tensorflow/tfjs-core';
import { BufferPool } from './buffer_pool.js';
import './kernels/all_kernels.js';
import { registerNativeGradients } from './gradients.js';
import { BACKEND_NAME } from './kernels/util.js';
import { nativeAvailable } from './native.js';

/** Priority above the cpu backend's (1), so tfjs picks onednn by default once it is registered. */
export const BACKEND_PRIORITY = 3;

/** The most bytes of freed tensor memory the backend keeps for reuse. */
export const BUFFER_POOL_LIMIT_BYTES = 256 * 1024 * 1024;

/**
 * The cpu backend with native kernels: tensors live in the same typed arrays, so every kernel
 * without a native version runs the cpu backend's code unchanged. Native kernels write into
 * arrays from a pool of freed tensor memory (see BufferPool); the overrides below tell the pool
 * which tensor entries hold which arrays, and which arrays left the backend.
 */
export class OneDnnBackend extends MathBackendCPU {
  readonly buffers = new BufferPool(BUFFER_POOL_LIMIT_BYTES);

  constructor() {
    super();
    // The cpu backend advises installing a faster Node backend on first use; this is one.
    (this as unknown as { firstUse: boolean }).firstUse = false;
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
    const values = this.data.has(dataId) ? this.data.get(dataId).values : undefined;
    const disposed = super.disposeData(dataId, force);
    if (values !== undefined && !this.data.has(dataId)) this.buffers.release(values);
    return disposed;
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
