import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers'; // registers tfjs's gradients
import { GroupedSquaredDistances } from '../src/kernels/GroupedSquaredDistances.js';
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
    const call = (changes: Record<string, unknown>) => () =>
      addon.groupedSquaredDistances({ layout, x, refs, out, ...changes } as Parameters<
        typeof addon.groupedSquaredDistances
      >[0]);
    call({})();
    assert.throws(call({ layout: [1, 2, 4, 3, 4, 0, 1] }), /'layout' must be an Int32Array/);
    assert.throws(call({ layout: layout.subarray(0, 6) }), /'layout' must hold replicas, references, groups and 4/);
    assert.throws(
      call({ layout: Int32Array.from([1, 2, 4, 3, 4, 0, 2]) }),
      /tensor 0: 'perUnit' must be an integer in \[0, 1\]/,
    );
    assert.throws(call({ layout: Int32Array.from([0, 2, 4, 3, 4, 0, 1]) }), /'replicas' must be an integer/);
    assert.throws(call({ x: x[0] }), /'x' must be an array of Float32Arrays/);
    assert.throws(call({ x: [new Float64Array(12)] }), /'x'\[0\] must be a Float32Array/);
    assert.throws(call({ refs: [...refs, ...refs] }), /'refs' has 2 arrays, 'layout' describes 1/);
    assert.throws(call({ refs: [new Float32Array(12)] }), /tensor 0: 'refs' has 12 elements, expected 24/);
    assert.throws(call({ out: new Float32Array(7) }), /'out' has 7 elements, expected 8/);
    const dy = new Float32Array(8);
    const grad = (changes: Record<string, unknown>) => () =>
      addon.groupedSquaredDistancesGrad({ layout, x, refs, dy, dx: [new Float32Array(12)], ...changes } as Parameters<
        typeof addon.groupedSquaredDistancesGrad
      >[0]);
    grad({})();
    grad({ base: [new Float32Array(12)] })();
    assert.throws(grad({ dx: [] }), /'dx' has 0 arrays, 'layout' describes 1/);
    assert.throws(grad({ base: [new Float32Array(11)] }), /tensor 0: 'base' has 11 elements, expected 12/);
  });
});
