/**
 * tfjs-backend-onednn is an optional dependency: where it is installed, importing it registers the
 * `onednn` backend (when its native addon loads); where it is not, everything runs on tfjs's `cpu`.
 */
export interface OneDnnModule {
  nativeAvailable(): boolean;
  nativeLoadError: string | null;
  /** Why the addon is not loaded and how to fix it, in one line; null when it is loaded. */
  nativeUnavailableMessage(): string | null;
  getThreads(): number;
}

let module: OneDnnModule | null | undefined;
let loading: Promise<OneDnnModule | null> | undefined;

/** Imports tfjs-backend-onednn once; null when it is not installed. */
export function loadOneDnn(): Promise<OneDnnModule | null> {
  loading ??= importOneDnn();
  return loading;
}

async function importOneDnn(): Promise<OneDnnModule | null> {
  // pn says in its own line when the addon is not loaded (cli/backend.ts): the backend's warning
  // on import would repeat it. Set only while the backend loads, so child processes start clean.
  const quiet = process.env.TFJS_ONEDNN_QUIET;
  process.env.TFJS_ONEDNN_QUIET = '1';
  try {
    module = (await import('tfjs-backend-onednn')) as OneDnnModule;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') throw error;
    module = null;
  } finally {
    if (quiet === undefined) delete process.env.TFJS_ONEDNN_QUIET;
    else process.env.TFJS_ONEDNN_QUIET = quiet;
  }
  return module;
}

/** What `loadOneDnn` found, for code that runs after it (null before, or when not installed). */
export function loadedOneDnn(): OneDnnModule | null {
  return module ?? null;
}
