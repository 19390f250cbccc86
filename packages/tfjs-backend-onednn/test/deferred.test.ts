import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers'; // registers tfjs's gradients
import { getThreads, setThreads } from '../src/index.js';
import { DEFERRED_MIN } from '../src/kernels/util.js';
import { BINARY_OPS, type NativeAddon, native, UNARY_GRAD_OPS, UNARY_OPS } from '../src/native.js';
import { randomTensor, runOn } from './helpers.js';

/** Counts calls of a native entry point (those `when` accepts) while fn runs. */
function countNative<K extends keyof NativeAddon>(
  name: K,
  fn: () => void,
  when: (...args: Parameters<NativeAddon[K]>) => boolean = () => true,
): number {
  const addon = native as NonNullable<typeof native>;
  const original = addon[name];
  let calls = 0;
  addon[name] = ((...args: Parameters<NativeAddon[K]>) => {
    if (when(...args)) calls++;
    (original as (...a: Parameters<NativeAddon[K]>) => void)(...args);
  }) as NativeAddon[K];
  try {
    fn();
  } finally {
    addon[name] = original;
  }
  return calls;
}

type Filter<K extends keyof NativeAddon> = (...args: Parameters<NativeAddon[K]>) => boolean;

/** Counts the calls of several native entry points at once (every call, or those a filter accepts). */
function countCalls<K extends keyof NativeAddon>(filters: { [P in K]: Filter<P> | 'all' }, fn: () => void) {
  const names = Object.keys(filters) as K[];
  const counts = {} as Record<K, number>;
  const within = (i: number): void => {
    if (i === names.length) {
      fn();
      return;
    }
    const filter = filters[names[i]];
    counts[names[i]] = countNative(names[i], () => within(i + 1), filter === 'all' ? undefined : filter);
  };
  within(0);
  return counts;
}

const countBackpropInput = (fn: () => void) => countNative('conv2dBackpropInput', fn);
const countTiles = (fn: () => void) => countNative('tile', fn);
/** Native square calls (the Square kernel's) of at least `min` elements. */
const countSquares = (fn: () => void, min = 0) =>
  countNative('unary', fn, (op, x) => op === UNARY_OPS.indexOf('square') && x.length >= min);
const countUnaryGrads = (op: (typeof UNARY_GRAD_OPS)[number], fn: () => void) =>
  countNative('unaryGrad', fn, (code) => code === UNARY_GRAD_OPS.indexOf(op));

/** Native batchNorm calls, those that write a relu and those that do not. */
function countNormalizations(fn: () => void): { plain: number; relu: number } {
  let relu = 0;
  const all = countNative('batchNorm', fn, (p) => {
    if (p.relu) relu++;
    return true;
  });
  return { plain: all - relu, relu };
}

const firstLayer = (x: tf.Tensor, filter: tf.Tensor, bias: tf.Tensor) =>
  tf.sum(tf.fused.conv2d({ x: x as tf.Tensor4D, filter: filter as tf.Tensor4D, bias, strides: 1, pad: 'same' }));

describe('deferred Conv2DBackpropInput', { skip: native === null }, () => {
  it('is never computed when the gradient of a fused convolution input goes unused', () => {
    tf.setBackend('onednn');
    const x = randomTensor([2, 6, 6, 3], 1);
    const filter = randomTensor([3, 3, 3, 4], 2);
    const bias = randomTensor([4], 3);
    const onlyWeights = countBackpropInput(() =>
      tf.tidy(() => tf.grads((f: tf.Tensor, b: tf.Tensor) => firstLayer(x, f, b))([filter, bias])),
    );
    assert.equal(onlyWeights, 0);
    const withInput = countBackpropInput(() =>
      tf.tidy(() => {
        const [dx] = tf.grads((v: tf.Tensor) => firstLayer(v, filter, bias))([x]);
        dx.dataSync();
      }),
    );
    assert.equal(withInput, 1);
    tf.dispose([x, filter, bias]);
  });

  it('gives the right values after its inputs were disposed and their memory reused', () => {
    const transpose = () =>
      tf.conv2dTranspose(
        randomTensor([2, 5, 5, 4], 4) as tf.Tensor4D,
        randomTensor([3, 3, 6, 4], 5) as tf.Tensor4D,
        [2, 9, 9, 6],
        2,
        'same',
      );
    const [expected] = runOn('cpu', transpose);
    tf.setBackend('onednn');
    const dy = randomTensor([2, 5, 5, 4], 4);
    const filter = randomTensor([3, 3, 6, 4], 5);
    const dx = tf.conv2dTranspose(dy as tf.Tensor4D, filter as tf.Tensor4D, [2, 9, 9, 6], 2, 'same');
    tf.dispose([dy, filter]);
    for (let i = 0; i < 4; i++)
      tf.dispose([tf.relu(randomTensor([2, 5, 5, 4], 10 + i)), tf.relu(randomTensor([3, 3, 6, 4], 20 + i))]);
    const actual = dx.dataSync();
    dx.dispose();
    for (let i = 0; i < actual.length; i++) assert.ok(Math.abs(actual[i] - expected.values[i]) < 1e-4, `element ${i}`);
  });
});

describe(
  'deferred broadcasts (tfjs broadcastTo, as the gradients of Mean and Sum spread dy)',
  { skip: native === null },
  () => {
    // Exactly DEFERRED_MIN elements: smaller broadcasts are made at once.
    const big = [4, 16, 16, DEFERRED_MIN / (4 * 16 * 16)];
    const channel = [1, 1, 1, 16];

    it('binary arithmetic and UnaryGrad read the small array, with the same bits as the full one', () => {
      for (const [label, fn] of [
        ['add', (s: tf.Tensor, x: tf.Tensor) => tf.add(x, tf.broadcastTo(s, big))],
        ['sub, broadcast first', (s: tf.Tensor, x: tf.Tensor) => tf.sub(tf.broadcastTo(s, big), x)],
        ['mul', (s: tf.Tensor, x: tf.Tensor) => tf.mul(tf.broadcastTo(s, big), x)],
        [
          'square gradient',
          (s: tf.Tensor, x: tf.Tensor) => tf.grad((v: tf.Tensor) => tf.square(v))(x, tf.broadcastTo(s, big)),
        ],
        [
          'relu gradient',
          (s: tf.Tensor, x: tf.Tensor) => tf.grad((v: tf.Tensor) => tf.relu(v))(x, tf.broadcastTo(s, big)),
        ],
      ] as const) {
        const run = () => fn(randomTensor(channel, 1), randomTensor(big, 2));
        const [expected] = runOn('cpu', run);
        let actual: Float32Array | undefined;
        tf.setBackend('onednn');
        const tiles = countTiles(() => {
          actual = tf.tidy(() => run().dataSync() as Float32Array);
        });
        assert.equal(tiles, 0, `${label}: the broadcast was made full size`);
        assert.deepEqual(actual, expected.values, label);
      }
    });

    it('is not deferred below DEFERRED_MIN elements', () => {
      tf.setBackend('onednn');
      const small = [4, 16, 16, big[3] / 2];
      const tiles = countTiles(() =>
        tf.tidy(() =>
          tf.add(randomTensor(small, 2), tf.broadcastTo(randomTensor([1, 1, 1, small[3]], 1), small)).dataSync(),
        ),
      );
      assert.equal(tiles, 1);
    });

    it('is made full size, with the right values, where a kernel reads it or it was reshaped', () => {
      const run = () => {
        const s = randomTensor(channel, 3);
        const wide = tf.broadcastTo(s, big);
        // A reshape shares the data id under another shape: its reader must not take the source.
        const flat = tf.add(tf.reshape(wide, [64, 4, 16, 4]), randomTensor([1, 4, 1, 4], 4));
        // Nor where the two arrays it repeats would broadcast to less than the output.
        const channels = tf.mul(wide, tf.slice(randomTensor(big, 6), [0, 0, 0, 0], [1, 1, 1, 16]));
        return [flat, tf.matMul(tf.reshape(wide, [1024, 16]), randomTensor([16, 3], 5)), channels, wide];
      };
      const expected = runOn('cpu', run);
      tf.setBackend('onednn');
      let actual: Float32Array[] = [];
      const tiles = countTiles(() => {
        actual = tf.tidy(() => run().map((t) => t.dataSync() as Float32Array));
      });
      assert.equal(tiles, 1);
      for (const [i, values] of actual.entries()) {
        const e = expected[i].values;
        for (let j = 0; j < e.length; j++)
          assert.ok(Math.abs(values[j] - e[j]) <= 1e-5 * Math.max(1, Math.abs(e[j])), `output ${i} element ${j}`);
      }
    });

    it('BatchNorm-style moments and their gradients match cpu without a full-size broadcast', () => {
      const loss = (x: tf.Tensor) => {
        const { mean, variance } = tf.moments(x, [0, 1, 2], true);
        return tf.sum(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, 1e-3))), randomTensor(big, 7)));
      };
      const run = () => tf.grad(loss)(randomTensor(big, 6));
      const [expected] = runOn('cpu', run);
      tf.setBackend('onednn');
      let actual: Float32Array | undefined;
      const tiles = countTiles(() => {
        actual = tf.tidy(() => run().dataSync() as Float32Array);
      });
      assert.equal(tiles, 0);
      const e = expected.values;
      let magnitude = 1;
      for (const v of e) magnitude = Math.max(magnitude, Math.abs(v));
      for (let j = 0; j < e.length; j++)
        assert.ok(Math.abs((actual as Float32Array)[j] - e[j]) <= 1e-4 * magnitude, `element ${j}`);
    });
  },
);

describe('deferred squares (the variance of tf.moments)', { skip: native === null }, () => {
  // Exactly DEFERRED_MIN elements: smaller squares are made at once.
  const big = [4, 16, 16, DEFERRED_MIN / (4 * 16 * 16)];

  it('a Sum or Mean of a Square reads its input, with the bits of reducing the squares', () => {
    tf.setBackend('onednn');
    for (const [label, reduce] of [
      ['mean over all but channels', (t: tf.Tensor) => tf.mean(t, [0, 1, 2])],
      ['sum over all', (t: tf.Tensor) => tf.sum(t)],
      ['mean over a middle axis', (t: tf.Tensor) => tf.mean(t, 1)],
      ['sum of a reshaped view', (t: tf.Tensor) => tf.sum(tf.reshape(t, [64, 256]), 0)],
    ] as const) {
      let fused: Float32Array | undefined;
      let squares = countSquares(() => {
        fused = tf.tidy(() => reduce(tf.square(randomTensor(big, 8))).dataSync() as Float32Array);
      });
      assert.equal(squares, 0, `${label}: the squares were made`);
      // The same reduction of the squares made first (read before they are reduced).
      let made: Float32Array | undefined;
      squares = countSquares(() => {
        made = tf.tidy(() => {
          const s = tf.square(randomTensor(big, 8));
          s.dataSync();
          return reduce(s).dataSync() as Float32Array;
        });
      });
      assert.equal(squares, 1, label);
      assert.deepEqual(fused, made, label);
    }
  });

  it('reduces the squares of a large array on two threads as it reduces the squares made first', () => {
    tf.setBackend('onednn');
    const initial = getThreads();
    setThreads(2);
    try {
      // 128 K elements: above the size where a reduction splits among the threads.
      const large = [8, 32, 32, 16];
      for (const axes of [[0, 1, 2], [1]]) {
        let fused: Float32Array | undefined;
        const squares = countSquares(() => {
          fused = tf.tidy(() => tf.mean(tf.square(randomTensor(large, 11)), axes).dataSync() as Float32Array);
        });
        assert.equal(squares, 0);
        const made = tf.tidy(() => {
          const s = tf.square(randomTensor(large, 11));
          s.dataSync();
          return tf.mean(s, axes).dataSync() as Float32Array;
        });
        assert.deepEqual(fused, made, `axes ${axes}`);
      }
    } finally {
      setThreads(initial);
    }
  });

  it("is made, with the cpu kernel's bits, where another kernel reads it; small squares at once", () => {
    const run = () => {
      const s = tf.square(randomTensor(big, 9));
      return [tf.add(s, 1), tf.max(s, [0, 1]), s];
    };
    const expected = runOn('cpu', run);
    tf.setBackend('onednn');
    let actual: Float32Array[] = [];
    const squares = countSquares(() => {
      actual = tf.tidy(() => run().map((t) => t.dataSync() as Float32Array));
    });
    assert.equal(squares, 1);
    for (const [i, values] of actual.entries()) assert.deepEqual(values, expected[i].values, `output ${i}`);
    const small = countSquares(() =>
      tf.tidy(() => tf.mean(tf.square(randomTensor([4, 16, 16, big[3] / 2], 2))).dataSync()),
    );
    assert.equal(small, 1);
  });

  it('tf.moments and its gradient match cpu without making the squares', () => {
    const loss = (x: tf.Tensor) => {
      const { mean, variance } = tf.moments(x, [0, 1, 2], true);
      return tf.sum(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, 1e-3))), randomTensor(big, 7)));
    };
    const run = () => {
      const x = randomTensor(big, 6);
      return [tf.moments(x, [0, 1, 2]).variance, tf.grad(loss)(x)];
    };
    const expected = runOn('cpu', run);
    tf.setBackend('onednn');
    let actual: Float32Array[] = [];
    // (RealDiv's gradient squares the small divisor.)
    const squares = countSquares(() => {
      actual = tf.tidy(() => run().map((t) => t.dataSync() as Float32Array));
    }, DEFERRED_MIN);
    assert.equal(squares, 0);
    for (const [i, values] of actual.entries()) {
      const e = expected[i].values;
      let magnitude = 1;
      for (const v of e) magnitude = Math.max(magnitude, Math.abs(v));
      for (let j = 0; j < e.length; j++)
        assert.ok(Math.abs(values[j] - e[j]) <= 1e-4 * magnitude, `output ${i} element ${j}`);
    }
  });
});

describe('BatchNorm and Relu in one pass (a BatchNorm layer followed by a relu)', { skip: native === null }, () => {
  // Exactly DEFERRED_MIN elements: smaller outputs are made at once.
  const big = [4, 16, 16, DEFERRED_MIN / (4 * 16 * 16)];
  const channels = [big[3]];
  const normalize = (x: tf.Tensor) =>
    tf.batchNorm(
      x,
      randomTensor(channels, 21),
      tf.abs(randomTensor(channels, 22)),
      randomTensor(channels, 23),
      randomTensor(channels, 24),
      1e-3,
    );

  it('writes relu of the normalization without the normalization, with the bits of the two kernels', () => {
    tf.setBackend('onednn');
    let fused: Float32Array | undefined;
    const calls = countNormalizations(() => {
      fused = tf.tidy(() => tf.relu(normalize(randomTensor(big, 20))).dataSync() as Float32Array);
    });
    assert.deepEqual(calls, { plain: 0, relu: 1 });
    let apart: Float32Array | undefined;
    const twice = countNormalizations(() => {
      apart = tf.tidy(() => {
        const y = normalize(randomTensor(big, 20));
        y.dataSync();
        return tf.relu(y).dataSync() as Float32Array;
      });
    });
    assert.deepEqual(twice, { plain: 1, relu: 0 });
    assert.deepEqual(fused, apart);
    // Any other reader makes the normalization itself; small ones are made at once.
    const read = countNormalizations(() =>
      tf.tidy(() =>
        [tf.relu(normalize(randomTensor(big, 20))), tf.add(normalize(randomTensor(big, 20)), 1)].map((t) =>
          t.dataSync(),
        ),
      ),
    );
    assert.deepEqual(read, { plain: 1, relu: 1 });
    const small = [4, 16, 16, big[3] / 2];
    const smallCalls = countNormalizations(() =>
      tf.tidy(() =>
        tf.relu(tf.batchNorm(randomTensor(small, 1), tf.zeros([small[3]]), tf.ones([small[3]]))).dataSync(),
      ),
    );
    assert.deepEqual(smallCalls, { plain: 1, relu: 0 });
  });

  it('a training step through batch statistics, normalization and relu matches cpu without writing the normalization', () => {
    const loss = (x: tf.Tensor, scale: tf.Tensor, offset: tf.Tensor) => {
      const { mean, variance } = tf.moments(x, [0, 1, 2]);
      const y = tf.relu(tf.batchNorm(x, mean, variance, offset, scale, 1e-3));
      return tf.sum(tf.mul(y, randomTensor(big, 25)));
    };
    const run = () => tf.grads(loss)([randomTensor(big, 26), randomTensor(channels, 27), randomTensor(channels, 28)]);
    const expected = runOn('cpu', run);
    tf.setBackend('onednn');
    let actual: Float32Array[] = [];
    let reluGradients = 0;
    const terms: number[] = [];
    let counts = { sumTerms: 0, binary: 0 };
    const calls = countNormalizations(() => {
      reluGradients = countUnaryGrads('relu', () => {
        counts = countCalls(
          {
            sumTerms: (kinds) => terms.push(kinds[0]) > 0,
            binary: (op, _a, _b, out) =>
              (op === BINARY_OPS.indexOf('add') || op === BINARY_OPS.indexOf('sub')) && out.length >= DEFERRED_MIN,
          },
          () => {
            actual = tf.tidy(() => run().map((t) => t.dataSync() as Float32Array));
          },
        );
      });
    });
    // Neither the normalization nor the relu's gradient is written: the normalization's gradient
    // reads the relu's output and its gradient. x's gradient (the normalization's, the variance's
    // through the square, the mean's) is written once, by one sum of three terms; x − mean never.
    assert.deepEqual(calls, { plain: 0, relu: 1 });
    assert.equal(reluGradients, 0);
    assert.deepEqual(terms, [3]);
    assert.equal(counts.binary, 0);
    for (const [i, values] of actual.entries()) {
      const e = expected[i].values;
      let magnitude = 1;
      for (const v of e) magnitude = Math.max(magnitude, Math.abs(v));
      for (let j = 0; j < e.length; j++)
        assert.ok(Math.abs(values[j] - e[j]) <= 1e-4 * magnitude, `gradient ${i} element ${j}`);
    }
  });

  it("a Relu's gradient read by another kernel is made, and the gradient matches cpu", () => {
    // The normalization is used twice: its gradient accumulates the relu's with the other use's
    // (an Add reads the relu's gradient).
    const loss = (x: tf.Tensor) => {
      const y = normalize(x);
      return tf.sum(tf.mul(tf.add(tf.relu(y), y), randomTensor(big, 29)));
    };
    const run = () => tf.grad(loss)(randomTensor(big, 30));
    const [expected] = runOn('cpu', run);
    let actual = expected;
    const reluGradients = countUnaryGrads('relu', () => {
      [actual] = runOn('onednn', run);
    });
    assert.equal(reluGradients, 1);
    let magnitude = 1;
    for (const v of expected.values) magnitude = Math.max(magnitude, Math.abs(v));
    for (let j = 0; j < expected.values.length; j++)
      assert.ok(Math.abs(actual.values[j] - expected.values[j]) <= 1e-4 * magnitude, `element ${j}`);
  });

  it("Relu's gradient, taken from its output, has the bits of tfjs's (NaN, ±0, ±∞ included)", () => {
    const x = () => tf.tensor([-2, -0, 0, 3, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1e-38]);
    // Negative dy makes −0 where the sign is 0.
    const dy = () => tf.tensor([-1, 2, -3, 4, -5, 6, -7, 8]);
    const run = () => tf.grad((v: tf.Tensor) => tf.relu(v))(x(), dy());
    const [expected] = runOn('cpu', run);
    const [actual] = runOn('onednn', run);
    assert.deepEqual(actual.values, expected.values);
  });
});

describe("deferred sums (a square's gradient and what is added to it)", { skip: native === null }, () => {
  // Exactly DEFERRED_MIN elements: smaller gradients are made at once.
  const big = [4, 16, 16, DEFERRED_MIN / (4 * 16 * 16)];
  const channel = [1, 1, 1, big[3]];
  const squareGrad = (x: tf.Tensor, dy: tf.Tensor) => tf.grad((v: tf.Tensor) => tf.square(v))(x, dy);
  const isAdd = (op: number, _a: Float32Array, _b: Float32Array, out: Float32Array) =>
    op === BINARY_OPS.indexOf('add') && out.length >= DEFERRED_MIN;

  it("adds a square's gradient and every term added to it in one pass, with the bits of the separate kernels", () => {
    // Each operand kind, on either side: a full array, a broadcast, a plain array repeating along
    // leading axes (of 16 and of 4096 elements), another square's gradient with a full-size dy.
    const run = (read: (t: tf.Tensor) => tf.Tensor) => {
      let acc = read(squareGrad(randomTensor(big, 31), tf.broadcastTo(randomTensor(channel, 32), big)));
      acc = read(tf.add(randomTensor(big, 33), acc));
      acc = read(tf.add(tf.broadcastTo(randomTensor(channel, 34), big), acc));
      acc = read(tf.add(acc, randomTensor([big[3]], 35)));
      acc = read(tf.add(randomTensor(big.slice(1), 36), acc));
      return tf.add(acc, squareGrad(randomTensor(big, 37), randomTensor(big, 38)));
    };
    const [expected] = runOn('cpu', () => run((t) => t));
    tf.setBackend('onednn');
    let fused: Float32Array | undefined;
    const counts = countCalls({ sumTerms: 'all', binary: isAdd }, () => {
      fused = tf.tidy(() => run((t) => t).dataSync() as Float32Array);
    });
    assert.deepEqual(counts, { sumTerms: 1, binary: 0 });
    assert.deepEqual(fused, expected.values);
    // Each partial sum read as soon as it is made: the same bits.
    const made = tf.tidy(() =>
      run((t) => {
        t.dataSync();
        return t;
      }).dataSync(),
    );
    assert.deepEqual(made, expected.values);
  });

  it('makes the sum where it reaches eight terms and another is added, or a kernel reads it', () => {
    const run = () => {
      let acc = squareGrad(randomTensor(big, 41), tf.broadcastTo(randomTensor(channel, 42), big));
      for (let i = 0; i < 9; i++) acc = tf.add(acc, randomTensor(big, 43 + i));
      return [acc, tf.mul(tf.add(squareGrad(randomTensor(big, 60), randomTensor(big, 61)), 1), 3)];
    };
    const expected = runOn('cpu', run);
    tf.setBackend('onednn');
    let actual: Float32Array[] = [];
    const terms: number[] = [];
    countNative(
      'sumTerms',
      () => {
        actual = tf.tidy(() => run().map((t) => t.dataSync() as Float32Array));
      },
      (kinds) => terms.push(kinds[0]) > 0,
    );
    // The eighth Add makes the eight-term sum and adds to it in a kernel of its own; the ninth
    // starts a sum of two, made when read. The Multiply makes the other sum.
    assert.deepEqual(terms, [8, 2, 2]);
    for (const [i, values] of actual.entries()) assert.deepEqual(values, expected[i].values, `output ${i}`);
  });

  it('a Relu of a sum (a residual connection) is written by the pass that adds it, with the bits of the kernels', () => {
    // NaN, ±0 and ±∞ among both addends (−0 + −0 is −0, which relu keeps, as the Relu kernel does).
    const special = (seed: number) => {
      const values = randomTensor(big, seed).dataSync().slice();
      values.set([Number.NaN, -0, 0, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -1e-38, -0]);
      return tf.mul(tf.tensor(values, big), 1);
    };
    const run = (read: (t: tf.Tensor) => tf.Tensor) => [
      tf.relu(read(tf.add(special(71), special(72)))),
      tf.relu(read(tf.add(tf.add(special(73), randomTensor(big, 74)), tf.broadcastTo(randomTensor(channel, 75), big)))),
      // Four terms: the fourth added after the loop that sums three, the relu after it.
      tf.relu(read(tf.add(tf.add(tf.add(special(76), randomTensor(big, 77)), randomTensor(big, 78)), special(79)))),
    ];
    tf.setBackend('onednn');
    let fused: Float32Array[] = [];
    const counts = countCalls(
      { sumTerms: 'all', binary: isAdd, unary: (op) => op === UNARY_OPS.indexOf('relu') },
      () => {
        fused = tf.tidy(() => run((t) => t).map((t) => t.dataSync() as Float32Array));
      },
    );
    assert.deepEqual(counts, { sumTerms: 3, binary: 0, unary: 0 });
    // Each sum made first, then a Relu kernel: the same bits (as plain arrays, compared element by
    // element with Object.is: NaN equal to NaN, −0 not equal to 0).
    const apart = tf.tidy(() =>
      run((t) => {
        t.dataSync();
        return t;
      }).map((t) => t.dataSync() as Float32Array),
    );
    for (const [i, values] of fused.entries())
      assert.deepEqual(Array.from(values), Array.from(apart[i]), `output ${i}`);
    assert.ok(Object.is(fused[0][6], -0));
    // And the values of cpu's kernels, but for the sign of zeros (cpu's Relu makes −0 +0).
    const expected = runOn('cpu', () => run((t) => t));
    for (const [i, values] of fused.entries())
      assert.deepEqual(
        Array.from(values, (v) => v + 0),
        Array.from(expected[i].values, (v) => v + 0),
        `output ${i} against cpu`,
      );
  });

  it("x − mean is a sum: its square's reductions, its square's gradient and that gradient's reductions read x and the mean", () => {
    const isSub = (op: number, _a: Float32Array, _b: Float32Array, out: Float32Array) =>
      op === BINARY_OPS.indexOf('sub') && out.length >= DEFERRED_MIN;
    // 16 channels, and 15 (runs of 270 elements and a partial last chunk) with a single dy.
    for (const [shape, dyShape] of [
      [big, channel],
      [
        [3, 37, 37, 15],
        [1, 1, 1, 1],
      ],
    ]) {
      // `made`: x − mean by the Sub kernel (of the full-size mean, which no sum takes), read first.
      const run = (made: boolean) => {
        const x = randomTensor(shape, 91);
        const mean = tf.mean(x, [0, 1, 2], true);
        const centered = made ? tf.sub(x, tf.broadcastTo(mean, shape)) : tf.sub(x, mean);
        if (made) centered.dataSync();
        const grad = squareGrad(centered, tf.broadcastTo(randomTensor(dyShape, 92), shape));
        const square = tf.square(centered);
        return [
          tf.mean(square, [0, 1, 2]),
          tf.sum(square, [0, 1, 2]),
          tf.sum(grad, [0, 1, 2]),
          tf.mean(grad, [0, 1, 2]),
          tf.add(tf.add(randomTensor(shape, 93), grad), tf.broadcastTo(randomTensor([1, 1, 1, shape[3]], 94), shape)),
        ];
      };
      tf.setBackend('onednn');
      let fused: Float32Array[] = [];
      const counts = countCalls(
        {
          sumTerms: 'all',
          binary: isSub,
          unary: (op, x) => op === UNARY_OPS.indexOf('square') && x.length >= DEFERRED_MIN,
        },
        () => {
          fused = tf.tidy(() => run(false).map((t) => t.dataSync() as Float32Array));
        },
      );
      // Only the gradients' sum is written: not x − mean, its square or its square's gradient.
      assert.deepEqual(counts, { sumTerms: 1, binary: 0, unary: 0 }, `${shape}`);
      // x − mean made by the Sub kernel first: the same bits.
      const apart = tf.tidy(() => run(true).map((t) => t.dataSync() as Float32Array));
      for (const [i, values] of fused.entries()) assert.deepEqual(values, apart[i], `${shape}: output ${i}`);
      // And cpu's values (its mean is summed in another order, so not its bits).
      const expected = runOn('cpu', () => run(false));
      for (const [i, values] of fused.entries())
        for (let j = 0; j < values.length; j++)
          assert.ok(
            Math.abs(values[j] - expected[i].values[j]) <= 1e-4 * Math.max(1, Math.abs(expected[i].values[j])),
            `${shape}: output ${i} element ${j}`,
          );
    }
  });

  it('sums shapes that are no multiple of its chunks or periods, at two threads', () => {
    // 3·37·37·15 elements: channels of 15 (repeated to 270-element runs), a partial last chunk,
    // and column sums whose rows are no multiple of the wide row.
    const odd = [3, 37, 37, 15];
    const oddChannel = [1, 1, 1, 15];
    const run = (read: (t: tf.Tensor) => tf.Tensor = (t) => t) => {
      const grad = read(
        tf.grad((v: tf.Tensor) => tf.square(v))(
          randomTensor(odd, 81),
          tf.broadcastTo(randomTensor(oddChannel, 82), odd),
        ),
      );
      const sum = tf.add(tf.add(randomTensor(odd, 83), grad), tf.broadcastTo(randomTensor(oddChannel, 84), odd));
      return [tf.relu(tf.add(sum, randomTensor([37, 15], 85))), tf.sum(grad, [0, 1, 2])];
    };
    const initial = getThreads();
    setThreads(2);
    try {
      const expected = runOn('cpu', () => run());
      tf.setBackend('onednn');
      let actual: Float32Array[] = [];
      const sums = countNative('sumTerms', () => {
        actual = tf.tidy(() => run().map((t) => t.dataSync() as Float32Array));
      });
      assert.equal(sums, 1);
      assert.deepEqual(
        Array.from(actual[0], (v) => v + 0),
        Array.from(expected[0].values, (v) => v + 0),
      );
      // The square's gradient made first: the same sums, bit for bit.
      const made = tf.tidy(
        () =>
          run((t) => {
            t.dataSync();
            return t;
          })[1].dataSync() as Float32Array,
      );
      assert.deepEqual(actual[1], made);
      for (let c = 0; c < 15; c++)
        assert.ok(
          Math.abs(actual[1][c] - expected[1].values[c]) <= 1e-3 * Math.max(1, Math.abs(expected[1].values[c])),
        );
    } finally {
      setThreads(initial);
    }
  });

  it("Sum and Mean read a square's gradient over leading axes, with the bits of reducing it made", () => {
    const reductions: [string, number[], (t: tf.Tensor) => tf.Tensor, number][] = [
      ['sum over all but channels', channel, (t) => tf.sum(t, [0, 1, 2]), 0],
      ['mean over the two leading axes', channel, (t) => tf.mean(t, [0, 1]), 0],
      ['sum of a reshaped view', channel, (t) => tf.sum(tf.reshape(t, [-1, 256]), 0), 0],
      ['mean over all, one dy', [1, 1, 1, 1], (t) => tf.mean(t), 0],
      ['mean over a middle axis, one dy', [1, 1, 1, 1], (t) => tf.mean(t, 1), 0],
      // dy per channel repeats along no kept axes that are the last ones: made first.
      ['sum over a middle axis', channel, (t) => tf.sum(t, 1), 1],
      ['sum over all', channel, (t) => tf.sum(t), 1],
    ];
    for (const shape of [big, [8, 32, 32, 16]]) {
      const initial = getThreads();
      // The larger shape splits among two threads.
      setThreads(shape === big ? 1 : 2);
      try {
        for (const [label, dyShape, reduce, writes] of reductions) {
          const grad = () => squareGrad(randomTensor(shape, 51), tf.broadcastTo(randomTensor(dyShape, 52), shape));
          tf.setBackend('onednn');
          let fused: Float32Array | undefined;
          const sums = countNative('sumTerms', () => {
            fused = tf.tidy(() => reduce(grad()).dataSync() as Float32Array);
          });
          assert.equal(sums, writes, `${label}: writes`);
          const made = tf.tidy(() => {
            const g = grad();
            g.dataSync();
            return reduce(g).dataSync() as Float32Array;
          });
          assert.deepEqual(fused, made, `${label} of ${shape}`);
        }
      } finally {
        setThreads(initial);
      }
    }
  });
});
