import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import {
  defaultPenaltySpec,
  layersModelWeights,
  PersistentPenalty,
  type Snapshot,
  takeSnapshot,
} from 'persistent-neurons';
import { alexnet } from '../models/alexnet.js';
import { smallCnn } from '../models/cnn.js';
import { lenet5 } from '../models/lenet5.js';
import { mlp } from '../models/mlp.js';
import { resnet } from '../models/resnet.js';

/** The training workloads `pn bench` times; pytorch_ref.py beside this file builds the same five in PyTorch. */
export const WORKLOADS = {
  mlp: { batch: 256, input: [1], classes: 0, build: () => mlp({ sizes: [1, 16, 16, 1] }) },
  lenet5: { batch: 128, input: [28, 28, 1], classes: 10, build: () => lenet5({ activation: 'tanh', pooling: 'avg' }) },
  cnn: { batch: 64, input: [32, 32, 3], classes: 10, build: () => smallCnn() },
  resnet20: { batch: 128, input: [32, 32, 3], classes: 10, build: () => resnet({ depth: 20, shortcut: 'A' }) },
  alexnet: { batch: 128, input: [32, 32, 3], classes: 10, build: () => alexnet() },
} satisfies Record<string, { batch: number; input: number[]; classes: number; build: () => tfl.LayersModel }>;

export type WorkloadName = keyof typeof WORKLOADS;

/**
 * Floating-point operations of one training step at `batch`: 3 × the forward multiply-adds (×2) of
 * the convolutions and dense layers (forward, input gradient, weight gradient). Activations,
 * pooling, BatchNorm and the update are left out: they are memory-bound and small in FLOPs.
 */
export function trainingFlops(name: WorkloadName, batch: number): number {
  const model = WORKLOADS[name].build();
  let forward = 0;
  for (const layer of model.layers) {
    const kernel = layer.getWeights()[0]?.shape as number[] | undefined;
    const output = layer.outputShape as number[];
    const className = layer.getClassName();
    if (className === 'Conv2D' && kernel) {
      const [kh, kw, cin, cout] = kernel;
      forward += 2 * batch * output[1] * output[2] * cout * kh * kw * cin;
    } else if (className === 'Dense' && kernel) {
      forward += 2 * batch * kernel[0] * kernel[1];
    }
  }
  model.dispose();
  return 3 * forward;
}

/**
 * Milliseconds per SGD step (lr 0.01) of a workload at `batch`: at least `steps` timed steps, and
 * at least `minSeconds` of them, after at least `warmUp` untimed ones and `minSeconds` of them. Classification uses softmax cross-entropy, the MLP MSE. With
 * `penaltySolutions`, the loss also carries the default persistent penalty against that many
 * earlier solutions (θ0 plus noise), as a later persistent trajectory's step does.
 */
export function timeTrainingStep(
  name: WorkloadName,
  batch: number,
  steps: number,
  warmUp: number,
  penaltySolutions = 0,
  minSeconds = 0,
): number[] {
  const workload = WORKLOADS[name];
  const model = workload.build();
  const weights = layersModelWeights(model);
  const trainable = weights.filter((w) => w.trainable);
  let penalty: PersistentPenalty | undefined;
  const snapshots: Snapshot[] = [];
  if (penaltySolutions > 0) {
    const theta0 = takeSnapshot(weights);
    snapshots.push(theta0);
    for (let j = 0; j < penaltySolutions; j++)
      snapshots.push(
        new Map(
          [...theta0].map(([key, t]) => [
            key,
            tf.keep(tf.tidy(() => tf.add(t, tf.randomNormal(t.shape, 0, 0.01, 'float32', j)))),
          ]),
        ),
      );
    penalty = new PersistentPenalty({
      theta0,
      previousSolutions: snapshots.slice(1),
      spec: defaultPenaltySpec,
      weightNames: trainable.map((w) => w.name),
    });
  }
  const optimizer = tf.train.sgd(0.01);
  const x = tf.randomNormal([batch, ...workload.input], 0, 1, 'float32', 1);
  const y = workload.classes
    ? tf.oneHot(
        tf.tensor1d(
          Array.from({ length: batch }, (_, i) => i % workload.classes),
          'int32',
        ),
        workload.classes,
      )
    : tf.randomNormal([batch, 1], 0, 1, 'float32', 2);
  const lossOf = (prediction: tf.Tensor) =>
    (workload.classes
      ? tf.losses.softmaxCrossEntropy(y, prediction)
      : tf.losses.meanSquaredError(y, prediction)) as tf.Scalar;
  const taskLoss = () => lossOf(model.apply(x, { training: true }) as tf.Tensor);
  // With the penalty, as the library's training loops take the step: the task loss's gradients
  // from backprop, the penalty's added by addGradients.
  const step = () => {
    if (!penalty) {
      const loss = optimizer.minimize(taskLoss, true);
      loss?.dataSync();
      loss?.dispose();
      return;
    }
    const { value, grads } = tf.variableGrads(taskLoss);
    const summed = penalty.addGradients(trainable, grads, 0.25);
    optimizer.applyGradients(summed.grads);
    value.dataSync();
    tf.dispose([value, summed.value, ...Object.values(grads), ...Object.values(summed.grads)]);
  };
  const warmStart = performance.now();
  for (let i = 0; i < warmUp || performance.now() - warmStart < minSeconds * 1000; i++) step();
  const times: number[] = [];
  const timedStart = performance.now();
  while (times.length < steps || performance.now() - timedStart < minSeconds * 1000) {
    const start = performance.now();
    step();
    times.push(performance.now() - start);
  }
  tf.dispose([x, y]);
  penalty?.dispose();
  for (const snapshot of snapshots) tf.dispose([...snapshot.values()]);
  optimizer.dispose();
  model.dispose();
  return times;
}

/** GFLOP/s of a square sgemm (tf.matMul, n = 1024) on the current backend: the best of 10 after 3 warm-up products. */
export function sgemmGflops(n = 1024): number {
  const a = tf.randomNormal([n, n], 0, 1, 'float32', 1);
  const b = tf.randomNormal([n, n], 0, 1, 'float32', 2);
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 13; i++) {
    const start = performance.now();
    const c = tf.matMul(a, b);
    c.dataSync();
    const ms = performance.now() - start;
    c.dispose();
    if (i >= 3) best = Math.min(best, ms);
  }
  tf.dispose([a, b]);
  return (2 * n ** 3) / (best * 1e6);
}
