import { normal } from '../core/random.js';

/** The `kink` target: piecewise linear with kinks at `kinks`, slope changes `slopes`. */
export interface KinkDataSpec {
  /** Inputs x ~ N(mean, std²), far from 0 where default-initialized ReLU kinks sit. */
  mean: number;
  std: number;
  /** Positions of the target's kinks (inside the data). */
  kinks: readonly number[];
  /** The target's slope changes at each kink; the slope left of all kinks is `baseSlope`. */
  slopes: readonly number[];
  baseSlope: number;
  /** Gaussian label noise. */
  noise: number;
  train: number;
  validation: number;
  test: number;
  seed: number;
}

export interface KinkData {
  train: { x: Float32Array; y: Float32Array };
  validation: { x: Float32Array; y: Float32Array };
  test: { x: Float32Array; y: Float32Array };
  /** Validation MSE of the least-squares line fitted on the training set: what a kink-free net reaches. */
  linearFitMse: number;
}

export function kinkTarget(spec: KinkDataSpec, x: number): number {
  let y = spec.baseSlope * (x - spec.mean);
  spec.kinks.forEach((kink, i) => {
    y += spec.slopes[i] * Math.max(0, x - kink);
  });
  return y;
}

export function makeKinkData(spec: KinkDataSpec): KinkData {
  if (spec.kinks.length !== spec.slopes.length)
    throw new Error('kink data: kinks and slopes must have the same length');
  const draw = normal(spec.seed);
  const split = (n: number) => {
    const x = new Float32Array(n);
    const y = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      x[i] = spec.mean + spec.std * draw();
      y[i] = kinkTarget(spec, x[i]) + spec.noise * draw();
    }
    return { x, y };
  };
  const train = split(spec.train);
  const validation = split(spec.validation);
  const test = split(spec.test);
  const { slope, intercept } = leastSquaresLine(train.x, train.y);
  let squared = 0;
  validation.x.forEach((x, i) => {
    squared += (slope * x + intercept - validation.y[i]) ** 2;
  });
  return { train, validation, test, linearFitMse: squared / spec.validation };
}

export function leastSquaresLine(x: ArrayLike<number>, y: ArrayLike<number>): { slope: number; intercept: number } {
  const n = x.length;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += x[i] / n;
    my += y[i] / n;
  }
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) ** 2;
  }
  const slope = sxx > 0 ? sxy / sxx : 0;
  return { slope, intercept: my - slope * mx };
}
