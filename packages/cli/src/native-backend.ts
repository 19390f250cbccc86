/**
 * tfjs-backend-onednn is an optional dependency: where it is installed, importing it registers the
 * `onednn` backend (when its native addon loads); where it is not, everything runs on tfjs's `cpu`.
 */
export interface OneDnnModule {
  nativeAvailable(): boolean;
  nativeLoadError: string | null;
  getThreads(): number;
}

let module: OneDnnModule | null | undefined;

/** Imports tfjs-backend-onednn once; null when it is not installed. */
export async function loadOneDnn(): Promise<OneDnnModule | null> {
  if (module === undefined) {
    try {
      module = (await import('tfjs-backend-onednn')) as OneDnnModule;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') throw error;
      module = null;
    }
  }
  return module;
}

/** What `loadOneDnn` found, for code that runs after it (null before, or when not installed). */
export function loadedOneDnn(): OneDnnModule | null {
  return module ?? null;
}
