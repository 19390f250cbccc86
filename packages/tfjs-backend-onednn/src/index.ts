/**
 * tfjs-backend-onednn: a native oneDNN/OpenBLAS backend for TensorFlow.js in Node.
 * Importing this module registers the `onednn` backend (priority above `cpu`) when the native
 * addon loads; otherwise it registers nothing and callers stay on tfjs's `cpu` backend.
 * `TFJS_ONEDNN_DISABLE=1` skips the addon; `TFJS_ONEDNN_THREADS` sets the initial thread count (default 1).
 */
export { BACKEND_PRIORITY, OneDnnBackend, registerOneDnnBackend } from './backend.js';
export { BACKEND_NAME } from './kernels/util.js';
export { getThreads, nativeAvailable, nativeLoadError, setThreads } from './native.js';
