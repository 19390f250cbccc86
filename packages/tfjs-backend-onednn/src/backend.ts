import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import {
  findBackendFactory,
  getKernel,
  getKernelsForBackend,
  registerBackend,
  registerKernel,
} from '@tensorflow/tfjs-core';
import './kernels/all_kernels.js';
import { BACKEND_NAME } from './kernels/util.js';
import { nativeAvailable } from './native.js';

/** Priority above the cpu backend's (1), so tfjs picks onednn by default once it is registered. */
export const BACKEND_PRIORITY = 3;

/**
 * The cpu backend with native kernels: tensors live in the same typed arrays, so every kernel
 * without a native version runs the cpu backend's code unchanged.
 */
export class OneDnnBackend extends MathBackendCPU {
  constructor() {
    super();
    // The cpu backend advises installing a faster Node backend on first use; this is one.
    (this as unknown as { firstUse: boolean }).firstUse = false;
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
  return true;
}

registerOneDnnBackend();
