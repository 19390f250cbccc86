import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { SMALL_BINARY, smallBinary } from '../src/kernels/binary_util.js';
import { native as addonOrNull, BINARY_OPS, type NativeAddon } from '../src/native.js';
import { assertSameOnBackends, randomTensor } from './helpers.js';

const native = [
  'BatchMatMul',
  '_FusedMatMul',
  'Conv2D',
  'Conv2DBackpropInput',
  'Conv2DBackpropFilter',
  'FusedConv2D',
  'MaxPool',
  'MaxPoolGrad',
  'AvgPool',
  'AvgPoolGrad',
  'Add',
  'Sub',
  'Multiply',
  'RealDiv',
  'Relu',
  'Step',
  'Sum',
  'Mean',
  'Max',
  'Softmax',
  'Tanh',
  'Square',
  'Neg',
  'FusedBatchNorm',
  'Tile',
  'Slice',
  'PadV2',
];

describe('onednn backend registration', () => {
  it('is the default backend and has its own kernels plus every cpu kernel', async () => {
    await tf.ready();
    assert.equal(tf.getBackend(), 'onednn');
    for (const name of native) {
      const mine = tf.getKernel(name, 'onednn');
      assert.ok(mine, name);
      assert.notEqual(mine.kernelFunc, tf.getKernel(name, 'cpu').kernelFunc, `${name} is native`);
    }
    for (const config of tf.getKernelsForBackend('cpu')) {
      assert.ok(tf.getKernel(config.kernelName, 'onednn'), config.kernelName);
    }
  });
});

describe('BatchMatMul and _FusedMatMul match cpu', () => {
  const cases: [number[], number[], boolean, boolean][] = [
    [[1, 1], [1, 1], false, false],
    [[3, 5], [5, 7], false, false],
    [[5, 3], [5, 7], true, false],
    [[3, 5], [7, 5], false, true],
    [[5, 3], [7, 5], true, true],
    [[4, 3, 5], [4, 5, 2], false, false],
    [[4, 3, 5], [1, 5, 2], false, false],
    [[4, 5, 3], [5, 2], true, false],
    [[1, 3, 5], [4, 2, 5], false, true],
    [[2, 3, 4, 5], [2, 3, 5, 6], false, false],
    [[33, 17], [17, 65], false, false],
  ];
  for (const [aShape, bShape, ta, tb] of cases) {
    it(`${aShape} x ${bShape} transposeA=${ta} transposeB=${tb}`, () => {
      assertSameOnBackends(() => tf.matMul(randomTensor(aShape, 1), randomTensor(bShape, 2), ta, tb), 'matMul');
      const n = tb ? bShape[bShape.length - 2] : bShape[bShape.length - 1];
      for (const activation of ['linear', 'relu'] as const) {
        assertSameOnBackends(
          () =>
            tf.fused.matMul({
              a: randomTensor(aShape, 3),
              b: randomTensor(bShape, 4),
              transposeA: ta,
              transposeB: tb,
              bias: randomTensor([n], 5),
              activation,
            }),
          `fused ${activation}`,
        );
      }
    });
  }
  it('falls back for other activations, scalar biases and int32', () => {
    assertSameOnBackends(
      () =>
        tf.fused.matMul({
          a: randomTensor([3, 4], 1),
          b: randomTensor([4, 2], 2),
          bias: tf.scalar(0.5),
          activation: 'elu',
        }),
      'elu',
    );
    assertSameOnBackends(
      () => tf.matMul(tf.tensor2d([[1, 2]], [1, 2], 'int32'), tf.tensor2d([[3], [4]], [2, 1], 'int32')),
      'int',
    );
  });
});

type Shape4 = [number, number, number, number];
type Pad = 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];

describe('Conv2D family matches cpu', () => {
  const cases: { x: Shape4; f: Shape4; stride: number | [number, number]; pad: Pad; dilation?: number }[] = [
    { x: [1, 5, 5, 1], f: [3, 3, 1, 1], stride: 1, pad: 'valid' },
    { x: [2, 7, 6, 3], f: [3, 3, 3, 4], stride: 1, pad: 'same' },
    { x: [2, 8, 8, 3], f: [3, 3, 3, 5], stride: 2, pad: 'same' },
    { x: [1, 9, 7, 2], f: [2, 2, 2, 3], stride: 2, pad: 'same' },
    { x: [3, 10, 9, 4], f: [4, 3, 4, 2], stride: [2, 3], pad: 'valid' },
    {
      x: [2, 6, 6, 3],
      f: [3, 3, 3, 4],
      stride: 1,
      pad: [
        [0, 0],
        [1, 0],
        [0, 2],
        [0, 0],
      ],
    },
    { x: [1, 9, 9, 2], f: [3, 3, 2, 3], stride: 1, pad: 'same', dilation: 2 },
    { x: [4, 16, 16, 8], f: [3, 3, 8, 16], stride: 1, pad: 'same' },
    { x: [1, 4, 4, 3], f: [1, 1, 3, 2], stride: 3, pad: 'valid' },
  ];
  for (const c of cases) {
    const label = `x ${c.x} filter ${c.f} stride ${c.stride} pad ${JSON.stringify(c.pad)} dilation ${c.dilation ?? 1}`;
    it(label, () => {
      const dilation = c.dilation ?? 1;
      assertSameOnBackends(
        () =>
          tf.conv2d(
            randomTensor(c.x, 1) as tf.Tensor4D,
            randomTensor(c.f, 2) as tf.Tensor4D,
            c.stride,
            c.pad,
            'NHWC',
            dilation,
          ),
        'conv2d',
      );
      for (const activation of ['linear', 'relu'] as const) {
        assertSameOnBackends(
          () =>
            tf.fused.conv2d({
              x: randomTensor(c.x, 3) as tf.Tensor4D,
              filter: randomTensor(c.f, 4) as tf.Tensor4D,
              strides: c.stride,
              pad: c.pad,
              dilations: dilation,
              bias: randomTensor([c.f[3]], 5),
              activation,
            }),
          `fusedConv2d ${activation}`,
        );
      }
      if (dilation !== 1) return;
      const outShape = tf.tidy(
        () => tf.conv2d(tf.zeros(c.x) as tf.Tensor4D, tf.zeros(c.f) as tf.Tensor4D, c.stride, c.pad).shape,
      );
      assertSameOnBackends(
        () =>
          tf
            .engine()
            .runKernel(
              'Conv2DBackpropInput',
              { dy: randomTensor(outShape, 6), filter: randomTensor(c.f, 7) },
              { strides: c.stride, pad: c.pad, dataFormat: 'NHWC', inputShape: c.x },
            ) as tf.Tensor,
        'conv2dBackpropInput',
      );
      assertSameOnBackends(
        () =>
          tf
            .engine()
            .runKernel(
              'Conv2DBackpropFilter',
              { x: randomTensor(c.x, 8), dy: randomTensor(outShape, 9) },
              { strides: c.stride, pad: c.pad, dataFormat: 'NHWC', filterShape: c.f },
            ) as tf.Tensor,
        'conv2dBackpropFilter',
      );
    });
  }
  it('falls back for NCHW', () => {
    assertSameOnBackends(
      () =>
        tf.conv2d(
          randomTensor([1, 2, 5, 5], 1) as tf.Tensor4D,
          randomTensor([3, 3, 2, 2], 2) as tf.Tensor4D,
          1,
          'same',
          'NCHW',
        ),
      'nchw',
    );
  });
});

describe('pooling matches cpu', () => {
  const cases: { x: Shape4; k: number | [number, number]; stride: number | [number, number]; pad: 'same' | 'valid' }[] =
    [
      { x: [1, 4, 4, 1], k: 2, stride: 2, pad: 'valid' },
      { x: [2, 7, 5, 3], k: 3, stride: 2, pad: 'same' },
      { x: [2, 7, 5, 3], k: 3, stride: 2, pad: 'valid' },
      { x: [3, 6, 9, 4], k: [2, 3], stride: [1, 2], pad: 'same' },
      { x: [1, 8, 8, 16], k: 2, stride: 2, pad: 'same' },
      { x: [1, 5, 5, 2], k: 1, stride: 1, pad: 'valid' },
      // Enough elements to split the images among threads, channels for whole vectors and a tail.
      { x: [4, 16, 16, 40], k: 3, stride: 2, pad: 'same' },
    ];
  for (const c of cases) {
    it(`x ${c.x} k ${c.k} stride ${c.stride} ${c.pad}`, () => {
      // Rounded values make ties, which must follow the first-max rule.
      const x = () => tf.round(randomTensor(c.x, 1, 3));
      assertSameOnBackends(() => tf.maxPool(x() as tf.Tensor4D, c.k, c.stride, c.pad), 'maxPool');
      assertSameOnBackends(() => tf.avgPool(x() as tf.Tensor4D, c.k, c.stride, c.pad), 'avgPool');
      const outShape = tf.tidy(() => tf.maxPool(tf.zeros(c.x) as tf.Tensor4D, c.k, c.stride, c.pad).shape);
      const attrs = { filterSize: c.k, strides: c.stride, pad: c.pad };
      assertSameOnBackends(() => {
        const input = x();
        const output = tf.maxPool(input as tf.Tensor4D, c.k, c.stride, c.pad);
        return tf
          .engine()
          .runKernel('MaxPoolGrad', { dy: randomTensor(outShape, 2), input, output }, attrs) as tf.Tensor;
      }, 'maxPoolGrad');
      assertSameOnBackends(
        () => tf.engine().runKernel('AvgPoolGrad', { dy: randomTensor(outShape, 3), input: x() }, attrs) as tf.Tensor,
        'avgPoolGrad',
      );
    });
  }
});

describe('GatherV2 matches cpu', () => {
  it('along every axis, with repeated indices, a scalar index and negative axes', () => {
    const x = () => randomTensor([5, 4, 3], 1);
    for (const [indices, shape] of [
      [[4, 0, 0, 2], [4]],
      [
        [1, 3, 0, 2, 2, 1],
        [2, 3],
      ],
      [[2], []],
    ] as [number[], number[]][])
      for (const axis of [0, 1, 2, -1]) {
        const dim = [5, 4, 3].at(axis) as number;
        const valid = indices.map((i) => i % dim);
        assertSameOnBackends(() => tf.gather(x(), tf.tensor(valid, shape, 'int32'), axis), `axis ${axis} [${valid}]`);
      }
    // Rows longer than the copy-by-element threshold.
    assertSameOnBackends(() => tf.gather(randomTensor([6, 100], 2), tf.tensor1d([5, 0, 3], 'int32')), 'long rows');
    assertSameOnBackends(() => tf.gather(randomTensor([4, 3], 3), tf.tensor1d([], 'int32')), 'no indices');
  });

  it('refuses an index out of range as the cpu kernel does, and leaves batched and int32 gathers to it', () => {
    assert.throws(
      () => tf.gather(randomTensor([3, 2], 1), tf.tensor1d([0, 3], 'int32')),
      /GatherV2: the index value 3 is not in \[0, 2\]/,
    );
    assert.throws(
      () => tf.gather(randomTensor([3, 2], 1), tf.tensor1d([-1], 'int32')),
      /the index value -1 is not in \[0, 2\]/,
    );
    assertSameOnBackends(
      () =>
        tf.gather(
          randomTensor([2, 4, 3], 4),
          tf.tensor2d(
            [
              [1, 0],
              [3, 3],
            ],
            [2, 2],
            'int32',
          ),
          1,
          1,
        ),
      'batchDims 1',
    );
    assertSameOnBackends(
      () =>
        tf.gather(
          tf.tensor2d(
            [
              [1, 2],
              [3, 4],
            ],
            [2, 2],
            'int32',
          ),
          tf.tensor1d([1], 'int32'),
        ),
      'int32',
    );
  });
});

describe('broadcast binary ops match cpu', () => {
  const shapes: [number[], number[]][] = [
    [[], []],
    [[5], []],
    [[], [5]],
    [
      [2, 3],
      [2, 3],
    ],
    [[2, 3], [3]],
    [[3], [2, 3]],
    [
      [2, 1],
      [1, 3],
    ],
    [
      [4, 1, 3],
      [5, 1],
    ],
    [
      [2, 3, 4, 5],
      [3, 1, 5],
    ],
    [
      [2, 1, 4, 1],
      [1, 3, 1, 5],
    ],
    [[1, 1, 1], [7]],
    [
      [6, 7, 8],
      [6, 1, 8],
    ],
    [[8, 16, 16, 32], [32]],
  ];
  const ops: [string, (a: tf.Tensor, b: tf.Tensor) => tf.Tensor][] = [
    ['add', tf.add],
    ['sub', tf.sub],
    ['mul', tf.mul],
    ['div', tf.div],
    ['squaredDifference', tf.squaredDifference],
  ];
  for (const [aShape, bShape] of shapes) {
    it(`[${aShape}] with [${bShape}]`, () => {
      for (const [name, op] of ops) {
        assertSameOnBackends(() => op(randomTensor(aShape, 1), randomTensor(bShape, 2)), name);
      }
    });
  }
  it('rank 9, above what the native kernels take, runs on the cpu kernels with the same values', () => {
    const shape = [1, 2, 1, 1, 1, 1, 1, 2, 3];
    assertSameOnBackends(() => tf.add(randomTensor(shape, 1), randomTensor([3], 2)), 'add rank 9');
    assertSameOnBackends(() => tf.sum(randomTensor(shape, 3), [1, 8]), 'sum rank 9');
  });

  it("squaredDifference has the cpu kernel's exact bits (both compute in double and round once)", () => {
    for (const [aShape, bShape] of [
      [[600], [600]],
      [
        [10, 256, 1],
        [1, 256, 1],
      ],
      [[40, 9], [9]],
    ])
      assertSameOnBackends(
        () => tf.squaredDifference(randomTensor(aShape, 3, 1e3), randomTensor(bShape, 5)),
        `squaredDifference [${aShape}] [${bShape}]`,
        0,
      );
  });

  it("small outputs, computed in JavaScript, have the native kernel's exact bits", () => {
    const addon = addonOrNull as NativeAddon;
    const special = [
      0,
      -0,
      1,
      -1,
      3.4e38,
      -3.4e38,
      1e-45,
      Number.NaN,
      Number.POSITIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
    ];
    const values = (n: number, seed: number) =>
      Float32Array.from({ length: n }, (_, i) =>
        i < special.length ? special[(i + seed) % special.length] : Math.sin(i * 12.9898 + seed) * 1e3,
      );
    for (const op of BINARY_OPS)
      for (const [aLength, bLength] of [
        [SMALL_BINARY, SMALL_BINARY],
        [SMALL_BINARY, 1],
        [1, 37],
        [1, 1],
      ]) {
        const a = values(aLength, 1);
        const b = values(bLength, 4);
        const n = Math.max(aLength, bLength);
        const mine = new Float32Array(n);
        const theirs = new Float32Array(n);
        assert.ok(smallBinary(op, a, b, mine));
        addon.binary(BINARY_OPS.indexOf(op), a, b, theirs, Int32Array.of(1, 1, aLength, bLength));
        for (let i = 0; i < n; i++)
          assert.ok(
            Object.is(mine[i], theirs[i]),
            `${op} [${aLength}] [${bLength}] at ${i}: ${mine[i]} vs ${theirs[i]}`,
          );
      }
    // Any other broadcast is left to the native kernel.
    assert.equal(smallBinary('add', new Float32Array(2), new Float32Array(3), new Float32Array(6)), false);
  });

  it('falls back for int32 and keeps NaN and Infinity', () => {
    assertSameOnBackends(() => tf.add(tf.tensor1d([1, 2], 'int32'), tf.tensor1d([3, 4], 'int32')), 'int add');
    assertSameOnBackends(() => tf.div(tf.tensor1d([1, 0, -1, Number.NaN]), tf.tensor1d([0, 0, 0, 1])), 'div by zero');
  });
});

describe('Relu, Step, Square, Neg, Softmax match cpu', () => {
  it('on random values, zeros and NaN', () => {
    const special = () => tf.tensor1d([0, -0, 1, -1, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]);
    for (const x of [() => randomTensor([3, 5, 7], 1), special]) {
      assertSameOnBackends(() => tf.relu(x()), 'relu');
      assertSameOnBackends(() => tf.step(x()), 'step');
      assertSameOnBackends(() => tf.step(x(), 0.25), 'step alpha');
      assertSameOnBackends(() => [tf.square(x()), tf.neg(x())], 'square, neg');
    }
    assertSameOnBackends(() => tf.softmax(randomTensor([4, 9], 2, 10)), 'softmax');
    assertSameOnBackends(() => tf.softmax(randomTensor([2, 3, 5], 3, 10)), 'softmax rank 3');
  });
});

describe('Sum, Mean, Max match cpu', () => {
  const cases: [number[], number | number[] | undefined][] = [
    [[7], 0],
    [[7], undefined],
    [[3, 4], 0],
    [[3, 4], 1],
    [[3, 4], -1],
    [
      [2, 3, 4, 5],
      [0, 1, 2],
    ],
    [
      [2, 3, 4, 5],
      [1, 3],
    ],
    [
      [2, 3, 4, 5],
      [0, 2],
    ],
    [[2, 3, 4, 5], [2]],
    [
      [2, 3, 4, 5],
      [3, 0],
    ],
    [
      [2, 1, 4, 1],
      [1, 2],
    ],
    [[2, 3, 4, 5], []],
    [
      [16, 8, 8, 32],
      [0, 1, 2],
    ],
  ];
  for (const [shape, axis] of cases) {
    it(`[${shape}] over ${JSON.stringify(axis)}`, () => {
      for (const keepDims of [false, true]) {
        assertSameOnBackends(() => tf.sum(randomTensor(shape, 1), axis, keepDims), 'sum');
        assertSameOnBackends(() => tf.mean(randomTensor(shape, 2), axis, keepDims), 'mean');
        assertSameOnBackends(() => tf.max(randomTensor(shape, 3), axis, keepDims), 'max');
      }
    });
  }
  it('falls back for int32 and bool', () => {
    assertSameOnBackends(() => tf.sum(tf.tensor2d([1, 2, 3, 4], [2, 2], 'int32'), 0), 'int sum');
    assertSameOnBackends(() => tf.sum(tf.tensor1d([1, 0, 1], 'bool')), 'bool sum');
  });
});

describe('Tanh matches cpu', () => {
  it('on random values, large magnitudes, zeros, infinities and NaN', () => {
    assertSameOnBackends(() => tf.tanh(randomTensor([3, 5, 7], 1, 4)), 'tanh');
    assertSameOnBackends(
      () =>
        tf.tanh(
          tf.tensor1d([0, -0, 1e-8, -1e-8, 0.5, -0.5, 9, -9, 20, -20, 1e30, -1e30, Number.NaN, Infinity, -Infinity]),
        ),
      'tanh special',
    );
    assertSameOnBackends(() => tf.tanh(tf.tensor2d([], [0, 3])), 'empty tanh');
    // Both sides of the switch between the series and the exponential form, to a tight tolerance.
    const near = Array.from({ length: 201 }, (_, i) => -0.6 + i * 0.006);
    assertSameOnBackends(() => tf.tanh(tf.tensor1d(near)), 'tanh near 0.5', 2e-7);
    tf.setBackend('onednn');
    assert.ok(Object.is(tf.tanh(tf.tensor1d([-0])).dataSync()[0], -0), 'tanh(-0) is -0');
  });

  it('is within 3e-7 of the exact value, relative, over its whole range', () => {
    tf.setBackend('onednn');
    const xs = Float32Array.from({ length: 200_001 }, (_, i) => -10 + i * 1e-4);
    const ys = tf.tidy(() => tf.tanh(tf.tensor1d(xs)).dataSync());
    let worst = 0;
    for (let i = 0; i < xs.length; i++) {
      const exact = Math.tanh(xs[i]);
      if (exact !== 0) worst = Math.max(worst, Math.abs(ys[i] - exact) / Math.abs(exact));
    }
    assert.ok(worst < 3e-7, `worst relative error ${worst}`);
  });
});

describe('Tile matches cpu', () => {
  const cases: [number[], number[]][] = [
    [[5], [3]],
    [[5], [1]],
    [[1], [7]],
    [
      [2, 3],
      [1, 1],
    ],
    [
      [2, 3],
      [3, 2],
    ],
    [
      [1, 4],
      [5, 1],
    ],
    [
      [2, 1, 3],
      [2, 4, 1],
    ],
    [
      [2, 3, 4, 5],
      [1, 2, 1, 3],
    ],
    [
      [1, 1, 1, 16],
      [8, 4, 4, 1],
    ],
    [
      [2, 1, 3, 1, 2],
      [1, 3, 2, 2, 1],
    ],
    [
      [1, 2, 1, 2, 1, 2],
      [2, 1, 2, 1, 2, 1],
    ],
  ];
  for (const [shape, reps] of cases) {
    it(`[${shape}] by [${reps}]`, () => {
      assertSameOnBackends(() => tf.tile(randomTensor(shape, 1), reps), 'tile');
    });
  }
  it('falls back for int32, bool, scalars and zero reps', () => {
    assertSameOnBackends(() => tf.tile(tf.tensor2d([1, 2, 3, 4], [2, 2], 'int32'), [2, 3]), 'int tile');
    assertSameOnBackends(() => tf.tile(tf.tensor1d([1, 0], 'bool'), [3]), 'bool tile');
    assertSameOnBackends(() => tf.tile(tf.tensor2d([1, 2], [1, 2]), [0, 2]), 'zero reps');
    assertSameOnBackends(() => tf.tile(tf.tensor1d([Number.NaN, Infinity]), [2]), 'special tile');
  });
});

describe('Slice matches cpu', () => {
  const cases: [number[], number[], number[]][] = [
    [[7], [2], [3]],
    [[7], [0], [-1]],
    [
      [4, 5],
      [1, 2],
      [2, 3],
    ],
    [
      [4, 5],
      [0, 0],
      [4, 1],
    ],
    [
      [4, 5],
      [3, 4],
      [1, 1],
    ],
    [
      [4, 5],
      [1, 0],
      [2, -1],
    ],
    [
      [2, 3, 4],
      [0, 1, 0],
      [2, 2, 4],
    ],
    [
      [2, 3, 4],
      [1, 0, 3],
      [1, 3, 1],
    ],
    [
      [2, 3, 4, 5],
      [0, 0, 1, 0],
      [-1, -1, 2, -1],
    ],
    [
      [2, 3, 4, 5],
      [1, 2, 3, 4],
      [1, 1, 1, 1],
    ],
    [
      [3, 2, 2, 3, 4],
      [1, 0, 1, 0, 1],
      [2, 2, 1, 3, 2],
    ],
    [
      [2, 2, 2, 2, 2, 3],
      [0, 1, 0, 1, 0, 1],
      [2, 1, 2, 1, 2, 2],
    ],
  ];
  for (const [shape, begin, size] of cases) {
    it(`[${shape}] from [${begin}] size [${size}]`, () => {
      assertSameOnBackends(() => tf.slice(randomTensor(shape, 1), begin, size), 'slice');
    });
  }
  it('keeps the cpu path for contiguous slices, int32 and empty slices', () => {
    assertSameOnBackends(() => tf.slice(randomTensor([4, 5], 2), [1, 0], [2, 5]), 'contiguous');
    assertSameOnBackends(() => tf.slice(tf.tensor2d([1, 2, 3, 4], [2, 2], 'int32'), [0, 1], [2, 1]), 'int slice');
    assertSameOnBackends(() => tf.slice(randomTensor([4, 5], 3), [1, 1], [0, 2]), 'empty');
    assertSameOnBackends(() => tf.slice(randomTensor([4, 5], 4), 1, 2), 'number begin and size');
  });
  it('rejects out-of-range slices like cpu', () => {
    assert.throws(() => tf.slice(randomTensor([4, 5], 5), [1, 3], [2, 3]));
  });
});

describe('PadV2 matches cpu', () => {
  const cases: [number[], [number, number][]][] = [
    [[5], [[2, 3]]],
    [[5], [[0, 0]]],
    [
      [3, 4],
      [
        [1, 0],
        [0, 2],
      ],
    ],
    [
      [1, 1],
      [
        [1, 1],
        [1, 1],
      ],
    ],
    [
      [2, 3, 4],
      [
        [0, 1],
        [2, 0],
        [1, 1],
      ],
    ],
    [
      [2, 4, 4, 3],
      [
        [0, 0],
        [1, 1],
        [1, 1],
        [0, 0],
      ],
    ],
    [
      [2, 1, 3, 1, 2],
      [
        [1, 0],
        [0, 1],
        [1, 1],
        [2, 0],
        [0, 3],
      ],
    ],
  ];
  for (const [shape, paddings] of cases) {
    it(`[${shape}] padded ${JSON.stringify(paddings)}`, () => {
      assertSameOnBackends(() => tf.pad(randomTensor(shape, 1), paddings), 'pad 0');
      assertSameOnBackends(() => tf.pad(randomTensor(shape, 2), paddings, -1.5), 'pad -1.5');
    });
  }
  it('falls back for int32 and keeps NaN padding', () => {
    assertSameOnBackends(() => tf.pad(tf.tensor1d([1, 2], 'int32'), [[1, 1]], 3), 'int pad');
    assertSameOnBackends(() => tf.pad(tf.tensor1d([1, 2]), [[1, 2]], Number.NaN), 'NaN pad');
  });
});
