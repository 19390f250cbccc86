import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataError } from './errors.js';
import type { ImageSet } from './idx.js';

const RECORD = 1 + 32 * 32 * 3;

/**
 * One CIFAR-10 binary batch: records of 1 label byte and 3072 pixel bytes (1024 red, 1024 green,
 * 1024 blue, each row-major 32×32). Returns the images as NHWC bytes [n, 32, 32, 3].
 */
export function parseCifarBatch(bytes: Uint8Array, source = 'CIFAR-10 batch'): ImageSet {
  if (bytes.length === 0 || bytes.length % RECORD !== 0)
    throw new DataError(
      `${source}: ${bytes.length} bytes is not a whole number of ${RECORD}-byte CIFAR-10 records; the file is truncated or not CIFAR-10 binary`,
    );
  const count = bytes.length / RECORD;
  const labels = new Uint8Array(count);
  const images = new Uint8Array(count * 3072);
  for (let n = 0; n < count; n++) {
    const record = bytes.subarray(n * RECORD, (n + 1) * RECORD);
    if (record[0] > 9)
      throw new DataError(`${source}: record ${n} has label ${record[0]}, not 0..9; this is not CIFAR-10 binary`);
    labels[n] = record[0];
    for (let c = 0; c < 3; c++) for (let p = 0; p < 1024; p++) images[n * 3072 + p * 3 + c] = record[1 + c * 1024 + p];
  }
  return { images, labels, count, height: 32, width: 32, channels: 3 };
}

/** `data_batch_1..5.bin` and `test_batch.bin` of the CIFAR-10 binary version in `dir`. */
export function readCifar10Directory(dir: string): { train: ImageSet; test: ImageSet } {
  const read = (name: string) => {
    const path = join(dir, name);
    if (!existsSync(path))
      throw new DataError(
        `${path} is missing; give --data-dir the folder of the CIFAR-10 binary version (cifar-10-batches-bin)`,
      );
    return parseCifarBatch(readFileSync(path), path);
  };
  const batches = [1, 2, 3, 4, 5].map((i) => read(`data_batch_${i}.bin`));
  const count = batches.reduce((n, b) => n + b.count, 0);
  const images = new Uint8Array(count * 3072);
  const labels = new Uint8Array(count);
  let offset = 0;
  for (const batch of batches) {
    images.set(batch.images, offset * 3072);
    labels.set(batch.labels, offset);
    offset += batch.count;
  }
  return { train: { images, labels, count, height: 32, width: 32, channels: 3 }, test: read('test_batch.bin') };
}
