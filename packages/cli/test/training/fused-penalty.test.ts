import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import {
  defaultPenaltySpec,
  GROUPED_SQUARED_DISTANCES,
  GROUPED_SQUARED_DISTANCES_CHAIN,
  type Granularity,
  layersModelWeights,
  type PenaltyKind,
  PersistentPenalty,
  type Snapshot,
  takeSnapshot,
} from 'persistent-neurons';
import { nativeAvailable } from 'tfjs-backend-onednn';
import '../setup.js';

/** A small replicated model's weights (2 replicas): a dense layer, its bias, a conv kernel and its bias. */
const shapes: Record<string, number[]> = {
  'dense/kernel': [2, 6, 4],
  'dense/bias': [2, 1, 4],
  'conv/kernel': [2, 3, 3, 2, 5],
  'conv/bias': [2, 5],
};

function snapshot(seed: number): Snapshot {
  return new Map(
    Object.entries(shapes).map(([name, shape], i) => [name, tf.randomNormal(shape, 0, 1, 'float32', seed * 10 + i)]),
  );
}

function makePenalty(kind: PenaltyKind, granularity: Granularity, theta0: Snapshot, solutions: Snapshot[]) {
  return new PersistentPenalty({
    theta0,
    previousSolutions: solutions,
    spec: { ...defaultPenaltySpec, kind, granularity },
    // Replica 1's second solution is left out (a diverged trajectory); λ differs per replica.
    options: {
      replicaAxis: true,
      replicaLambda: [0.03, 0.1],
      counts: [
        [true, true],
        [true, false],
        [true, true],
      ],
    },
  });
}

/** The penalty's value and its gradient for every weight, on the active backend. */
function penaltyAndGradient(kind: PenaltyKind, granularity: Granularity): { value: number; grads: Float32Array[] } {
  const theta0 = snapshot(1);
  const solutions = [snapshot(2), snapshot(3), snapshot(4)];
  const current = snapshot(5);
  const penalty = makePenalty(kind, granularity, theta0, solutions);
  const names = [...current.keys()];
  const { value, grads } = tf.valueAndGrads((...xs: tf.Tensor[]) =>
    penalty.value(new Map(names.map((name, i) => [name, xs[i]])), 0.2),
  )(names.map((name) => current.get(name) as tf.Tensor));
  const result = { value: value.dataSync()[0], grads: grads.map((g) => g.dataSync() as Float32Array) };
  tf.dispose([value, ...grads, ...current.values(), ...theta0.values(), ...solutions.flatMap((s) => [...s.values()])]);
  penalty.dispose();
  return result;
}

/**
 * `addGradients` with another loss's gradients (seeded; `without` names a weight given none):
 * the penalty's value and the summed gradients, on the active backend.
 */
function addedGradients(kind: PenaltyKind, granularity: Granularity, without?: string) {
  const theta0 = snapshot(1);
  const solutions = [snapshot(2), snapshot(3), snapshot(4)];
  const current = snapshot(5);
  const task = snapshot(6);
  if (without) task.get(without)?.dispose();
  const given = Object.fromEntries([...task].filter(([name]) => name !== without));
  const penalty = makePenalty(kind, granularity, theta0, solutions);
  const { value, grads } = penalty.addGradients(current, given, 0.2);
  const result = {
    value: value.dataSync()[0],
    grads: [...current.keys()].map((name) => grads[name].dataSync() as Float32Array),
    task: [...current.keys()].map((name) =>
      name === without ? undefined : (task.get(name)?.dataSync() as Float32Array),
    ),
  };
  tf.dispose([value, ...Object.values(grads), ...task.values(), ...current.values(), ...theta0.values()]);
  tf.dispose(solutions.flatMap((s) => [...s.values()]));
  penalty.dispose();
  return result;
}

describe(
  'the fused distance kernel gives the composed penalty',
  { skip: !nativeAvailable() && 'no native addon' },
  () => {
    for (const kind of ['distance', 'inverse', 'gaussian'] as const) {
      for (const granularity of ['neuron', 'layer', 'global'] as const) {
        test(`${kind} × ${granularity}: value and gradients on onednn equal tfjs's composed ops on cpu`, async () => {
          await tf.setBackend('cpu');
          const composed = penaltyAndGradient(kind, granularity);
          await tf.setBackend('onednn');
          const profile = await tf.profile(() => {
            penaltyAndGradient(kind, granularity);
          });
          assert.ok(profile.kernelNames.includes(GROUPED_SQUARED_DISTANCES), 'onednn runs the fused kernel');
          const fused = penaltyAndGradient(kind, granularity);
          await tf.setBackend('cpu');
          const close = (a: number, b: number) => Math.abs(a - b) <= 1e-4 * Math.max(1, Math.abs(b));
          assert.ok(close(fused.value, composed.value), `${fused.value} vs ${composed.value}`);
          for (const [i, grad] of fused.grads.entries())
            for (const [k, g] of grad.entries())
              assert.ok(close(g, composed.grads[i][k]), `weight ${i}[${k}]: ${g} vs ${composed.grads[i][k]}`);
        });
      }
    }

    test('addGradients adds the same gradient in one kernel call and no taped op, to the bit', async () => {
      for (const kind of ['distance', 'inverse', 'gaussian'] as const) {
        for (const granularity of ['neuron', 'layer', 'global'] as const) {
          for (const without of [undefined, 'conv/kernel']) {
            await tf.setBackend('onednn');
            const profile = await tf.profile(() => {
              addedGradients(kind, granularity, without);
            });
            // Every call, in order (kernelNames lists each name once).
            const penaltyKernels = profile.kernels
              .map(({ name }) => name)
              .filter((name) => name.startsWith(GROUPED_SQUARED_DISTANCES));
            // (The Gaussian's σ is computed from distances once, when the penalty is made.)
            const made = kind === 'gaussian' ? [GROUPED_SQUARED_DISTANCES] : [];
            assert.deepEqual(penaltyKernels, [...made, GROUPED_SQUARED_DISTANCES_CHAIN]);
            const fused = penaltyAndGradient(kind, granularity);
            const added = addedGradients(kind, granularity, without);
            const label = `${kind} × ${granularity}${without ? `, no gradient for ${without}` : ''}`;
            assert.equal(added.value, fused.value, label);
            for (const [i, grad] of added.grads.entries()) {
              const base = added.task[i];
              // The sum the taped path forms: the other loss's gradient plus the penalty's, in float32.
              const expected = base ? fused.grads[i].map((g, k) => Math.fround(base[k] + g)) : fused.grads[i];
              assert.deepEqual(grad, expected, `${label}: weight ${i}`);
            }
            // tfjs's composed ops (cpu) agree within float tolerance.
            await tf.setBackend('cpu');
            const composed = addedGradients(kind, granularity, without);
            const close = (a: number, b: number) => Math.abs(a - b) <= 1e-4 * Math.max(1, Math.abs(b));
            assert.ok(close(composed.value, added.value), `${label}: ${composed.value} vs ${added.value}`);
            for (const [i, grad] of composed.grads.entries())
              for (const [k, g] of grad.entries())
                assert.ok(close(g, added.grads[i][k]), `${label}: weight ${i}[${k}]`);
          }
        }
      }
    });

    test('a backend with only the pair of kernels: addGradients differentiates the fused value, same bits', async () => {
      await tf.setBackend('onednn');
      const chained = addedGradients('inverse', 'neuron');
      const config = tf.getKernel(GROUPED_SQUARED_DISTANCES_CHAIN, 'onednn');
      assert.ok(config);
      tf.unregisterKernel(GROUPED_SQUARED_DISTANCES_CHAIN, 'onednn');
      try {
        for (const without of [undefined, 'conv/kernel']) {
          const profile = await tf.profile(() => {
            addedGradients('inverse', 'neuron', without);
          });
          const penaltyKernels = profile.kernels
            .map(({ name }) => name)
            .filter((name) => name.startsWith(GROUPED_SQUARED_DISTANCES));
          assert.deepEqual(penaltyKernels, [GROUPED_SQUARED_DISTANCES, `${GROUPED_SQUARED_DISTANCES}Grad`]);
        }
        const pair = addedGradients('inverse', 'neuron');
        assert.equal(pair.value, chained.value);
        assert.deepEqual(pair.grads, chained.grads);
      } finally {
        tf.registerKernel(config);
      }
    });

    test("a layers model's step: addGradients equals backprop through task loss + penalty", async () => {
      await tf.setBackend('onednn');
      for (const regularized of [false, true]) {
        const model = tfl.sequential({
          layers: [
            tfl.layers.dense({
              units: 6,
              activation: 'tanh',
              inputShape: [3],
              ...(regularized ? { kernelRegularizer: tfl.regularizers.l2({ l2: 0.1 }) } : {}),
            }),
            tfl.layers.dense({ units: 2 }),
          ],
        });
        const weights = layersModelWeights(model).filter((w) => w.trainable);
        const theta0 = takeSnapshot(weights);
        const solutions = [1, 2].map(
          (j) => new Map([...theta0].map(([n, t]) => [n, tf.add(t, tf.randomNormal(t.shape, 0, 0.1, 'float32', j))])),
        );
        const penalty = new PersistentPenalty({ theta0, previousSolutions: solutions, spec: defaultPenaltySpec });
        const x = tf.randomNormal([8, 3], 0, 1, 'float32', 3);
        const y = tf.randomNormal([8, 2], 0, 1, 'float32', 4);
        const taskLoss = () => {
          const mse = tf.losses.meanSquaredError(y, model.apply(x, { training: true }) as tf.Tensor);
          return model.calculateLosses().reduce((sum, r) => tf.add(sum, r), mse) as tf.Scalar;
        };
        const variables = weights.map((w) => w.variable);
        const taped = tf.variableGrads(() => tf.add(taskLoss(), penalty.value(weights, 0.3)) as tf.Scalar, variables);
        const task = tf.variableGrads(taskLoss, variables);
        const added = penalty.addGradients(weights, task.grads, 0.3);
        for (const w of weights) {
          const got = added.grads[w.variable.name].dataSync();
          const expected = taped.grads[w.variable.name].dataSync();
          // The regularized kernel gets three terms, summed by tfjs in another order: float rounding.
          if (regularized && w === weights[0])
            for (const [k, v] of expected.entries()) assert.ok(Math.abs(got[k] - v) <= 1e-6 * Math.max(1, Math.abs(v)));
          else assert.deepEqual(got, expected, `${w.name}${regularized ? ' (regularized model)' : ''}`);
        }
        tf.dispose([x, y, taped.value, task.value, added.value, ...Object.values(taped.grads)]);
        tf.dispose([...Object.values(task.grads), ...Object.values(added.grads), ...theta0.values()]);
        tf.dispose(solutions.flatMap((solution) => [...solution.values()]));
        penalty.dispose();
        model.dispose();
      }
    });
  },
);
