import { engine, type NamedTensorMap, registerGradient, type Tensor, type TensorInfo } from '@tensorflow/tfjs-core';
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
 * - gradient: with respect to each x_i only (references are constants), by the kernel
 *   `GroupedSquaredDistancesGrad`: inputs [dy, x_0 … x_{n−1}, refs_0 … refs_{n−1}] with dy of the
 *   output's shape and the same attrs, outputs dx_0 … dx_{n−1}, dx_i = 2 Σ_j dy[j, r, g] (x_i − ref_j);
 *   with n more inputs base_0 … base_{n−1} (of the x's shapes) after those, outputs base_i + dx_i
 *   (the sum over references formed first: the bits of adding the two afterwards).
 */
export const GroupedSquaredDistances = 'GroupedSquaredDistances';
const GroupedSquaredDistancesGrad = 'GroupedSquaredDistancesGrad';
/**
 * The gradient of f(s) for a function f of the grouped squared distances s, in one kernel call:
 * a kernel any backend may offer under this name. Its contract:
 * - inputs: x_0 … x_{n−1}, refs_0 … refs_{n−1} as `GroupedSquaredDistances` takes them, optionally
 *   followed by base_0 … base_{n−1} (of the x's shapes);
 * - attrs: those of `GroupedSquaredDistances`, and `slope`: a host function given s (a Float32Array
 *   of [references, replicas, groups], row-major) that returns ∂f/∂s, a Float32Array of the same
 *   length; it is called once per kernel call, synchronously, and must not run tfjs ops;
 * - outputs: per x_i, [base_i +] 2 Σ_j slope[j, r, g] (x_i − ref_j) (the sum over references formed
 *   first), as `GroupedSquaredDistancesGrad` with dy = slope(s).
 * It saves a step that takes f's gradient the round trip of s through a tensor and a second kernel
 * call: two passes over the tensors, the function between them on the host. f itself stays the
 * caller's; the backend knows only the distances.
 */
export const GroupedSquaredDistancesChain = 'GroupedSquaredDistancesChain';

export interface GroupedSquaredDistancesAttrs {
  replicas: number;
  references: number;
  groups: number;
  layout: { rest: number; units: number; group: number; perUnit: boolean }[];
}

export interface GroupedSquaredDistancesChainAttrs extends GroupedSquaredDistancesAttrs {
  slope: (squares: Float32Array) => Float32Array;
}

/**
 * The addon's compact layout: replicas, references, groups, then rest, units, group, perUnit per
 * tensor (a few numbers, rebuilt every call: cheaper than the N-API reads of an object per tensor).
 */
function packedLayout(attrs: GroupedSquaredDistancesAttrs): Int32Array {
  const packed = new Int32Array(3 + 4 * attrs.layout.length);
  let at = 0;
  // Int32Array would truncate a fraction or wrap a large number: refuse them here.
  const put = (value: number) => {
    if (!Number.isInteger(value) || Math.abs(value) > 2 ** 31 - 1)
      throw new Error(`${GroupedSquaredDistances}: attr ${attrName(at)} must be an integer, got ${value}`);
    packed[at++] = value;
  };
  put(attrs.replicas);
  put(attrs.references);
  put(attrs.groups);
  for (const { rest, units, group, perUnit } of attrs.layout) {
    put(rest);
    put(units);
    put(group);
    put(perUnit ? 1 : 0);
  }
  return packed;
}

function attrName(index: number): string {
  if (index < 3) return `'${['replicas', 'references', 'groups'][index]}'`;
  const i = index - 3;
  return `layout[${Math.floor(i / 4)}].${['rest', 'units', 'group', 'perUnit'][i % 4]}`;
}

/** The values of x_0 … x_{n−1}, refs_0 … refs_{n−1} (and any `extra` tensors of x's shapes after them), checked. */
function distanceArrays(args: KernelArgs, inputs: TensorInfo[], extra: string[] = []) {
  const attrs = args.attrs as unknown as GroupedSquaredDistancesAttrs;
  const backend = cpuBackend(args);
  if (!Array.isArray(attrs.layout) || attrs.layout.length === 0)
    throw new Error(`${GroupedSquaredDistances}: attr 'layout' must list every tensor`);
  const n = attrs.layout.length;
  const surplus = inputs.length - (2 + extra.length) * n;
  if (surplus !== 0)
    throw new Error(
      `${GroupedSquaredDistances}: ${Math.abs(surplus)} inputs ${surplus > 0 ? 'more' : 'fewer'} than 'layout' describes`,
    );
  const names = ['x', 'refs', ...extra];
  const arrays = names.map((name, part) =>
    attrs.layout.map((_, i) => {
      const values = f32(backend, inputs[part * n + i]);
      if (values === null)
        throw new Error(`${GroupedSquaredDistances}: ${name}${i} must be a non-empty float32 tensor`);
      return values;
    }),
  );
  return { attrs, layout: packedLayout(attrs), x: arrays[0], refs: arrays[1], extra: arrays.slice(2) };
}

function groupedSquaredDistances(args: KernelArgs): TensorInfo {
  const { attrs, layout, x, refs } = distanceArrays(args, Object.values(args.inputs) as TensorInfo[]);
  const backend = cpuBackend(args);
  const shape = [attrs.references, attrs.replicas, attrs.groups];
  const out = outputArray(backend, sizeOf(shape));
  addon().groupedSquaredDistances(layout, out, ...x, ...refs);
  return backend.makeTensorInfo(shape, 'float32', out);
}

/**
 * x, refs and, when the inputs hold a third list, the bases: the tensors of both gradient kernels;
 * and the pass that writes [base_i +] 2 Σ_j dy[j, r, g] (x_i − ref_j) into new outputs.
 */
function gradientArrays(args: KernelArgs, inputs: TensorInfo[]) {
  const n = (args.attrs as unknown as GroupedSquaredDistancesAttrs).layout?.length ?? 0;
  const withBase = n > 0 && inputs.length === 3 * n;
  const arrays = distanceArrays(args, inputs, withBase ? ['base'] : []);
  const backend = cpuBackend(args);
  const gradient = (dy: Float32Array): TensorInfo[] => {
    const dx = arrays.x.map((values) => outputArray(backend, values.length));
    addon().groupedSquaredDistancesGrad(
      arrays.layout,
      dy,
      ...arrays.x,
      ...arrays.refs,
      ...dx,
      ...(arrays.extra[0] ?? []),
    );
    return dx.map((values, i) => backend.makeTensorInfo(inputs[i].shape, 'float32', values));
  };
  return { ...arrays, gradient };
}

/** `GroupedSquaredDistancesGrad` as the contract above says, with or without the base inputs. */
function groupedSquaredDistancesGrad(args: KernelArgs): TensorInfo[] {
  const [dyInfo, ...rest] = Object.values(args.inputs) as TensorInfo[];
  const { gradient } = gradientArrays(args, rest);
  const dy = f32(cpuBackend(args), dyInfo);
  if (dy === null) throw new Error(`${GroupedSquaredDistancesGrad}: dy must be a non-empty float32 tensor`);
  return gradient(dy);
}

/** `GroupedSquaredDistancesChain` as its contract says: s, the caller's slope on the host, the gradient. */
function groupedSquaredDistancesChain(args: KernelArgs): TensorInfo[] {
  const { slope } = args.attrs as unknown as GroupedSquaredDistancesChainAttrs;
  if (typeof slope !== 'function')
    throw new Error(`${GroupedSquaredDistancesChain}: attr 'slope' must be a function of the squared distances`);
  const { attrs, layout, x, refs, gradient } = gradientArrays(args, Object.values(args.inputs) as TensorInfo[]);
  const squares = new Float32Array(attrs.references * attrs.replicas * attrs.groups);
  addon().groupedSquaredDistances(layout, squares, ...x, ...refs);
  const dy = slope(squares);
  if (!(dy instanceof Float32Array) || dy.length !== squares.length)
    throw new Error(
      `${GroupedSquaredDistancesChain}: attr 'slope' must return a Float32Array of ${squares.length} values (one per squared distance)`,
    );
  return gradient(dy);
}

registerNativeKernel(GroupedSquaredDistances, groupedSquaredDistances);
registerNativeKernel(GroupedSquaredDistancesChain, groupedSquaredDistancesChain);
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
