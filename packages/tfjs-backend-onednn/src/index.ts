/**
 * tfjs-backend-onednn: a native oneDNN/OpenBLAS backend for TensorFlow.js in Node.
 * Importing this module registers the `onednn` backend (priority above `cpu`) when the native
 * addon loads; otherwise it registers nothing, callers stay on tfjs's `cpu` backend, and it prints
 * one warning line with the reason and how to build the addon (`TFJS_ONEDNN_QUIET=1` hides it).
 * `TFJS_ONEDNN_DISABLE=1` skips the addon, without a warning; `TFJS_ONEDNN_THREADS` sets the
 * initial thread count (default 1).
 */
import { warnIfNativeUnavailable } from './native.js';

export { BACKEND_PRIORITY, OneDnnBackend, registerOneDnnBackend } from './backend.js';
export { BACKEND_NAME } from './kernels/util.js';
export { getThreads, nativeAvailable, nativeLoadError, nativeUnavailableMessage, setThreads } from './native.js';

warnIfNativeUnavailable();
