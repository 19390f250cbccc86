import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { type BackendValues, engine, type Tensor, version_core } from '@tensorflow/tfjs-core';

/**
 * Every use of tfjs state that is not public API, in one place: the engine's tape, scope and
 * gradient depth (read by the memory release of src/release.ts), the cpu backend's `firstUse`
 * flag, and a lazy `values` property on an entry of the cpu backend's data map (read by the cpu
 * backend only as a property, which is what lets src/backend.ts defer a kernel's output). The
 * data map itself (`MathBackendCPU.data`) and its entries' `values` are public fields and are
 * used directly elsewhere.
 *
 * These were written and tested against the tfjs-core versions below. On any other version
 * `internalsAvailable()` is false and the backend keeps to tfjs's own behaviour there: same
 * results, more memory and time.
 */
export const TESTED_TFJS_VERSIONS: readonly string[] = ['4.22.0'];

/** Whether `version` of tfjs-core is one this module was tested against. */
export function supportsTfjsVersion(version: string): boolean {
  return TESTED_TFJS_VERSIONS.includes(version);
}

/** Decided once, when this module loads, from the tfjs-core that is running. */
const supported = supportsTfjsVersion(version_core);
let warned = false;

/**
 * True when the functions below may be used. False on an untested tfjs-core, and then the first
 * call warns once, saying what the backend does without them.
 */
export function internalsAvailable(): boolean {
  if (!supported && !warned) {
    warned = true;
    console.warn(
      `tfjs-backend-onednn: @tensorflow/tfjs-core ${version_core} is not a version this backend was tested with ` +
        `(${TESTED_TFJS_VERSIONS.join(', ')}), so it leaves tfjs's internals alone: gradients run as tfjs ` +
        'composes them, their memory is released only when the backward pass ends, and Conv2DBackpropInput ' +
        'is computed eagerly. Results are correct, only slower and larger.',
    );
  }
  return supported;
}

/** True while a tape records the backward pass (higher-order gradients). */
export function recordingBackwardPass(): boolean {
  return engine().state.gradientDepth !== 0;
}

/** The scope the engine is in: a new one for each backward pass. Only its identity matters. */
export function activeScope(): object {
  return engine().state.activeScope;
}

/** What a node of tfjs's tape records about its op: its input and output tensors. */
export interface TapeNode {
  inputs: Record<string, Tensor>;
  outputs: Tensor[];
}

interface SavingTapeNode extends TapeNode {
  saved?: Tensor[];
}

let tapeIndex: { tape: SavingTapeNode[]; length: number; bySaved: Map<Tensor[], TapeNode> } | null = null;

/**
 * The node of the active tape whose op saved `saved`: a gradient function gets the node's own
 * `saved` array, so the array identifies the node.
 */
export function tapeNodeOf(saved: Tensor[]): TapeNode | undefined {
  const tape = (engine().state as unknown as { activeTape: SavingTapeNode[] | null }).activeTape;
  if (tape == null) return undefined;
  if (tapeIndex === null || tapeIndex.tape !== tape || tapeIndex.length !== tape.length) {
    const bySaved = new Map<Tensor[], TapeNode>();
    for (const node of tape) if (node.saved !== undefined) bySaved.set(node.saved, node);
    tapeIndex = { tape, length: tape.length, bySaved };
  }
  return tapeIndex.bySaved.get(saved);
}

/** Stops the cpu backend from advising, on its first use, to install a faster Node backend. */
export function skipNodeBackendAdvice(backend: MathBackendCPU): void {
  (backend as unknown as { firstUse: boolean }).firstUse = false;
}

/** A tensor entry of the cpu backend's data map. */
export type Entry = { values?: BackendValues };

/** Makes `entry.values` computed by `get` when first read, and handed to `set` when written. */
export function defineLazyValues(entry: Entry, get: () => BackendValues, set: (values: BackendValues) => void): void {
  Object.defineProperty(entry, 'values', { configurable: true, enumerable: true, get, set });
}

/** Makes `entry.values` an ordinary property again, holding `values`. */
export function defineValues(entry: Entry, values: BackendValues): void {
  Object.defineProperty(entry, 'values', { value: values, writable: true, configurable: true, enumerable: true });
}
