import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type NativeAddon, native } from '../src/native.js';

type Params = Record<string, unknown>;

const f32 = (n: number) => new Float32Array(n).fill(0.5);

const conv = {
  batch: 2,
  inH: 5,
  inW: 4,
  inC: 3,
  outH: 3,
  outW: 2,
  outC: 2,
  kH: 3,
  kW: 3,
  strideH: 2,
  strideW: 2,
  padTop: 1,
  padBottom: 1,
  padLeft: 1,
  padRight: 0,
  dilationH: 1,
  dilationW: 1,
};
const pool = {
  batch: 2,
  inH: 5,
  inW: 4,
  channels: 3,
  outH: 3,
  outW: 2,
  kH: 3,
  kW: 2,
  strideH: 2,
  strideW: 2,
  padTop: 1,
  padLeft: 0,
};
const xSize = 2 * 5 * 4 * 3;
const convOut = 2 * 3 * 2 * 2;
const poolOut = 2 * 3 * 2 * 3;

/** A valid call per entry point that takes a parameter object, and the keys whose absence is allowed. */
const valid: [keyof NativeAddon, Params, string[]][] = [
  [
    'conv2d',
    { ...conv, x: f32(xSize), filter: f32(3 * 3 * 3 * 2), out: f32(convOut), bias: f32(2), relu: true },
    ['bias', 'relu', 'dilationH', 'dilationW'],
  ],
  [
    'conv2dBackpropInput',
    { ...conv, dy: f32(convOut), filter: f32(3 * 3 * 3 * 2), dx: f32(xSize) },
    ['dilationH', 'dilationW'],
  ],
  [
    'conv2dBackpropFilter',
    { ...conv, x: f32(xSize), dy: f32(convOut), dw: f32(3 * 3 * 3 * 2) },
    ['dilationH', 'dilationW'],
  ],
  ['maxPool', { ...pool, x: f32(xSize), out: f32(poolOut) }, []],
  ['maxPoolGrad', { ...pool, dy: f32(poolOut), x: f32(xSize), dx: f32(xSize) }, []],
  ['avgPool', { ...pool, x: f32(xSize), out: f32(poolOut) }, []],
  ['avgPoolGrad', { ...pool, dy: f32(poolOut), dx: f32(xSize) }, []],
  ['softmax', { x: f32(6), out: f32(6), rows: 2, cols: 3 }, []],
  ['slice', { x: f32(24), shape: [2, 3, 4], begin: [1, 0, 1], size: [1, 2, 2], out: f32(4) }, []],
  ['pad', { x: f32(6), shape: [2, 3], paddings: [1, 0, 0, 2], value: 0.5, out: f32(15) }, []],
  [
    'batchNorm',
    {
      x: f32(6),
      mean: f32(3),
      variance: f32(3),
      offset: f32(3),
      scale: f32(3),
      channels: 3,
      epsilon: 0.1,
      out: f32(6),
    },
    ['offset', 'scale', 'epsilon'],
  ],
  [
    'batchNormGrad',
    {
      x: f32(6),
      dy: f32(6),
      mean: f32(3),
      variance: f32(3),
      scale: f32(3),
      channels: 3,
      epsilon: 0.1,
      dx: f32(6),
      dMean: f32(3),
      dVariance: f32(3),
      dScale: f32(3),
      dOffset: f32(3),
    },
    ['scale', 'epsilon'],
  ],
  ['setThreads', { threads: 1 }, []],
];

const wrongValues: unknown[] = [
  '3',
  null,
  {},
  [],
  -1,
  1.5,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  2 ** 40,
  new Float64Array(6),
  new Int32Array(6),
  true,
];

function call(fn: keyof NativeAddon, ...args: unknown[]): void {
  (native![fn] as (...a: unknown[]) => void)(...args);
}

describe('native entry points reject bad arguments with JS errors', { skip: native === null }, () => {
  for (const [fn, params, optional] of valid) {
    it(fn, () => {
      call(fn, params);
      assert.throws(() => call(fn), Error);
      assert.throws(() => call(fn, params, params), Error);
      assert.throws(() => call(fn, [params]), Error);
      assert.throws(() => call(fn, 7), Error);
      assert.throws(() => call(fn, new Float32Array(4)), Error);
      for (const key of Object.keys(params)) {
        if (!optional.includes(key)) {
          const { [key]: _, ...rest } = params;
          assert.throws(() => call(fn, rest), Error, `${fn} without ${key}`);
        }
        for (const wrong of wrongValues) {
          if (wrong === null && optional.includes(key)) continue;
          if (typeof wrong === 'boolean' && typeof params[key] === 'boolean') continue;
          // alpha and value are any number, epsilon any finite non-negative one.
          if ((key === 'alpha' || key === 'value') && typeof wrong === 'number') continue;
          if (key === 'epsilon' && typeof wrong === 'number' && wrong >= 0 && Number.isFinite(wrong)) continue;
          assert.throws(() => call(fn, { ...params, [key]: wrong }), Error, `${fn} with ${key} = ${String(wrong)}`);
        }
        const value = params[key];
        if (value instanceof Float32Array) {
          for (const length of [0, value.length - 1, value.length + 1]) {
            assert.throws(
              () => call(fn, { ...params, [key]: new Float32Array(Math.max(length, 0)) }),
              Error,
              `${fn} ${key} length ${length}`,
            );
          }
          assert.throws(() => call(fn, { ...params, [key]: value.subarray(1) }), Error, `${fn} ${key} view`);
        }
        if (typeof value === 'number') {
          // Off-by-one sizes either still describe a consistent call or throw; they never crash.
          for (const delta of [-1, 1, 1000]) {
            try {
              call(fn, { ...params, [key]: value + delta });
            } catch (error) {
              assert.ok(error instanceof Error);
            }
          }
        }
      }
    });
  }

  it('conv2d rejects pads beyond the filter and inconsistent output sizes', () => {
    const base = valid[1][1];
    assert.throws(() => call('conv2d', { ...base, padTop: 3 }));
    assert.throws(() => call('conv2d', { ...base, outH: 4, out: f32(2 * 4 * 2 * 2) }));
    assert.throws(() => call('conv2d', { ...base, kH: 9, filter: f32(9 * 3 * 3 * 2) }));
  });

  it('slice and pad reject out-of-range and mismatched shapes', () => {
    const slice = { x: f32(24), shape: [2, 3, 4], begin: [1, 0, 1], size: [1, 2, 2], out: f32(4) };
    for (const [begin, size] of [
      [
        [2, 0, 0],
        [1, 1, 1],
      ],
      [
        [1, 2, 3],
        [1, 2, 2],
      ],
      [
        [-1, 0, 1],
        [1, 2, 2],
      ],
      [
        [1, 0, 1],
        [1, 0, 2],
      ],
      [
        [1, 0, 1],
        [1, -1, 2],
      ],
      [
        [1, 0],
        [1, 2],
      ],
      [
        [1, 0, 1, 0],
        [1, 2, 2, 1],
      ],
      [
        [0, 0, 2 ** 40],
        [1, 1, 1],
      ],
    ]) {
      assert.throws(
        () => call('slice', { ...slice, begin, size }),
        Error,
        `begin ${JSON.stringify(begin)} size ${JSON.stringify(size)}`,
      );
    }
    const pad = { x: f32(6), shape: [2, 3], paddings: [1, 0, 0, 2], value: 0.5, out: f32(15) };
    for (const paddings of [
      [1, 0, 0],
      [1, 0, 0, 2, 0],
      [-1, 0, 0, 2],
      [1.5, 0, 0, 2],
      [2 ** 40, 0, 0, 0],
    ]) {
      assert.throws(() => call('pad', { ...pad, paddings }), Error, `paddings ${JSON.stringify(paddings)}`);
    }
    assert.throws(() => call('pad', { ...pad, shape: [3, 2] }));
    const norm = { x: f32(6), mean: f32(3), variance: f32(3), channels: 3, out: f32(6) };
    assert.throws(() => call('batchNorm', { ...norm, channels: 4 }), /multiple of 'channels'/);
    assert.throws(() => call('batchNorm', { ...norm, channels: 2, mean: f32(2), variance: f32(2), scale: f32(3) }));
    assert.throws(() => call('batchNorm', { ...norm, epsilon: -1 }), /epsilon/);
  });
});

const i32 = (...values: number[]) => Int32Array.from(values);

/**
 * A valid call per positional entry point (native/common.h), and the positions that may hold any
 * number (step's alpha) or be left undefined (matMul's bias).
 */
const positional: [keyof NativeAddon, unknown[], { anyNumber?: number[]; optional?: number[] }][] = [
  ['matMul', [i32(2, 1, 3, 5, 4, 0, 1, 1), f32(2 * 3 * 4), f32(4 * 5), f32(2 * 3 * 5), f32(5)], { optional: [4] }],
  ['binary', [0, f32(6), f32(3), f32(6), i32(2, 1, 2, 3, 3)], {}],
  ['binary', [4, f32(3), f32(6), f32(6), i32(1, 2, 3, 2, 3, 7)], {}],
  ['unary', [2, f32(6), f32(6), 0.5], { anyNumber: [3] }],
  ['unary', [1, f32(6), f32(6), 0], { anyNumber: [3] }],
  ['unaryGrad', [1, f32(6), f32(6), f32(6)], {}],
  ['reduce', [0, f32(24), f32(3), i32(3, 2, 2, 3, 4, 0, 2)], {}],
  ['reduce', [5, f32(24), f32(4), i32(3, 2, 2, 3, 4, 0, 1), f32(4)], {}],
  ['reduce', [6, f32(24), f32(4), i32(3, 2, 2, 3, 4, 0, 1), f32(4)], {}],
  ['reduce', [8, f32(24), f32(4), i32(3, 2, 2, 3, 4, 0, 1), f32(4)], {}],
  ['reduce', [9, f32(24), f32(4), i32(3, 2, 2, 3, 4, 0, 1), f32(4), f32(4)], {}],
  // Three terms: a full array, a square's gradient with dy repeating every 6 elements, an array
  // repeating every 6 (lengths 5 and 7 divide no 12, so every changed length is wrong).
  ['sumTerms', [i32(3, 0, 0, 1, 0), f32(12), f32(12), f32(6), f32(12), f32(6)], {}],
  // A square's gradient of a shifted x and a full array, with the relu.
  ['sumTerms', [i32(2, 1, 2, 0), f32(12), f32(6), f32(12), f32(6), f32(12)], {}],
  ['tile', [f32(6), f32(12), i32(2, 2, 3, 2, 1)], {}],
  // Two tensors (a kernel [3, 4] and a bias [4] sharing 4 groups), 2 references: argument counts
  // follow from the layout, so one argument more or fewer never describes another valid call.
  ['groupedSquaredDistances', [i32(1, 2, 4, 3, 4, 0, 1, 1, 4, 0, 1), f32(8), f32(12), f32(4), f32(24), f32(8)], {}],
  [
    'groupedSquaredDistancesGrad',
    [i32(1, 2, 4, 3, 4, 0, 1, 1, 4, 0, 1), f32(8), f32(12), f32(4), f32(24), f32(8), f32(12), f32(4)],
    {},
  ],
];

describe('positional native entry points reject bad arguments with JS errors', { skip: native === null }, () => {
  for (const [fn, args, { anyNumber = [], optional = [] }] of positional) {
    it(`${fn}(${args.map((a) => (typeof a === 'number' ? a : (a as object).constructor.name)).join(', ')})`, () => {
      call(fn, ...args);
      assert.throws(() => call(fn, ...args.slice(0, -1)), /expected .+ arguments/);
      assert.throws(() => call(fn, ...args, args[0]), /expected .+ arguments/);
      for (const [i, value] of args.entries()) {
        const at = (replacement: unknown) => args.map((a, j) => (j === i ? replacement : a));
        for (const wrong of [...wrongValues, undefined]) {
          if ((wrong === null || wrong === undefined) && optional.includes(i)) continue;
          if (typeof wrong === 'number' && anyNumber.includes(i)) continue;
          assert.throws(() => call(fn, ...at(wrong)), Error, `${fn} argument ${i} = ${String(wrong)}`);
        }
        if (optional.includes(i)) call(fn, ...at(undefined));
        if (value instanceof Float32Array) {
          for (const length of [0, value.length - 1, value.length + 1])
            assert.throws(
              () => call(fn, ...at(new Float32Array(length))),
              Error,
              `${fn} argument ${i} length ${length}`,
            );
          assert.throws(() => call(fn, ...at(value.subarray(1))), Error, `${fn} argument ${i} view`);
        }
        if (value instanceof Int32Array) {
          // Any change to one size, rank or flag either still describes a consistent call or
          // throws; it never crashes.
          for (let k = 0; k < value.length; k++)
            for (const replacement of [0, -1, value[k] - 1, value[k] + 1, 1000, 2 ** 31 - 1]) {
              const changed = Int32Array.from(value);
              changed[k] = replacement;
              try {
                call(fn, ...at(changed));
              } catch (error) {
                assert.ok(error instanceof TypeError, `${fn} argument ${i}[${k}] = ${replacement}: ${error}`);
              }
            }
          for (const length of [0, value.length - 1, value.length + 1]) {
            const resized = new Int32Array(length);
            resized.set(value.subarray(0, Math.min(length, value.length)));
            if (length > value.length) resized[length - 1] = 1;
            try {
              call(fn, ...at(resized));
            } catch (error) {
              assert.ok(error instanceof TypeError, `${fn} argument ${i} of length ${length}: ${error}`);
            }
          }
        }
      }
    });
  }

  it('binary and unary ops outside their tables, shapes that do not broadcast, ranks above 8', () => {
    assert.throws(() => call('binary', 5, f32(6), f32(3), f32(6), i32(2, 1, 2, 3, 3)), /'op'/);
    assert.throws(() => call('binary', 0, f32(6), f32(2), f32(6), i32(2, 1, 2, 3, 2)), /broadcast/);
    assert.throws(() => call('binary', 0, f32(1), f32(1), f32(1), i32(9, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1)), /rank/);
    assert.throws(() => call('binary', 0, f32(6), f32(3), f32(6), i32(2, 1, 2, 3)), /rank/);
    assert.throws(() => call('unary', 5, f32(6), f32(6), 0), /'op'/);
    assert.throws(() => call('unaryGrad', 3, f32(6), f32(6), f32(6)), /'op'/);
    assert.throws(() => call('reduce', 11, f32(24), f32(3), i32(3, 2, 2, 3, 4, 0, 2)), /'op'/);
    assert.throws(() => call('sumTerms', i32(1, 2, 0), f32(6), f32(6)), /relu flag/);
    assert.throws(() => call('sumTerms', i32(1, 0, 3), f32(6), f32(6)), /kind/);
  });

  it('reduce rejects axes out of range or repeated', () => {
    for (const axes of [[3], [-1], [0, 0], [0, 1, 2, 0]])
      assert.throws(
        () => call('reduce', 0, f32(24), f32(3), i32(3, axes.length, 2, 3, 4, ...axes)),
        Error,
        String(axes),
      );
    assert.throws(() => call('reduce', 0, f32(24), f32(3), i32(3, 2, 2, 3, 4, 0)), /axes/);
  });

  it('reduce of square gradients rejects a dy that does not repeat along the kept axes', () => {
    // Kept axis 1 of [2, 3, 4] is not the last; a dy of 3 does not divide the 4 kept elements.
    assert.throws(() => call('reduce', 5, f32(24), f32(3), i32(3, 2, 2, 3, 4, 0, 2), f32(3)), /repeat/);
    assert.throws(() => call('reduce', 5, f32(24), f32(4), i32(3, 2, 2, 3, 4, 0, 1), f32(3)), /repeat/);
    assert.throws(() => call('reduce', 5, f32(24), f32(4), i32(3, 2, 2, 3, 4, 0, 1), f32(5)), /divides/);
  });

  it('tile rejects reps that are not positive or missing, and ranks above 8', () => {
    for (const reps of [[0, 1], [-1, 1], [2]])
      assert.throws(() => call('tile', f32(6), f32(12), i32(2, 2, 3, ...reps)), Error, `reps ${reps}`);
    assert.throws(() => call('tile', f32(6), f32(6), i32(2, 3, 2, 2, 1)));
    assert.throws(() => call('tile', f32(1), f32(1), i32(9, ...new Array(18).fill(1))), /rank/);
  });
});
