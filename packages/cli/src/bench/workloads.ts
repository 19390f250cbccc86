import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
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
 * Milliseconds per SGD step (lr 0.01) of a workload at `batch`: the median of `steps` timed
 * steps after `warmUp` untimed ones. Classification uses softmax cross-entropy, the MLP MSE.
 */
export function timeTrainingStep(name: WorkloadName, batch: number, steps: number, warmUp: number): number[] {
  const workload = WORKLOADS[name];
  const model = workload.build();
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
  const step = () => {
    const loss = optimizer.minimize(() => lossOf(model.apply(x, { training: true }) as tf.Tensor), true);
    loss?.dataSync();
    loss?.dispose();
  };
  for (let i = 0; i < warmUp; i++) step();
  const times: number[] = [];
  for (let i = 0; i < steps; i++) {
    const start = performance.now();
    step();
    times.push(performance.now() - start);
  }
  tf.dispose([x, y]);
  optimizer.dispose();
  model.dispose();
  return times;
}
