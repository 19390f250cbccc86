import { backend_util } from '@tensorflow/tfjs-core';
import { poolParams } from './util.js';

type Pad = Parameters<typeof backend_util.computePool2DInfo>[4];
type Rounding = Parameters<typeof backend_util.computePool2DInfo>[5];

export interface PoolAttrsLike {
  filterSize: number | [number, number];
  strides: number | [number, number];
  pad: Pad;
  dimRoundingMode?: Rounding;
}

/** Native pool params for an NHWC input shape, or null when unsupported. */
export function poolInfoParams(xShape: readonly number[], attrs: PoolAttrsLike) {
  if (xShape.length !== 4) return null;
  const info = backend_util.computePool2DInfo(
    xShape as [number, number, number, number],
    attrs.filterSize,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
  );
  return poolParams(info);
}
