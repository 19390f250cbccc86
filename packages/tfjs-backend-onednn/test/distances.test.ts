import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers'; // registers tfjs's gradients
import { GroupedSquaredDistances, GroupedSquaredDistancesChain } from '../src/kernels/GroupedSquaredDistances.js';
import { native } from '../src/native.js';
import { randomValues } from './helpers.js';

interface Case {
  replicas: number;
  references: number;
  groups: number;
  tensors: { shape: number[]; rest: number; units: number; group: number; perUnit: boolean }[];
}

/** The kernel's contract in plain loops, in double precision: [references, replicas, groups]. */
function reference(c: Case, xs: Float32Array[], refs: Float32Array[], dy?: Float32Array) {
  const out = new Float64Array(c.references * c.replicas * c.groups);
  const dxs = xs.map((x) => new Float64Array(x.length));
  c.tensors.forEach((t, i) => {
    for (let j = 0; j < c.references; j++)
      for (let r = 0; r < c.replicas; r++)
        for (let k = 0; k < t.rest; k++)
          for (let u = 0; u < t.units; u++) {
            const at = (r * t.rest + k) * t.units + u;
            const diff = xs[i][at] - refs[i][j * xs[i].length + at];
            const g = (j * c.replicas + r) * c.groups + t.group + (t.perUnit ? u : 0);
            out[g] += diff * diff;
            if (dy) dxs[i][at] += 2 * dy[g] * diff;
          }
  });
  return { out, dxs };
}

function inputsOf(c: Case, seed: number) {
  const xs = c.tensors.map((t, i) => randomValues(c.replicas * t.rest * t.units, seed + i));
  const refs = c.tensors.map((t, i) => randomValues(c.references * c.replicas * t.rest * t.units, seed + 100 + i));
  const inputs = [
    ...c.tensors.map((t, i) => tf.tensor(xs[i], t.shape)),
    ...c.tensors.map((t, i) => tf.tensor(refs[i], [c.references, ...t.shape])),
  ];
  const attrs = {
    replicas: c.replicas,
    references: c.references,
    groups: c.groups,
    layout: c.tensors.map(({ rest, units, group, perUnit }) => ({ rest, units, group, perUnit })),
  };
  return { xs, refs, inputs, attrs };
}

const cases: Record<string, Case> = {
  // A dense kernel and its bias share their units' groups; a second layer follows.
  'per unit, kernel and bias sharing groups': {
    replicas: 1,
    references: 3,
    groups: 7,
    tensors: [
      { shape: [5, 4], rest: 5, units: 4, group: 0, perUnit: true },
      { shape: [4], rest: 1, units: 4, group: 0, perUnit: true },
      { shape: [4, 3], rest: 4, units: 3, group: 4, perUnit: true },
    ],
  },
  'per tensor, replicated (axis 0), one reference': {
    replicas: 3,
    references: 1,
    groups: 2,
    tensors: [
      { shape: [3, 1, 8], rest: 1, units: 8, group: 0, perUnit: false },
      { shape: [3, 8, 1], rest: 8, units: 1, group: 1, perUnit: false },
    ],
  },
  'one group for all, a conv kernel (units = output channels)': {
    replicas: 1,
    references: 2,
    groups: 1,
    tensors: [
      { shape: [3, 3, 2, 5], rest: 18, units: 5, group: 0, perUnit: false },
      { shape: [5], rest: 1, units: 5, group: 0, perUnit: false },
    ],
  },
};

describe('GroupedSquaredDistances', { skip: native === null ? 'the native addon is not built' : false }, () => {
  for (const [name, c] of Object.entries(cases)) {
    it(`${name}: values and the gradient with respect to each x match the contract`, async () => {
      await tf.setBackend('onednn');
      const { xs, refs, inputs, attrs } = inputsOf(c, 7);
      const dy = randomValues(c.references * c.replicas * c.groups, 99);
      const expected = reference(c, xs, refs, dy);
      const n = c.tensors.length;
      const run = (...x: tf.Tensor[]) =>
        tf
          .engine()
          .runKernel(
            GroupedSquaredDistances,
            [...x, ...inputs.slice(n)] as unknown as tf.NamedTensorMap,
            attrs as unknown as tf.NamedAttrMap,
          ) as tf.Tensor;
      const out = run(...inputs.slice(0, n));
      assert.deepEqual(out.shape, [c.references, c.replicas, c.groups]);
      const values = out.dataSync();
      for (const [g, v] of expected.out.entries())
        assert.ok(Math.abs(values[g] - v) <= 1e-5 * Math.max(1, v), `${g}: ${values[g]} vs ${v}`);
      const grads = tf.grads((...x: tf.Tensor[]) => tf.sum(tf.mul(run(...x), tf.tensor(dy, out.shape))))(
        inputs.slice(0, n),
      );
      grads.forEach((grad, i) => {
        assert.deepEqual(grad.shape, c.tensors[i].shape);
        const g = grad.dataSync();
        for (const [k, v] of expected.dxs[i].entries())
          assert.ok(Math.abs(g[k] - v) <= 1e-4 * Math.max(1, Math.abs(v)), `x${i}[${k}]`);
      });
      tf.dispose([out, ...grads, ...inputs]);
    });
  }

  it('adds the gradient to given tensors in the same pass, with the bits of adding it afterwards', async () => {
    await tf.setBackend('onednn');
    for (const c of Object.values(cases)) {
      const { inputs, attrs } = inputsOf(c, 11);
      const n = c.tensors.length;
      const dy = tf.tensor(randomValues(c.references * c.replicas * c.groups, 5), [c.references, c.replicas, c.groups]);
      const bases = c.tensors.map((t, i) => tf.tensor(randomValues(c.replicas * t.rest * t.units, 40 + i), t.shape));
      const run = (extra: tf.Tensor[]) =>
        tf
          .engine()
          .runKernel(
            'GroupedSquaredDistancesGrad',
            [dy, ...inputs, ...extra] as unknown as tf.NamedTensorMap,
            attrs as unknown as tf.NamedAttrMap,
          ) as tf.Tensor[];
      const alone = run([]);
      const added = run(bases);
      assert.equal(added.length, n);
      added.forEach((sum, i) => {
        assert.deepEqual(sum.shape, c.tensors[i].shape);
        assert.deepEqual(sum.dataSync(), tf.add(bases[i], alone[i]).dataSync());
      });
      assert.throws(() => run(bases.slice(1)), /inputs more than 'layout' describes/);
      tf.dispose([dy, ...bases, ...alone, ...added, ...inputs]);
    }
  });

  it('the chain kernel: s to the host function, its slope through the gradient, in one call', async () => {
    await tf.setBackend('onednn');
    for (const c of Object.values(cases)) {
      const { inputs, attrs } = inputsOf(c, 13);
      const n = c.tensors.length;
      const bases = c.tensors.map((t, i) => tf.tensor(randomValues(c.replicas * t.rest * t.units, 60 + i), t.shape));
      const s = tf
        .engine()
        .runKernel(
          GroupedSquaredDistances,
          inputs as unknown as tf.NamedTensorMap,
          attrs as unknown as tf.NamedAttrMap,
        ) as tf.Tensor;
      const squares = s.dataSync() as Float32Array;
      // Any function of s: here slope = sin(s), so that every group's weight differs.
      const slope = tf.tensor(Float32Array.from(squares, Math.sin), s.shape);
      for (const extra of [[], bases]) {
        const seen: Float32Array[] = [];
        const chained = tf.engine().runKernel(
          GroupedSquaredDistancesChain,
          [...inputs, ...extra] as unknown as tf.NamedTensorMap,
          {
            ...attrs,
            slope: (given: Float32Array) => {
              seen.push(Float32Array.from(given));
              return Float32Array.from(given, Math.sin);
            },
          } as unknown as tf.NamedAttrMap,
        ) as tf.Tensor[];
        assert.equal(seen.length, 1, 'the host function runs once');
        assert.deepEqual(seen[0], squares);
        const expected = tf
          .engine()
          .runKernel(
            'GroupedSquaredDistancesGrad',
            [slope, ...inputs, ...extra] as unknown as tf.NamedTensorMap,
            attrs as unknown as tf.NamedAttrMap,
          ) as tf.Tensor[];
        assert.equal(chained.length, n);
        chained.forEach((dx, i) => {
          assert.deepEqual(dx.shape, c.tensors[i].shape);
          assert.deepEqual(dx.dataSync(), expected[i].dataSync());
        });
        tf.dispose([...chained, ...expected]);
      }
      const run = (slopeAttr: unknown) => () =>
        tf
          .engine()
          .runKernel(
            GroupedSquaredDistancesChain,
            inputs as unknown as tf.NamedTensorMap,
            { ...attrs, slope: slopeAttr } as unknown as tf.NamedAttrMap,
          );
      assert.throws(run(undefined), /attr 'slope' must be a function of the squared distances/);
      assert.throws(
        run(() => new Float32Array(squares.length + 1)),
        new RegExp(`must return a Float32Array of ${squares.length} values`),
      );
      assert.throws(
        run(() => Array.from(squares)),
        /must return a Float32Array/,
      );
      assert.throws(
        run(() => {
          throw new Error('from the host function');
        }),
        /from the host function/,
      );
      tf.dispose([s, slope, ...bases, ...inputs]);
    }
  });

  it('refuses a layout that does not fit its tensors with a JS error', async () => {
    await tf.setBackend('onednn');
    const c = cases['per unit, kernel and bias sharing groups'];
    const { inputs, attrs } = inputsOf(c, 3);
    const call = (changes: Record<string, unknown>) => () =>
      tf
        .engine()
        .runKernel(
          GroupedSquaredDistances,
          inputs as unknown as tf.NamedTensorMap,
          { ...attrs, ...changes } as unknown as tf.NamedAttrMap,
        );
    assert.throws(call({ groups: 5 }), /tensor 2: groups 4 \+ units exceed 'groups'/);
    assert.throws(call({ references: 2 }), /tensor 0: 'refs' has 60 elements, expected 40/);
    assert.throws(call({ layout: attrs.layout.slice(0, 2) }), /2 inputs more than 'layout' describes/);
    assert.throws(
      call({ layout: [{ ...attrs.layout[0], rest: 6 }, ...attrs.layout.slice(1)] }),
      /tensor 0: 'x' has 20 elements/,
    );
    assert.throws(
      call({ layout: [{ ...attrs.layout[0], group: -1 }, ...attrs.layout.slice(1)] }),
      /tensor 0: 'group' must be an integer in \[0, 6\], got -1/,
    );
    assert.throws(
      call({ layout: [{ ...attrs.layout[0], units: 4.5 }, ...attrs.layout.slice(1)] }),
      /layout\[0\]\.units must be an integer, got 4.5/,
    );
    assert.throws(call({ layout: [] }), /attr 'layout' must list every tensor/);
    tf.dispose(inputs);
  });

  it('the addon refuses malformed arguments with a JS error, never touching memory', () => {
    const addon = native as NonNullable<typeof native>;
    const layout = Int32Array.from([1, 2, 4, 3, 4, 0, 1]);
    const x = [new Float32Array(12)];
    const refs = [new Float32Array(24)];
    const out = new Float32Array(8);
    const args = { layout, out, x, refs };
    // The arguments with some replaced: positional, as the kernel passes them.
    const call = (changes: Record<string, unknown>) => () => {
      const p = { ...args, ...changes } as Record<string, unknown>;
      (addon.groupedSquaredDistances as (...a: unknown[]) => void)(
        p.layout,
        p.out,
        ...(p.x as unknown[]),
        ...(p.refs as unknown[]),
      );
    };
    call({})();
    assert.throws(call({ layout: [1, 2, 4, 3, 4, 0, 1] }), /argument 0 \('layout'\) must be an Int32Array/);
    assert.throws(call({ layout: layout.subarray(0, 6) }), /'layout' must hold replicas, references, groups and 4/);
    assert.throws(
      call({ layout: Int32Array.from([1, 2, 4, 3, 4, 0, 2]) }),
      /tensor 0: 'perUnit' must be an integer in \[0, 1\]/,
    );
    assert.throws(call({ layout: Int32Array.from([0, 2, 4, 3, 4, 0, 1]) }), /'replicas' must be an integer/);
    assert.throws(call({ x: [new Float64Array(12)] }), /argument 2 \('x\[0\]'\) must be a Float32Array/);
    assert.throws(call({ refs: [{ length: 24 }] }), /argument 3 \('refs\[0\]'\) must be a Float32Array/);
    assert.throws(
      call({ refs: [...refs, ...refs] }),
      /groupedSquaredDistances: expected layout, out and 2 × 1 tensors .*got 5 arguments/,
    );
    assert.throws(call({ x: [] }), /got 3 arguments/);
    assert.throws(call({ refs: [new Float32Array(12)] }), /tensor 0: 'refs' has 12 elements, expected 24/);
    assert.throws(call({ out: new Float32Array(7) }), /'out' has 7 elements, expected 8/);
    assert.throws(call({ out: undefined }), /argument 1 \('out'\) must be a Float32Array/);
    assert.throws(() => (addon.groupedSquaredDistances as () => void)(), /expected 'layout' first/);
    const dy = new Float32Array(8);
    const grad = (changes: Record<string, unknown>) => () => {
      const p = { layout, x, refs, dy, dx: [new Float32Array(12)], base: [], ...changes } as Record<string, unknown>;
      (addon.groupedSquaredDistancesGrad as (...a: unknown[]) => void)(
        p.layout,
        p.dy,
        ...(p.x as unknown[]),
        ...(p.refs as unknown[]),
        ...(p.dx as unknown[]),
        ...(p.base as unknown[]),
      );
    };
    grad({})();
    grad({ base: [new Float32Array(12)] })();
    assert.throws(grad({ dx: [] }), /expected layout, dy and 3 or 4 × 1 tensors .*got 4 arguments/);
    assert.throws(grad({ base: [new Float32Array(12), new Float32Array(12)] }), /got 7 arguments/);
    assert.throws(grad({ base: [new Float32Array(11)] }), /tensor 0: 'base' has 11 elements, expected 12/);
    assert.throws(grad({ dx: [new Int32Array(12)] }), /argument 4 \('dx\[0\]'\) must be a Float32Array/);
    assert.throws(grad({ dy: new Float32Array(9) }), /'dy' has 9 elements, expected 8/);
  });
});
