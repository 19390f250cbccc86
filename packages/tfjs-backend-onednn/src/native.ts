import { createRequire } from 'node:module';

/** Plain parameter objects of the native entry points; every field is validated natively. */
export interface ConvParams {
  batch: number;
  inH: number;
  inW: number;
  inC: number;
  outH: number;
  outW: number;
  outC: number;
  kH: number;
  kW: number;
  strideH: number;
  strideW: number;
  padTop: number;
  padBottom: number;
  padLeft: number;
  padRight: number;
  dilationH: number;
  dilationW: number;
}

export interface PoolParams {
  batch: number;
  inH: number;
  inW: number;
  channels: number;
  outH: number;
  outW: number;
  kH: number;
  kW: number;
  strideH: number;
  strideW: number;
  padTop: number;
  padLeft: number;
}

export interface NativeAddon {
  /**
   * `layout`: replicas, references, groups, then per tensor rest, units, group and perUnit (0/1);
   * then `out`, and one Float32Array per tensor for x, then for refs: positional, as
   * `groupedSquaredDistances(layout, out, ...x, ...refs)` (see native/distances.cc).
   */
  groupedSquaredDistances(layout: Int32Array, out: Float32Array, ...tensors: Float32Array[]): void;
  /** `groupedSquaredDistancesGrad(layout, dy, ...x, ...refs, ...dx)`, or with `...base` after `dx`. */
  groupedSquaredDistancesGrad(layout: Int32Array, dy: Float32Array, ...tensors: Float32Array[]): void;
  /**
   * `dims` starts with batchA, batchB, m, n, k, transposeA, transposeB, relu (flags 0 or 1); `bias`
   * n values or undefined. The entry points a training step calls most (matMul, binary, unary,
   * unaryGrad, reduce, tile) take positional arguments, their sizes and flags as the leading values
   * of one Int32Array (what follows them is not read): see native/common.h.
   */
  matMul(dims: Int32Array, a: Float32Array, b: Float32Array, out: Float32Array, bias: Float32Array | undefined): void;
  conv2d(
    p: ConvParams & { x: Float32Array; filter: Float32Array; out: Float32Array; bias?: Float32Array; relu?: boolean },
  ): void;
  conv2dBackpropInput(p: ConvParams & { dy: Float32Array; filter: Float32Array; dx: Float32Array }): void;
  conv2dBackpropFilter(p: ConvParams & { x: Float32Array; dy: Float32Array; dw: Float32Array }): void;
  maxPool(p: PoolParams & { x: Float32Array; out: Float32Array }): void;
  maxPoolGrad(p: PoolParams & { dy: Float32Array; x: Float32Array; dx: Float32Array }): void;
  avgPool(p: PoolParams & { x: Float32Array; out: Float32Array }): void;
  avgPoolGrad(p: PoolParams & { dy: Float32Array; dx: Float32Array }): void;
  /** `op` indexes BINARY_OPS; `dims` starts with a's rank, b's rank, a's shape, b's shape. */
  binary(op: number, a: Float32Array, b: Float32Array, out: Float32Array, dims: Int32Array): void;
  /** `op` indexes UNARY_OPS; `alpha` is step's value for x <= 0. */
  unary(op: number, x: Float32Array, out: Float32Array, alpha: number): void;
  /** `op` indexes UNARY_GRAD_OPS. */
  unaryGrad(op: number, dy: Float32Array, x: Float32Array, out: Float32Array): void;
  batchNorm(p: {
    x: Float32Array;
    mean: Float32Array;
    variance: Float32Array;
    offset?: Float32Array;
    scale?: Float32Array;
    channels: number;
    epsilon: number;
    /** Writes relu of the result (the two kernels' bits, in one pass). */
    relu?: boolean;
    out: Float32Array;
  }): void;
  batchNormGrad(p: {
    x: Float32Array;
    dy: Float32Array;
    /** relu of the normalization: dy is then the gradient of the relu's output. */
    reluOutput?: Float32Array;
    mean: Float32Array;
    variance: Float32Array;
    scale?: Float32Array;
    channels: number;
    epsilon: number;
    dx: Float32Array;
    dMean: Float32Array;
    dVariance: Float32Array;
    dScale: Float32Array;
    dOffset: Float32Array;
  }): void;
  softmax(p: { x: Float32Array; out: Float32Array; rows: number; cols: number }): void;
  /**
   * `op` indexes REDUCE_OPS; `dims` starts with the rank, the number of axes, the shape, the axes.
   * The square-gradient ops take `dy`, the shifted ones `shift` after it (the squares of x + shift):
   * each repeating along x every its length, one value (any axes) or a length dividing the kept
   * size where the kept axes are the last ones.
   */
  reduce(op: number, x: Float32Array, out: Float32Array, dims: Int32Array, ...perColumn: Float32Array[]): void;
  /**
   * out = t_0 + t_1 + … in float, left to right. `kinds` has one entry per term (at most 8): 0 for
   * an array of out's length or repeating along it (one argument), 1 for a square's gradient
   * dy·(2x) (two: dy, full or repeating, and x), 2 for that of the square of x + shift (three: dy,
   * x, shift).
   */
  sumTerms(kinds: Int32Array, out: Float32Array, ...arrays: Float32Array[]): void;
  /** `dims` starts with the rank, the shape, the reps. */
  tile(x: Float32Array, out: Float32Array, dims: Int32Array): void;
  slice(p: { x: Float32Array; shape: number[]; begin: number[]; size: number[]; out: Float32Array }): void;
  pad(p: { x: Float32Array; shape: number[]; paddings: number[]; value: number; out: Float32Array }): void;
  setThreads(p: { threads: number }): void;
  getThreads(): number;
}

/** The ops of the positional entry points, in the order of their native op codes. */
export const BINARY_OPS = ['add', 'sub', 'mul', 'div', 'squaredDifference'] as const;
export const UNARY_OPS = ['relu', 'tanh', 'step', 'square', 'neg'] as const;
export const UNARY_GRAD_OPS = ['relu', 'tanh', 'square'] as const;
/**
 * Reductions; `…OfSquares` reduce the squares of x (rounded to float, as a Square kernel's output
 * holds them), `…OfSquareGrads` the gradients of a square dy·(2x) (as UnaryGrad's output holds them),
 * `…Shifted…` those of x + shift (x − mean as a Sub kernel's output holds it).
 */
export const REDUCE_OPS = [
  'sum',
  'mean',
  'max',
  'sumOfSquares',
  'meanOfSquares',
  'sumOfSquareGrads',
  'meanOfSquareGrads',
  'sumOfShiftedSquares',
  'meanOfShiftedSquares',
  'sumOfShiftedSquareGrads',
  'meanOfShiftedSquareGrads',
] as const;
export type BinaryOp = (typeof BINARY_OPS)[number];
export type UnaryOp = (typeof UNARY_OPS)[number];
export type UnaryGradOp = (typeof UNARY_GRAD_OPS)[number];
export type ReduceOp = (typeof REDUCE_OPS)[number];

const DISABLED = 'disabled by TFJS_ONEDNN_DISABLE=1';

/** GOMP_SPINCOUNT while the addon loads, when neither it nor OMP_WAIT_POLICY is set: see load(). */
export const WORKER_SPINS = 10_000;

function load(): { addon: NativeAddon | null; error: string | null } {
  if (process.env.TFJS_ONEDNN_DISABLE === '1') return { addon: null, error: DISABLED };
  // An OpenMP worker that finds no work spins GOMP_SPINCOUNT times before it sleeps. 10,000 spins
  // (about 0.3 ms here) keep it awake from one kernel of a training step to the next, where
  // sleeping at once (a passive wait policy: a futex wake per parallel region) made a two-thread
  // ResNet-20 step up to 8% slower; libgomp's default (300,000, about 9 ms) leaves an idle process
  // spinning longer against other work. libgomp reads its settings once, when it loads with the
  // addon, so the variable is set for that moment only: child processes (PyTorch in `pn bench`)
  // start with the user's own. The user's OMP_WAIT_POLICY or GOMP_SPINCOUNT wins. It has no effect
  // in a worker thread (whose process.env is its own copy) or where libgomp was loaded before.
  return withWorkerSpins(process.env, () => {
    try {
      const require = createRequire(import.meta.url);
      return { addon: require('../../build/Release/onednn_backend.node') as NativeAddon, error: null };
    } catch (error) {
      return { addon: null, error: describeLoadError(error) };
    }
  });
}

/** Runs `load` with GOMP_SPINCOUNT = WORKER_SPINS in `env` where neither it nor OMP_WAIT_POLICY is set; `env` is as before afterwards. */
export function withWorkerSpins<T>(env: NodeJS.ProcessEnv, load: () => T): T {
  const set = env.OMP_WAIT_POLICY === undefined && env.GOMP_SPINCOUNT === undefined;
  if (set) env.GOMP_SPINCOUNT = String(WORKER_SPINS);
  try {
    return load();
  } finally {
    if (set) delete env.GOMP_SPINCOUNT;
  }
}

/**
 * One line: a missing addon file means its build never ran or failed; anything else (oneDNN or
 * OpenBLAS removed since the build, another platform) is the loader's first line.
 */
function describeLoadError(error: unknown): string {
  if ((error as NodeJS.ErrnoException | null)?.code === 'MODULE_NOT_FOUND')
    return 'not built: build/Release/onednn_backend.node is missing';
  return (error instanceof Error ? error.message : String(error)).split('\n')[0];
}

const loaded = load();

/** The loaded addon, or null when it is missing, failed to load or is disabled. */
export const native: NativeAddon | null = loaded.addon;

/** Why the addon is not available, in one line (null when it is). */
export const nativeLoadError: string | null = loaded.error;

export function nativeAvailable(): boolean {
  return native !== null;
}

/**
 * The line the package prints when it is imported without its addon: the reason and how to build
 * it. Null when the addon is loaded, or deliberately disabled (`TFJS_ONEDNN_DISABLE=1`).
 */
export function nativeUnavailableMessage(): string | null {
  if (native !== null || nativeLoadError === DISABLED) return null;
  return (
    `tfjs-backend-onednn: native addon not loaded (${nativeLoadError}); tfjs stays on its cpu backend, far slower. ` +
    'To build it: sudo apt-get install libdnnl-dev libopenblas-dev, allow its install script where npm blocks it ' +
    '(npm install-scripts approve tfjs-backend-onednn), then npm rebuild tfjs-backend-onednn. ' +
    'TFJS_ONEDNN_QUIET=1 hides this line.'
  );
}

/**
 * Prints `nativeUnavailableMessage()` with console.warn, once per process (even with two copies of
 * the package loaded), unless `TFJS_ONEDNN_QUIET=1`.
 */
export function warnIfNativeUnavailable(): void {
  const message = nativeUnavailableMessage();
  if (message === null || process.env.TFJS_ONEDNN_QUIET === '1') return;
  const warned = Symbol.for('tfjs-backend-onednn.native-unavailable-warned');
  const global = globalThis as Record<symbol, unknown>;
  if (global[warned] === true) return;
  global[warned] = true;
  console.warn(message);
}

/** Sets the number of threads oneDNN and OpenBLAS use. */
export function setThreads(threads: number): void {
  if (native === null) return;
  native.setThreads({ threads });
}

/** The number of threads oneDNN uses (1 without the native addon). */
export function getThreads(): number {
  return native === null ? 1 : native.getThreads();
}

function initialThreads(): number {
  const value = Number(process.env.TFJS_ONEDNN_THREADS);
  return Number.isInteger(value) && value >= 1 ? Math.min(value, 1024) : 1;
}

if (native !== null) setThreads(initialThreads());
