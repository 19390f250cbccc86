import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { IterationRecord, Snapshot } from '../core/index.js';
import { writeFileAtomic, writeJsonAtomic } from '../io/files.js';

interface SnapshotManifest {
  weights: { name: string; shape: number[]; offset: number }[];
}

/**
 * Per-method checkpoints below `<run>/checkpoints/<method>/`: after every trajectory its
 * records and the solution's weights (float32, bit-exact), so that a resumed run restarts the
 * next trajectory with exactly the penalty an uninterrupted run would have had.
 */
export class MethodCheckpoint {
  private readonly dir: string;

  constructor(runDir: string, method: string) {
    this.dir = join(runDir, 'checkpoints', method);
  }

  saveIteration(iteration: number, records: IterationRecord[], solution: Snapshot, extra: unknown = null): void {
    const weights: SnapshotManifest['weights'] = [];
    let offset = 0;
    for (const [name, tensor] of solution) {
      weights.push({ name, shape: tensor.shape, offset });
      offset += tensor.size;
    }
    const data = new Float32Array(offset);
    for (const [i, tensor] of [...solution.values()].entries()) data.set(tensor.dataSync(), weights[i].offset);
    writeFileAtomic(join(this.dir, `iteration-${iteration}.bin`), new Uint8Array(data.buffer));
    // The JSON is written last: it marks the iteration as complete.
    writeJsonAtomic(join(this.dir, `iteration-${iteration}.json`), { records, weights, extra });
  }

  /** Completed iterations 0..k-1, in order, as the trainer's `resume` option takes them. */
  load(replicas: number): { records: IterationRecord[][]; solutions: Snapshot[]; extras: unknown[] } {
    const records: IterationRecord[][] = Array.from({ length: replicas }, () => []);
    const solutions: Snapshot[] = [];
    const extras: unknown[] = [];
    for (let k = 0; existsSync(join(this.dir, `iteration-${k}.json`)); k++) {
      const saved = JSON.parse(readFileSync(join(this.dir, `iteration-${k}.json`), 'utf8')) as {
        records: IterationRecord[];
        weights: SnapshotManifest['weights'];
        extra: unknown;
      };
      if (saved.records.length !== replicas)
        throw new Error(`checkpoint ${this.dir} was written for another seed count`);
      const bytes = readFileSync(join(this.dir, `iteration-${k}.bin`));
      const data = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
      const solution = new Map<string, tf.Tensor>();
      for (const { name, shape, offset } of saved.weights) {
        const size = shape.reduce((a, b) => a * b, 1);
        solution.set(name, tf.keep(tf.tensor(data.subarray(offset, offset + size), shape)));
      }
      solutions.push(solution);
      extras.push(saved.extra);
      for (const [r, record] of saved.records.entries()) records[r].push(restoreNulls(record));
    }
    return { records, solutions, extras };
  }

  get donePath(): string {
    return join(this.dir, 'done.json');
  }
}

/** JSON stores NaN/Inf as null; records read back carry NaN again. */
function restoreNulls(record: IterationRecord): IterationRecord {
  const num = (v: number | null) => (v === null ? Number.NaN : v);
  return {
    ...record,
    trainLoss: num(record.trainLoss),
    valMetric: num(record.valMetric),
    distanceToTheta0: num(record.distanceToTheta0),
    distanceToPrevious: record.distanceToPrevious.map(num),
  };
}
