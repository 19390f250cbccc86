import { backend_util, type TensorInfo } from '@tensorflow/tfjs-core';
import { addon, convParams, cpuBackend, f32, isChannelBias, type KernelArgs, outputArray } from './util.js';

type Pad = Parameters<typeof backend_util.computeConv2DInfo>[4];
type Rounding = Parameters<typeof backend_util.computeConv2DInfo>[5];
type Shape4 = [number, number, number, number];

export interface ConvAttrsLike {
  strides: number | [number, number];
  pad: Pad;
  dataFormat: 'NHWC' | 'NCHW';
  dilations?: number | [number, number];
  dimRoundingMode?: Rounding;
}

/** Native params for a conv of x-shape and filter-shape, or null when unsupported. */
export function convInfoParams(xShape: readonly number[], filterShape: readonly number[], attrs: ConvAttrsLike) {
  if (attrs.dataFormat !== 'NHWC' || xShape.length !== 4 || filterShape.length !== 4) return null;
  const info = backend_util.computeConv2DInfo(
    xShape as Shape4,
    filterShape as Shape4,
    attrs.strides,
    attrs.dilations ?? 1,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    'channelsLast',
  );
  return convParams(info);
}

/** Forward conv with optional channel bias and relu natively; null when unsupported. */
export function nativeConv2D(
  args: KernelArgs,
  x: TensorInfo,
  filter: TensorInfo,
  attrs: ConvAttrsLike,
  bias: TensorInfo | undefined,
  relu: boolean,
): TensorInfo | null {
  const backend = cpuBackend(args);
  const xValues = f32(backend, x);
  const filterValues = f32(backend, filter);
  if (xValues === null || filterValues === null) return null;
  const params = convInfoParams(x.shape, filter.shape, attrs);
  if (params === null) return null;
  const outShape = [params.batch, params.outH, params.outW, params.outC];
  let biasValues: Float32Array | undefined;
  if (bias !== undefined) {
    const values = f32(backend, bias);
    if (values === null || !isChannelBias(bias.shape, params.outC, 4)) return null;
    biasValues = values;
  }
  const out = outputArray(backend, outShape[0] * outShape[1] * outShape[2] * outShape[3]);
  addon().conv2d({ ...params, x: xValues, filter: filterValues, out, bias: biasValues, relu });
  return backend.makeTensorInfo(outShape, 'float32', out);
}
