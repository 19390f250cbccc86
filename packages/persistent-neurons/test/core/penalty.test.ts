import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  defaultPenaltySpec,
  type Granularity,
  lambdaAt,
  normal,
  type PenaltyKind,
  type PenaltySpec,
  PersistentPenalty,
  persistentPenalty,
} from '../../src/core/index.js';
import { tf } from '../setup.js';

const shapes: Record<string, number[]> = {
  'conv/kernel': [2, 2, 1, 3],
  'conv/bias': [3],
  'dense/kernel': [3, 2],
  'dense/bias': [2],
};

type Weights = Record<string, Float64Array>;

function randomWeights(seed: number, scale = 1): Weights {
  const draw = normal(seed);
  return Object.fromEntries(
    Object.entries(shapes).map(([name, shape]) => [
      name,
      Float64Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => scale * draw()),
    ]),
  );
}

function toSnapshot(weights: Weights): Map<string, tf.Tensor> {
  return new Map(
    Object.entries(weights).map(([name, values]) => [name, tf.tensor(Float32Array.from(values), shapes[name])]),
  );
}

/** The groups of docs/method.md, written out independently: lists of [weight, flat index]. */
function groups(granularity: Granularity): [string, number][][] {
  const all = Object.entries(shapes).map(([name, shape]) => {
    const size = shape.reduce((a, b) => a * b, 1);
    return { name, units: shape[shape.length - 1], indices: Array.from({ length: size }, (_, i) => i) };
  });
  if (granularity === 'global')
    return [all.flatMap(({ name, indices }) => indices.map((i): [string, number] => [name, i]))];
  if (granularity === 'layer') return all.map(({ name, indices }) => indices.map((i): [string, number] => [name, i]));
  const result: [string, number][][] = [];
  for (const layer of ['conv', 'dense']) {
    const units = shapes[`${layer}/bias`][0];
    for (let u = 0; u < units; u++) {
      const members: [string, number][] = [[`${layer}/bias`, u]];
      const kernelSize = shapes[`${layer}/kernel`].reduce((a, b) => a * b, 1);
      for (let i = u; i < kernelSize; i += units) members.push([`${layer}/kernel`, i]);
      result.push(members);
    }
  }
  return result;
}

/** Float64 reference of λ Σ_j Σ_g R(d_g). */
function reference(theta: Weights, previous: Weights[], theta0: Weights, spec: PenaltySpec): number {
  const distance = (a: Weights, b: Weights, group: [string, number][]) =>
    Math.sqrt(group.reduce((s, [name, i]) => s + (a[name][i] - b[name][i]) ** 2, 0) + 1e-12);
  let total = 0;
  for (const solution of previous) {
    for (const group of groups(spec.granularity)) {
      const d = distance(theta, solution, group);
      if (spec.kind === 'distance') total -= d;
      else if (spec.kind === 'inverse') total += 1 / (d + spec.epsilon);
      else {
        const sigma = spec.rho * distance(theta0, solution, group);
        total += Math.exp(-(d * d) / (2 * sigma * sigma));
      }
    }
  }
  return spec.lambda * total;
}

const kinds: PenaltyKind[] = ['distance', 'inverse', 'gaussian'];
const granularities: Granularity[] = ['global', 'layer', 'neuron'];

describe('persistent penalty', () => {
  const theta0 = randomWeights(1);
  const previous = [randomWeights(2), randomWeights(3)];
  // Near the first solution so that every kind's gradient is large enough to check.
  const theta = Object.fromEntries(
    Object.entries(previous[0]).map(([name, values]) => [
      name,
      values.map((v, i) => v + 0.3 * randomWeights(4)[name][i]),
    ]),
  ) as Weights;

  for (const kind of kinds) {
    for (const granularity of granularities) {
      test(`${kind} × ${granularity}: value and gradient match a float64 reference`, () => {
        const spec: PenaltySpec = { ...defaultPenaltySpec, kind, granularity, lambda: 0.7, schedule: 'constant' };
        const snapshots = previous.map(toSnapshot);
        const start = toSnapshot(theta0);
        const names = Object.keys(shapes);
        const penalty = new PersistentPenalty({ theta0: start, previousSolutions: snapshots, spec });
        const variables = names.map((name) => tf.variable(tf.tensor(Float32Array.from(theta[name]), shapes[name])));
        const current = new Map(names.map((name, i) => [name, variables[i] as tf.Tensor]));
        const { value, grads } = tf.variableGrads(() => penalty.value(current, 0), variables);
        const expected = reference(theta, previous, theta0, spec);
        assert.ok(
          Math.abs(value.dataSync()[0] - expected) <= 1e-4 * Math.max(1, Math.abs(expected)),
          `${value.dataSync()[0]} vs ${expected}`,
        );
        // Central differences on the float64 reference, at every coordinate.
        const h = 1e-6;
        for (const [v, name] of names.entries()) {
          const analytic = grads[variables[v].name].dataSync();
          for (let i = 0; i < theta[name].length; i++) {
            const plus = structuredClone(theta);
            const minus = structuredClone(theta);
            plus[name][i] += h;
            minus[name][i] -= h;
            const numeric =
              (reference(plus, previous, theta0, spec) - reference(minus, previous, theta0, spec)) / (2 * h);
            assert.ok(
              Math.abs(analytic[i] - numeric) <= 2e-3 * Math.max(1, Math.abs(numeric)),
              `${name}[${i}]: ${analytic[i]} vs ${numeric}`,
            );
          }
        }
        penalty.dispose();
        tf.dispose([
          value,
          ...Object.values(grads),
          ...variables,
          ...snapshots.flatMap((s) => [...s.values()]),
          ...start.values(),
        ]);
      });
    }
  }

  for (const kind of kinds) {
    test(`${kind}: the gradient is finite at d = 0 (θ exactly at a previous solution)`, () => {
      const solution = toSnapshot(previous[0]);
      const start = toSnapshot(theta0);
      for (const granularity of granularities) {
        const spec: PenaltySpec = { ...defaultPenaltySpec, kind, granularity };
        const variables = [...solution.values()].map((t) => tf.variable(t.clone()));
        const current = new Map([...solution.keys()].map((name, i) => [name, variables[i] as tf.Tensor]));
        const { value, grads } = tf.variableGrads(() => persistentPenalty(current, [solution], start, spec), variables);
        assert.ok(Number.isFinite(value.dataSync()[0]));
        for (const grad of Object.values(grads))
          assert.ok(grad.dataSync().every(Number.isFinite), `${kind}/${granularity}`);
        tf.dispose([value, ...Object.values(grads), ...variables]);
      }
    });
  }

  test('with a replica axis, the penalty is the sum of each replica penalized alone', () => {
    const spec: PenaltySpec = { ...defaultPenaltySpec, kind: 'gaussian', granularity: 'neuron' };
    const replicas = [randomWeights(10), randomWeights(11)];
    const solutions = [randomWeights(12), randomWeights(13)];
    const starts = [randomWeights(14), randomWeights(15)];
    const stack = (ws: Weights[]) =>
      new Map(
        Object.keys(shapes).map((name) => [
          name,
          tf.stack(ws.map((w) => tf.tensor(Float32Array.from(w[name]), shapes[name]))),
        ]),
      );
    const batched = persistentPenalty(stack(replicas), [stack(solutions)], stack(starts), spec, 0, {
      replicaAxis: true,
    });
    const alone = replicas.map(
      (w, r) => persistentPenalty(toSnapshot(w), [toSnapshot(solutions[r])], toSnapshot(starts[r]), spec).dataSync()[0],
    );
    assert.ok(Math.abs(batched.dataSync()[0] - (alone[0] + alone[1])) < 1e-4);
    // A per-replica λ scales each replica's share.
    const scaled = persistentPenalty(stack(replicas), [stack(solutions)], stack(starts), spec, 0, {
      replicaAxis: true,
      replicaLambda: [0, 2],
    });
    assert.ok(Math.abs(scaled.dataSync()[0] - (2 / spec.lambda) * alone[1]) < 1e-3 * Math.abs(alone[1] / spec.lambda));
  });

  test('a left-out solution (a diverged trajectory, NaN weights) neither adds penalty nor NaN', () => {
    const start = toSnapshot(theta0);
    const good = toSnapshot(previous[0]);
    const nan = new Map([...good].map(([name, t]) => [name, tf.fill(t.shape, Number.NaN)]));
    const current = toSnapshot(theta);
    for (const kind of kinds) {
      const spec: PenaltySpec = { ...defaultPenaltySpec, kind, granularity: 'neuron' };
      const alone = persistentPenalty(current, [good], start, spec).dataSync()[0];
      const both = persistentPenalty(current, [good, nan], start, spec, 0, { counts: [[true], [false]] }).dataSync()[0];
      assert.ok(
        Number.isFinite(both) && Math.abs(both - alone) < 1e-6 * Math.max(1, Math.abs(alone)),
        `${kind}: ${both} vs ${alone}`,
      );
    }
  });

  test('partial persistence: only the selected layers get a penalty gradient', () => {
    const solution = toSnapshot(previous[0]);
    const start = toSnapshot(theta0);
    const names = Object.keys(shapes);
    const variables = names.map((name) => tf.variable(tf.tensor(Float32Array.from(theta[name]), shapes[name])));
    const current = new Map(names.map((name, i) => [name, variables[i] as tf.Tensor]));
    const spec: PenaltySpec = { ...defaultPenaltySpec, layers: ['dense'] };
    const penalty = new PersistentPenalty({ theta0: start, previousSolutions: [solution], spec });
    assert.deepEqual(penalty.persistentWeights, ['dense/kernel', 'dense/bias']);
    const { grads } = tf.variableGrads(() => penalty.value(current), variables);
    for (const [i, name] of names.entries()) {
      // tfjs gives no gradient at all (null) for a variable the penalty never reads.
      const grad = grads[variables[i].name] as tf.Tensor | null;
      const norm = grad ? tf.norm(grad).dataSync()[0] : 0;
      if (name.startsWith('dense/')) assert.ok(norm > 0, name);
      else assert.equal(norm, 0, name);
    }
    const byPredicate = new PersistentPenalty({
      theta0: start,
      previousSolutions: [solution],
      spec: defaultPenaltySpec,
      options: { subset: (name) => name.endsWith('/kernel') },
    });
    assert.deepEqual(byPredicate.persistentWeights, ['conv/kernel', 'dense/kernel']);
    assert.throws(
      () =>
        new PersistentPenalty({
          theta0: start,
          previousSolutions: [solution],
          spec: { ...defaultPenaltySpec, layers: ['nope'] },
        }),
      /penalty layers not in the model: nope/,
    );
  });

  test('addGradients adds the penalty gradient to a task loss gradient, keyed as tfjs keys it', () => {
    const solution = toSnapshot(previous[0]);
    const start = toSnapshot(theta0);
    const names = Object.keys(shapes);
    // Model weights whose variables are named otherwise (as tfjs-layers' uniquified names are).
    const weights = names.map((name) => ({
      name,
      variable: tf.variable(tf.tensor(Float32Array.from(theta[name]), shapes[name]), true, `model7/${name}_1`),
      trainable: true,
    }));
    const variables = weights.map((w) => w.variable);
    const target = tf.tensor(
      Float32Array.from({ length: 6 }, (_, i) => i / 6 - 0.5),
      [3, 2],
    );
    const taskLoss = () => tf.sum(tf.square(tf.sub(variables[2], target))) as tf.Scalar;
    const penalty = new PersistentPenalty({
      theta0: start,
      previousSolutions: [solution],
      spec: { ...defaultPenaltySpec, layers: ['dense'] },
    });
    const current = new Map(weights.map((w) => [w.name, w.variable as tf.Tensor]));
    const joint = tf.variableGrads(() => tf.add(taskLoss(), penalty.value(current, 0.3)) as tf.Scalar, variables);
    const task = tf.variableGrads(taskLoss, variables);
    const added = penalty.addGradients(weights, task.grads, 0.3);
    assert.deepEqual(Object.keys(added.grads).sort(), Object.keys(joint.grads).sort());
    assert.ok(Math.abs(added.value.dataSync()[0] - (joint.value.dataSync()[0] - task.value.dataSync()[0])) < 1e-5);
    for (const [key, grad] of Object.entries(joint.grads)) {
      const got = added.grads[key].dataSync();
      for (const [k, v] of grad.dataSync().entries()) assert.ok(Math.abs(got[k] - v) < 1e-5, `${key}[${k}]`);
    }
    // dense/bias has no task gradient: it gets the penalty's alone; the conv weights pass through.
    assert.ok(!(variables[3].name in task.grads) && variables[3].name in added.grads);
    assert.equal(added.grads[variables[0].name], task.grads[variables[0].name]);
    // Where λ(t) is 0 (the end of the release), the gradients are the given ones and the value 0.
    const released = penalty.addGradients(weights, task.grads, 1);
    assert.equal(released.value.dataSync()[0], 0);
    assert.deepEqual(released.grads, task.grads);
    assert.throws(
      () => penalty.addGradients(weights.slice(0, 2), task.grads, 0.3),
      /the model has no weight "dense\/kernel" that the penalty needs/,
    );
    tf.dispose([target, ...variables, ...Object.values(joint.grads), ...Object.values(task.grads)]);
    tf.dispose([joint.value, task.value, added.value, released.value, ...Object.values(added.grads)]);
    tf.dispose([...solution.values(), ...start.values()]);
    penalty.dispose();
  });

  test('addGradients gives no gradient to a weight no optimizer may move, and takes null task gradients', () => {
    const solution = toSnapshot(previous[0]);
    const start = toSnapshot(theta0);
    const names = Object.keys(shapes);
    // dense/bias frozen (as BatchNorm's moving statistics are): in S, but not trainable.
    const weights = names.map((name) => {
      const trainable = name !== 'dense/bias';
      const values = tf.tensor(Float32Array.from(theta[name]), shapes[name]);
      return { name, variable: tf.variable(values, trainable, `frozen7/${name}`), trainable };
    });
    const penalty = new PersistentPenalty({ theta0: start, previousSolutions: [solution], spec: defaultPenaltySpec });
    assert.ok(penalty.persistentWeights.includes('dense/bias'));
    const conv = weights[0].variable;
    // tf.variableGrads's form for a variable the loss does not reach: null.
    const task = { [conv.name]: tf.onesLike(conv), [weights[2].variable.name]: null } as unknown as tf.NamedTensorMap;
    const added = penalty.addGradients(weights, task, 0.3);
    assert.ok(!(weights[3].variable.name in added.grads), 'the frozen weight gets no gradient');
    for (const w of weights.slice(0, 3)) assert.ok(added.grads[w.variable.name] instanceof tf.Tensor, w.name);
    const joint = tf.variableGrads(
      () => penalty.value(new Map(weights.map((w) => [w.name, w.variable as tf.Tensor])), 0.3),
      weights.slice(1, 3).map((w) => w.variable),
    );
    for (const w of weights.slice(1, 3)) {
      const got = added.grads[w.variable.name].dataSync();
      for (const [k, v] of joint.grads[w.variable.name].dataSync().entries()) assert.ok(Math.abs(got[k] - v) < 1e-6);
    }
    tf.dispose([...weights.map((w) => w.variable), added.value, ...Object.values(added.grads), joint.value]);
    tf.dispose([...Object.values(joint.grads), ...solution.values(), ...start.values()]);
    penalty.dispose();
  });

  test('the release schedule holds λ, then falls linearly to 0', () => {
    const spec: PenaltySpec = { ...defaultPenaltySpec, lambda: 2, schedule: 'release', releaseFraction: 0.25 };
    assert.equal(lambdaAt(spec, 0), 2);
    assert.equal(lambdaAt(spec, 0.75), 2);
    assert.ok(Math.abs(lambdaAt(spec, 0.875) - 1) < 1e-12);
    assert.equal(lambdaAt(spec, 1), 0);
    assert.equal(lambdaAt({ ...spec, schedule: 'constant' }, 1), 2);
  });
});
