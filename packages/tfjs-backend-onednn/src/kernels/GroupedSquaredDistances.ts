import { engine, type NamedTensorMap, registerGradient, type Tensor, type TensorInfo } from '@tensorflow/tfjs-core';
import type { DistanceTensor } from '../native.js';
import { addon, cpuBackend, f32, type KernelArgs, outputArray, registerNativeKernel, sizeOf } from './util.js';

/**
 * Squared distances of many tensors to many references, summed per group, in one pass; a kernel
 * any backend may offer under this name (tfjs has no such op). Its contract:
 * - inputs: an array of 2n float32 tensors, first x_0 … x_{n−1}, each viewed as [replicas, rest_i,
 *   units_i], then their references refs_0 … refs_{n−1}, each viewed as [references, replicas,
 *   rest_i, units_i] (an array, as tfjs's AddN takes, so that the gradient can save them all);
 * - attrs `replicas`, `references`, `groups`, and `layout`: per tensor `{ rest, units, group, perUnit }`
 *   (with `perUnit`, unit u of tensor i falls in group `group + u`, else all of it in `group`);
 * - output [references, replicas, groups]: out[j, r, g] = Σ over the elements of replica r in group g
 *   of (x − ref_j)²;
 * - gradient: with respect to each x_i only (references are constants).
 */
export const GroupedSquaredDistances = 'GroupedSquaredDistances';
const GroupedSquaredDistancesGrad = 'GroupedSquaredDistancesGrad';

export interface GroupedSquaredDistancesAttrs {
  replicas: number;
  references: number;
  groups: number;
  layout: { rest: number; units: number; group: number; perUnit: boolean }[];
}

/** The tensors of a call, their values and layout checked against the attrs. */
function distanceTensors(args: KernelArgs): { attrs: GroupedSquaredDistancesAttrs; tensors: DistanceTensor[] } {
  const attrs = args.attrs as unknown as GroupedSquaredDistancesAttrs;
  const inputs = Object.values(args.inputs) as TensorInfo[];
  const backend = cpuBackend(args);
  if (!Array.isArray(attrs.layout) || attrs.layout.length === 0)
    throw new Error(`${GroupedSquaredDistances}: attr 'layout' must list every tensor`);
  const n = attrs.layout.length;
  const tensors = attrs.layout.map(({ rest, units, group, perUnit }, i): DistanceTensor => {
    const x = f32(backend, inputs[i]);
    const refs = f32(backend, inputs[n + i]);
    if (x === null || refs === null)
      throw new Error(`${GroupedSquaredDistances}: x${i} and refs${i} must be non-empty float32 tensors`);
    return { x, refs, rest, units, group, perUnit };
  });
  const extra = inputs.length - 2 * n;
  if (extra !== 0) throw new Error(`${GroupedSquaredDistances}: ${extra} inputs more than 'layout' describes`);
  return { attrs, tensors };
}

function groupedSquaredDistances(args: KernelArgs): TensorInfo {
  const { attrs, tensors } = distanceTensors(args);
  const backend = cpuBackend(args);
  const shape = [attrs.references, attrs.replicas, attrs.groups];
  const out = outputArray(backend, sizeOf(shape));
  addon().groupedSquaredDistances({ ...attrs, tensors, out });
  return backend.makeTensorInfo(shape, 'float32', out);
}

/** The gradient kernel: inputs [dy, x_0 … x_{n−1}, refs_0 … refs_{n−1}]; outputs dx_0 … dx_{n−1}. */
function groupedSquaredDistancesGrad(args: KernelArgs): TensorInfo[] {
  const [dyInfo, ...rest] = Object.values(args.inputs) as TensorInfo[];
  const { attrs, tensors } = distanceTensors({ ...args, inputs: rest as unknown as KernelArgs['inputs'] });
  const backend = cpuBackend(args);
  const dy = f32(backend, dyInfo);
  if (dy === null) throw new Error(`${GroupedSquaredDistancesGrad}: dy must be a non-empty float32 tensor`);
  for (const tensor of tensors) tensor.dx = outputArray(backend, tensor.x.length);
  addon().groupedSquaredDistancesGrad({ ...attrs, tensors, dy });
  return tensors.map((tensor, i) => backend.makeTensorInfo(rest[i].shape, 'float32', tensor.dx as Float32Array));
}

registerNativeKernel(GroupedSquaredDistances, groupedSquaredDistances);
registerNativeKernel(GroupedSquaredDistancesGrad, groupedSquaredDistancesGrad);

registerGradient({
  kernelName: GroupedSquaredDistances,
  saveAllInputs: true,
  gradFunc: (dy, saved, attrs) => {
    const inputs = [dy as Tensor, ...saved] as unknown as NamedTensorMap;
    const dxs = engine().runKernel(GroupedSquaredDistancesGrad, inputs, attrs) as Tensor[];
    // Gradients by input index; the references (indices n and above) are constants, never asked for.
    return Object.fromEntries(dxs.map((dx, i) => [i, () => dx]));
  },
});
