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
    assert.throws(call({ groups: 5 }), /exceed 'groups'/);
    assert.throws(call({ references: 2 }), /'refs' has 60 elements, expected 40/);
    assert.throws(call({ layout: attrs.layout.slice(0, 2) }), /2 inputs more than 'layout' describes/);
    assert.throws(call({ layout: [{ ...attrs.layout[0], rest: 6 }, ...attrs.layout.slice(1)] }), /'x' has 20 elements/);
    assert.throws(
      call({ layout: [{ ...attrs.layout[0], group: -1 }, ...attrs.layout.slice(1)] }),
      /'group' must be an integer/,
    );
    tf.dispose(inputs);
  });
});
