import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { ModelWeight, Snapshot, TrajectoryRecord } from 'persistent-neurons';
import { z } from 'zod';
import { DamagedFileError } from '../io/errors.js';
import { readJsonFile, writeFileAtomic, writeJsonAtomic } from '../io/files.js';
import { type RunRecord, renameIterationKeys, runSchema, trajectoryRecordSchema } from '../report/results-schema.js';

const runsSchema = z.array(runSchema);

/** trajectory-<k>.json: the trajectory's records (one per replica), where its weights lie in the .bin, and its extra. */
const trajectorySchema = z.object({
  records: z.array(trajectoryRecordSchema),
  weights: z.array(
    z.object({
      name: z.string(),
      shape: z.array(z.number().int().nonnegative()),
      offset: z.number().int().nonnegative(),
    }),
  ),
  extra: z.unknown(),
});

type SnapshotManifest = Pick<z.infer<typeof trajectorySchema>, 'weights'>;

/** done.json: a finished method's runs (one per seed of its task) and details. */
const doneSchema = z.object({ runs: runsSchema, details: z.array(z.unknown()) });

/**
 * Per-method checkpoints below `<run>/checkpoints/<method>/`: after every trajectory its
 * records and the solution's weights (float32, bit-exact), so that a resumed run restarts the
 * next trajectory with exactly the penalty an uninterrupted run would have had.
 */
export class MethodCheckpoint {
  private readonly dir: string;
  /** File names: `trajectory-<k>`, or `iteration-<k>` in a directory written before the rename. */
  private readonly prefix: 'trajectory' | 'iteration';

  /** `name`: the method, or `<method>/seed-<s>` for a task of one seed. */
  constructor(
    runDir: string,
    private readonly name: string,
  ) {
    this.dir = join(runDir, 'checkpoints', name);
    const legacy = existsSync(join(this.dir, 'iteration-0.json')) && !existsSync(join(this.dir, 'trajectory-0.json'));
    this.prefix = legacy ? 'iteration' : 'trajectory';
  }

  saveTrajectory(trajectory: number, records: TrajectoryRecord[], solution: Snapshot, extra: unknown = null): void {
    const weights: SnapshotManifest['weights'] = [];
    let offset = 0;
    for (const [name, tensor] of solution) {
      weights.push({ name, shape: tensor.shape, offset });
      offset += tensor.size;
    }
    const data = new Float32Array(offset);
    for (const [i, tensor] of [...solution.values()].entries()) data.set(tensor.dataSync(), weights[i].offset);
    writeFileAtomic(this.binPath(trajectory), new Uint8Array(data.buffer));
    // The JSON is written last: it marks the trajectory as complete.
    writeJsonAtomic(this.jsonPath(trajectory), { records, weights, extra });
  }

  /**
   * Completed trajectories 0..k-1 of a task with these weights and replicas, in order, as the
   * trainer's `resume` option takes them. A damaged trajectory counts as not written: it and the
   * ones after it are deleted (to be trained again), and `onWarning` says so.
   */
  load(
    task: { replicas: number; weights: readonly ModelWeight[] },
    onWarning?: (message: string) => void,
  ): { records: TrajectoryRecord[][]; solutions: Snapshot[]; extras: unknown[] } {
    const records: TrajectoryRecord[][] = Array.from({ length: task.replicas }, () => []);
    const solutions: Snapshot[] = [];
    const extras: unknown[] = [];
    for (let k = 0; existsSync(this.jsonPath(k)); k++) {
      let saved: ReturnType<MethodCheckpoint['readTrajectory']>;
      try {
        saved = this.readTrajectory(k, task);
      } catch (error) {
        if (!(error instanceof DamagedFileError)) throw error;
        onWarning?.(`${error.message}; redoing trajectory ${k + 1} and after`);
        this.deleteFrom(k);
        break;
      }
      const solution = new Map<string, tf.Tensor>();
      for (const { name, shape, offset } of saved.weights) {
        const size = shape.reduce((a, b) => a * b, 1);
        solution.set(name, tf.keep(tf.tensor(saved.data.subarray(offset, offset + size), shape)));
      }
      solutions.push(solution);
      extras.push(saved.extra);
      for (const [r, record] of saved.records.entries()) records[r].push(restoreNulls(record));
    }
    return { records, solutions, extras };
  }

  /**
   * The finished task's runs and details (`method` on `seeds`, `trajectories` trajectories each),
   * or undefined when it has not finished. A damaged done.json counts as not written: it is
   * deleted, `onWarning` says so, and the task goes on from its checkpoints.
   */
  loadDone<D>(
    method: string,
    seeds: number[],
    trajectories: number,
    onWarning?: (message: string) => void,
    /** Each detail entry's schema; absent, details are taken as they are. */
    details: z.ZodType<D> = z.unknown() as z.ZodType<D>,
  ): { runs: RunRecord[]; details: D[] } | undefined {
    const path = this.donePath;
    if (!existsSync(path)) return undefined;
    try {
      // A directory written before the rename keeps `iteration` keys in its details.
      const done = readJsonFile(
        path,
        doneSchema.extend({ details: z.array(z.preprocess(renameIterationKeys, details)) }),
      );
      const fits =
        done.runs.length === seeds.length &&
        done.runs.every(
          (run, r) => run.seed === seeds[r] && run.method === method && run.trajectories.length === trajectories,
        );
      if (!fits)
        throw new DamagedFileError(
          path,
          `its runs are not ${method} on seeds ${seeds.join(', ')}, ${trajectories} trajectories each`,
        );
      return done;
    } catch (error) {
      if (!(error instanceof DamagedFileError)) throw error;
      onWarning?.(`${error.message}; redoing ${this.name} from its checkpoints`);
      rmSync(path, { force: true });
      return undefined;
    }
  }

  get donePath(): string {
    return join(this.dir, 'done.json');
  }

  private jsonPath(trajectory: number): string {
    return join(this.dir, `${this.prefix}-${trajectory}.json`);
  }

  private binPath(trajectory: number): string {
    return join(this.dir, `${this.prefix}-${trajectory}.bin`);
  }

  /** Trajectory k's JSON and weights, checked against each other and against the task. */
  private readTrajectory(k: number, task: { replicas: number; weights: readonly ModelWeight[] }) {
    const jsonPath = this.jsonPath(k);
    const saved = readJsonFile(jsonPath, trajectorySchema);
    const damaged = (reason: string) => new DamagedFileError(jsonPath, reason);
    if (saved.records.length !== task.replicas)
      throw damaged(`${saved.records.length} records where the run has ${task.replicas} replicas`);
    if (saved.records.some((record) => record.trajectory !== k || record.distanceToPrevious.length !== k))
      throw damaged(`its records are not those of trajectory ${k + 1}`);
    const model = new Map(task.weights.map((w) => [w.name, w.variable.shape]));
    if (saved.weights.length !== model.size)
      throw damaged(`${saved.weights.length} weights where the model has ${model.size}`);
    let size = 0;
    for (const { name, shape, offset } of saved.weights) {
      const expected = model.get(name);
      if (!expected || expected.length !== shape.length || expected.some((n, i) => n !== shape[i]))
        throw damaged(`weight "${name}" of shape [${shape}] is not in the model`);
      if (offset !== size)
        throw damaged(`weight "${name}" at offset ${offset}, where ${size} follows the weights before it`);
      size += shape.reduce((a, b) => a * b, 1);
    }
    const binPath = this.binPath(k);
    if (!existsSync(binPath)) throw new DamagedFileError(binPath, `missing; ${jsonPath} refers to it`);
    const bytes = readFileSync(binPath);
    if (bytes.byteLength !== 4 * size)
      throw new DamagedFileError(binPath, `${bytes.byteLength} bytes where ${basename(jsonPath)} records ${4 * size}`);
    const data = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    return { ...saved, data };
  }

  /** Deletes trajectories k and later, the last first, so that a run stopped meanwhile never sees a gap before a stale one. */
  private deleteFrom(k: number): void {
    const later = readdirSync(this.dir).flatMap((name) => {
      const match = /^(?:trajectory|iteration)-(\d+)\.(json|bin)$/.exec(name);
      return match && Number(match[1]) >= k ? [{ name, trajectory: Number(match[1]), json: match[2] === 'json' }] : [];
    });
    // Highest trajectory first, each one's JSON (its completion mark) before its weights.
    later.sort((a, b) => b.trajectory - a.trajectory || Number(b.json) - Number(a.json));
    for (const { name } of later) rmSync(join(this.dir, name), { force: true });
  }
}

/** JSON stores NaN/Inf as null; records read back carry NaN again. */
function restoreNulls(record: z.infer<typeof trajectoryRecordSchema>): TrajectoryRecord {
  const num = (v: number | null) => (v === null ? Number.NaN : v);
  return {
    ...record,
    trainLoss: num(record.trainLoss),
    valMetric: num(record.valMetric),
    distanceToTheta0: num(record.distanceToTheta0),
    distanceToPrevious: record.distanceToPrevious.map(num),
    // A checkpoint written before learning curves were recorded has none, and its record stays without.
    ...(record.curve && {
      curve: {
        epochs: record.curve.epochs,
        trainLoss: record.curve.trainLoss.map(num),
        valMetric: record.curve.valMetric.map(num),
      },
    }),
  } as TrajectoryRecord;
}
