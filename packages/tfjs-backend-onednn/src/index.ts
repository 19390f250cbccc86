/**
 * tfjs-backend-onednn: a native oneDNN/OpenBLAS backend for TensorFlow.js in Node.
 * The native addon is not built yet; until it is, this package registers nothing and
 * `nativeAvailable()` is false, so callers stay on tfjs's `cpu` backend.
 */
export function nativeAvailable(): boolean {
  return false;
}
