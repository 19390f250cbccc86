import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { DataError } from './errors.js';

/** An IDX array (the MNIST file format): unsigned bytes, row-major. */
export interface IdxArray {
  shape: number[];
  data: Uint8Array;
}

/**
 * Reads an IDX file, gzip-compressed or raw: magic 0x00 0x00 0x08 (unsigned byte) and the rank,
 * then one big-endian uint32 per dimension, then the values. Checks the magic, the dimensions
 * and that the file holds exactly the values its header announces.
 */
export function parseIdx(bytes: Uint8Array, source = 'IDX data'): IdxArray {
  let raw = bytes;
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      raw = gunzipSync(bytes);
    } catch (error) {
      throw new DataError(
        `${source}: the gzip stream is damaged (${(error as Error).message}); download the file again`,
      );
    }
  }
  if (raw.length < 4 || raw[0] !== 0 || raw[1] !== 0)
    throw new DataError(`${source}: not an IDX file (bad magic number); give an MNIST-format file`);
  if (raw[2] !== 0x08)
    throw new DataError(
      `${source}: IDX value type 0x${raw[2].toString(16)} is not supported; only unsigned bytes (0x08) are`,
    );
  const rank = raw[3];
  if (rank < 1 || rank > 4) throw new DataError(`${source}: IDX rank ${rank} is not 1..4; the file is not MNIST data`);
  const headerLength = 4 + 4 * rank;
  if (raw.length < headerLength) throw new DataError(`${source}: the file ends inside its header; it is truncated`);
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const shape = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i));
  if (shape.some((d) => d === 0)) throw new DataError(`${source}: a dimension is 0 ([${shape.join(', ')}])`);
  const size = shape.reduce((a, b) => a * b, 1);
  const available = raw.length - headerLength;
  if (available < size)
    throw new DataError(
      `${source}: truncated: the header announces [${shape.join(', ')}] = ${size} values, the file holds ${available}`,
    );
  if (available > size)
    throw new DataError(
      `${source}: ${available - size} bytes follow the ${size} values of [${shape.join(', ')}]; the file is damaged`,
    );
  return { shape, data: raw.subarray(headerLength) };
}

export function readIdx(path: string): IdxArray {
  if (!existsSync(path)) throw new DataError(`${path} does not exist`);
  return parseIdx(readFileSync(path), path);
}

/** Where Debian's dataset-fashion-mnist package puts Fashion-MNIST. */
export const FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';

export interface ImageSet {
  /** [n, 28, 28] bytes 0..255. */
  images: Uint8Array;
  labels: Uint8Array;
  count: number;
  height: number;
  width: number;
  channels: number;
}

/**
 * The train and test sets of an MNIST-format directory: `train-images-idx3-ubyte[.gz]`,
 * `train-labels-idx1-ubyte[.gz]`, `t10k-images-idx3-ubyte[.gz]`, `t10k-labels-idx1-ubyte[.gz]`.
 */
export function readMnistDirectory(dir: string = FASHION_MNIST_DIR): { train: ImageSet; test: ImageSet } {
  const file = (stem: string) => {
    for (const name of [`${stem}.gz`, stem]) if (existsSync(join(dir, name))) return join(dir, name);
    const hint =
      dir === FASHION_MNIST_DIR
        ? 'install it with: sudo apt-get install dataset-fashion-mnist'
        : 'give --data-dir a directory with the four MNIST-format files';
    throw new DataError(`${join(dir, stem)}[.gz] is missing; ${hint}`);
  };
  const split = (prefix: string): ImageSet => {
    const images = readIdx(file(`${prefix}-images-idx3-ubyte`));
    const labels = readIdx(file(`${prefix}-labels-idx1-ubyte`));
    if (images.shape.length !== 3)
      throw new DataError(`${prefix} images: expected [n, height, width], got [${images.shape.join(', ')}]`);
    if (labels.shape.length !== 1)
      throw new DataError(`${prefix} labels: expected [n], got [${labels.shape.join(', ')}]`);
    if (labels.shape[0] !== images.shape[0])
      throw new DataError(
        `${prefix}: ${images.shape[0]} images but ${labels.shape[0]} labels; the files do not belong together`,
      );
    const bad = labels.data.findIndex((label) => label > 9);
    if (bad >= 0) throw new DataError(`${prefix} labels: label ${labels.data[bad]} at ${bad} is not a class 0..9`);
    return {
      images: images.data,
      labels: labels.data,
      count: images.shape[0],
      height: images.shape[1],
      width: images.shape[2],
      channels: 1,
    };
  };
  return { train: split('train'), test: split('t10k') };
}
