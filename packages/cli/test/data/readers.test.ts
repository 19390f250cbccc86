import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { parseCifarBatch, readCifar10Directory } from '../../src/data/cifar10.js';
import { FASHION_MNIST_DIR, parseIdx, readMnistDirectory } from '../../src/data/idx.js';

/** An IDX file of unsigned bytes, written the way the MNIST files are. */
function idx(shape: number[], values: number[]): Uint8Array {
  const header = Buffer.alloc(4 + 4 * shape.length);
  header[2] = 0x08;
  header[3] = shape.length;
  for (const [i, d] of shape.entries()) header.writeUInt32BE(d, 4 + 4 * i);
  return Buffer.concat([header, Buffer.from(values)]);
}

describe('IDX reader', () => {
  const images = idx([2, 2, 3], [0, 1, 2, 3, 4, 5, 250, 251, 252, 253, 254, 255]);

  test('reads raw and gzip files alike: shape and values', () => {
    for (const bytes of [images, gzipSync(images)]) {
      const parsed = parseIdx(bytes);
      assert.deepEqual(parsed.shape, [2, 2, 3]);
      assert.deepEqual(Array.from(parsed.data), [0, 1, 2, 3, 4, 5, 250, 251, 252, 253, 254, 255]);
    }
  });

  test('a truncated, padded, foreign or damaged file is a clear error', () => {
    assert.throws(
      () => parseIdx(images.subarray(0, images.length - 1), 'x.idx'),
      /x.idx: truncated: the header announces \[2, 2, 3\] = 12 values, the file holds 11/,
    );
    assert.throws(() => parseIdx(images.subarray(0, 9)), /ends inside its header/);
    assert.throws(() => parseIdx(Buffer.concat([images, Buffer.from([7])])), /1 bytes follow the 12 values/);
    assert.throws(() => parseIdx(Buffer.from('PK\u0003\u0004zip')), /not an IDX file \(bad magic number\)/);
    const floats = Buffer.from(images);
    floats[2] = 0x0d;
    assert.throws(() => parseIdx(floats), /value type 0xd is not supported/);
    assert.throws(() => parseIdx(gzipSync(images).subarray(0, 20)), /gzip stream is damaged/);
  });

  test('a directory: four files that belong together, with a fix named when one is missing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pn-idx-'));
    const pixels = (n: number) => Array.from({ length: n * 4 }, (_, i) => i % 256);
    writeFileSync(join(dir, 'train-images-idx3-ubyte.gz'), gzipSync(idx([3, 2, 2], pixels(3))));
    writeFileSync(join(dir, 'train-labels-idx1-ubyte'), idx([3], [4, 0, 9]));
    writeFileSync(join(dir, 't10k-images-idx3-ubyte'), idx([1, 2, 2], pixels(1)));
    assert.throws(
      () => readMnistDirectory(dir),
      /t10k-labels-idx1-ubyte\[.gz\] is missing; give --data-dir a directory/,
    );
    writeFileSync(join(dir, 't10k-labels-idx1-ubyte'), idx([2], [1, 2]));
    assert.throws(() => readMnistDirectory(dir), /t10k: 1 images but 2 labels/);
    writeFileSync(join(dir, 't10k-labels-idx1-ubyte'), idx([1], [1]));
    const { train, test: testSet } = readMnistDirectory(dir);
    assert.deepEqual([train.count, train.height, train.width, train.channels], [3, 2, 2, 1]);
    assert.deepEqual(Array.from(train.labels), [4, 0, 9]);
    assert.equal(testSet.count, 1);
  });

  test('Fashion-MNIST from the Debian package: sizes, first label and pixel checksum', (t) => {
    if (!existsSync(FASHION_MNIST_DIR)) {
      t.skip(`${FASHION_MNIST_DIR} is absent (apt-get install dataset-fashion-mnist)`);
      return;
    }
    const { train, test: testSet } = readMnistDirectory();
    assert.deepEqual([train.count, train.height, train.width], [60000, 28, 28]);
    assert.equal(testSet.count, 10000);
    // Label 9 (ankle boot); the sums were computed independently from the gzip files.
    assert.equal(train.labels[0], 9);
    assert.equal(
      train.images.subarray(0, 784).reduce((a, b) => a + b, 0),
      76247,
    );
  });
});

describe('CIFAR-10 reader', () => {
  /** A record: label, then red, green, blue planes. */
  const record = (label: number, red: number, green: number, blue: number) =>
    Buffer.concat([Buffer.from([label]), Buffer.alloc(1024, red), Buffer.alloc(1024, green), Buffer.alloc(1024, blue)]);

  test('reads records into NHWC images with their labels', () => {
    const batch = parseCifarBatch(Buffer.concat([record(3, 10, 20, 30), record(7, 1, 2, 3)]));
    assert.deepEqual([batch.count, batch.height, batch.width, batch.channels], [2, 32, 32, 3]);
    assert.deepEqual(Array.from(batch.labels), [3, 7]);
    assert.deepEqual(Array.from(batch.images.subarray(0, 6)), [10, 20, 30, 10, 20, 30]);
    assert.deepEqual(Array.from(batch.images.subarray(3072, 3075)), [1, 2, 3]);
  });

  test('a truncated or foreign file is a clear error; a directory names the missing batch', () => {
    assert.throws(
      () => parseCifarBatch(record(1, 0, 0, 0).subarray(0, 3000), 'b.bin'),
      /b.bin: 3000 bytes is not a whole number of 3073-byte CIFAR-10 records/,
    );
    assert.throws(() => parseCifarBatch(record(12, 0, 0, 0)), /record 0 has label 12, not 0..9/);
    const dir = mkdtempSync(join(tmpdir(), 'pn-cifar-'));
    for (const i of [1, 2, 3, 4]) writeFileSync(join(dir, `data_batch_${i}.bin`), record(i, i, i, i));
    assert.throws(
      () => readCifar10Directory(dir),
      /data_batch_5.bin is missing; give --data-dir the folder of the CIFAR-10 binary version/,
    );
    writeFileSync(join(dir, 'data_batch_5.bin'), record(5, 5, 5, 5));
    writeFileSync(join(dir, 'test_batch.bin'), Buffer.concat([record(0, 0, 0, 0), record(9, 9, 9, 9)]));
    const { train, test: testSet } = readCifar10Directory(dir);
    assert.deepEqual(Array.from(train.labels), [1, 2, 3, 4, 5]);
    assert.equal(train.images[4 * 3072], 5);
    assert.deepEqual(Array.from(testSet.labels), [0, 9]);
  });
});
