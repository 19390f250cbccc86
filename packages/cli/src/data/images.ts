import * as tf from '@tensorflow/tfjs-core';
import type { Dataset } from 'persistent-neurons';
import { permutation } from 'persistent-neurons';
import { DataError } from './errors.js';
import type { ImageSet } from './idx.js';

export interface ImageSplitOptions {
  /** Examples taken from the training file for training and for validation (disjoint, seeded). */
  train: number;
  validation: number;
  /** Examples of the test file (the first ones). */
  test: number;
  /** Fixes which training examples land in train and validation. */
  seed: number;
  /** Pad 28×28×1 to 32×32×3 (2 zero pixels a side, the channel repeated) for CIFAR-style models. */
  padTo32x3?: boolean;
  classes?: number;
}

export interface ImageSplits {
  train: Dataset;
  validation: Dataset;
  test: Dataset;
  /** Per-channel mean and std of the training examples, used to normalize all three. */
  mean: number[];
  std: number[];
}

/**
 * Train / validation / test tensors from an image set: a seeded disjoint split of the training
 * file, per-channel standardization with the training split's statistics, one-hot labels.
 * Batches are then gathered by index each step (LayersTask), never by copying the set per epoch.
 */
export function splitImages(trainSet: ImageSet, testSet: ImageSet, options: ImageSplitOptions): ImageSplits {
  const { train, validation, test, seed, classes = 10 } = options;
  if (train + validation > trainSet.count)
    throw new DataError(`train (${train}) + validation (${validation}) exceed the ${trainSet.count} training examples`);
  if (test > testSet.count) throw new DataError(`test (${test}) exceeds the ${testSet.count} test examples`);
  const order = permutation(trainSet.count, seed);
  const pick = (set: ImageSet, indices: ArrayLike<number>) => {
    const size = set.height * set.width * set.channels;
    const pixels = new Float32Array(indices.length * size);
    const labels = new Int32Array(indices.length);
    for (let i = 0; i < indices.length; i++) {
      const n = indices[i];
      for (let p = 0; p < size; p++) pixels[i * size + p] = set.images[n * size + p] / 255;
      labels[i] = set.labels[n];
    }
    return { pixels, labels };
  };
  const parts = {
    train: pick(trainSet, order.subarray(0, train)),
    validation: pick(trainSet, order.subarray(train, train + validation)),
    test: pick(
      testSet,
      Int32Array.from({ length: test }, (_, i) => i),
    ),
  };
  const channels = trainSet.channels;
  const mean = new Array<number>(channels).fill(0);
  const std = new Array<number>(channels).fill(0);
  const { pixels } = parts.train;
  for (let i = 0; i < pixels.length; i++) mean[i % channels] += pixels[i] / (pixels.length / channels);
  for (let i = 0; i < pixels.length; i++)
    std[i % channels] += (pixels[i] - mean[i % channels]) ** 2 / (pixels.length / channels);
  for (let c = 0; c < channels; c++) std[c] = Math.sqrt(std[c]) || 1;

  const toDataset = ({ pixels, labels }: { pixels: Float32Array; labels: Int32Array }): Dataset =>
    tf.tidy(() => {
      let x: tf.Tensor4D = tf.tensor4d(pixels, [labels.length, trainSet.height, trainSet.width, channels]);
      x = tf.div(tf.sub(x, tf.tensor1d(mean)), tf.tensor1d(std));
      if (options.padTo32x3) {
        if (channels !== 1 || trainSet.height > 32 || trainSet.width > 32)
          throw new DataError('padding to 32×32×3 needs single-channel images of at most 32×32');
        const [top, left] = [Math.floor((32 - trainSet.height) / 2), Math.floor((32 - trainSet.width) / 2)];
        x = tf.tile(
          tf.pad(x, [
            [0, 0],
            [top, 32 - trainSet.height - top],
            [left, 32 - trainSet.width - left],
            [0, 0],
          ]),
          [1, 1, 1, 3],
        );
      }
      return { x: tf.keep(x), y: tf.keep(tf.oneHot(tf.tensor1d(labels, 'int32'), classes)) };
    });
  return {
    train: toDataset(parts.train),
    validation: toDataset(parts.validation),
    test: toDataset(parts.test),
    mean,
    std,
  };
}

/** Classification accuracy of logits or probabilities against one-hot labels. */
export function accuracy(yTrue: tf.Tensor, yPred: tf.Tensor): number {
  return tf.tidy(() => tf.mean(tf.cast(tf.equal(tf.argMax(yTrue, -1), tf.argMax(yPred, -1)), 'float32')).dataSync()[0]);
}

/** Mean softmax cross-entropy of logits against one-hot labels. */
export function crossEntropy(yTrue: tf.Tensor, logits: tf.Tensor): tf.Scalar {
  return tf.losses.softmaxCrossEntropy(yTrue, logits) as tf.Scalar;
}
