import { chmodSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { readJsonFile, writeFileAtomic, writeJsonAtomic } from '../io/files.js';
import { environmentSchema, type Results } from '../report/results-schema.js';
import { type JobResult, jobPayloadSchema, jobResultSchema } from './job.js';

/**
 * A sweep directory:
 *   sweep.json              the sweep: grid, points, jobs and their state, provenance
 *   report.html             every method's metric and paired difference against every grid axis
 *   points/<n>-<label>/     what `pn run` writes for the point: config.json, results.json, report.html, models/
 *   jobs/<id>/result.json   a collected job's result (written after its files: it marks the job as held)
 *   jobs/<id>/files/…       the files the job sent (models)
 *   queue.json              the queue's URL, password included (mode 0600), until the sweep is collected
 *   coordinator.json        the running coordinator's pid and host
 *   redis/                  the embedded Redis: redis.conf, its append-only file, redis.log
 *   logs/worker-<i>.log     the local workers' output
 */
export const SWEEP_FORMAT = 1;

const statsShape = z.object({
  mean: z.number().nullable(),
  std: z.number().nullable(),
  median: z.number().nullable(),
  n: z.number().int(),
});

const splitStats = z.looseObject({ valMetric: statsShape.loose(), testMetric: statsShape.loose() });

export const sweepJobSchema = z.object({
  method: z.string(),
  seeds: z.array(z.number().int()),
  points: z.array(z.number().int()),
  status: z.enum(['queued', 'done', 'failed']),
  payload: jobPayloadSchema,
  /** Once done: where and how long it ran, and the bytes it moved through Redis (payload, result, files). */
  worker: z.string().optional(),
  environment: environmentSchema.optional(),
  durationSeconds: z.number().optional(),
  bytes: z.number().int().optional(),
  /** Once failed: the last attempt's error. */
  error: z.string().optional(),
  attempts: z.number().int().optional(),
});
export type SweepJob = z.infer<typeof sweepJobSchema>;

export const sweepPointSchema = z.object({
  index: z.number().int(),
  label: z.string(),
  values: z.record(z.string(), z.unknown()),
  dir: z.string(),
  config: z.record(z.string(), z.unknown()),
  /** Its jobs in the config's method order and seed order. */
  jobs: z.array(z.string()),
  status: z.enum(['pending', 'done', 'failed']),
  /**
   * Once done, from its results.json: per method, and each persistent method − reinit and −
   * standard-long on the same seeds (with ci95, p, pHolm; pHolmGrid: see adjustAcrossGrid).
   */
  summary: z.record(z.string(), splitStats).optional(),
  pairedVsReinit: z.record(z.string(), splitStats).optional(),
  /** Absent in sweeps written before it was kept. */
  pairedVsStandardLong: z.record(z.string(), splitStats).optional(),
});
export type SweepPoint = z.infer<typeof sweepPointSchema>;

export const sweepFileSchema = z.object({
  format: z.literal(SWEEP_FORMAT),
  id: z.string().regex(/^[0-9a-f]{12}$/),
  experiment: z.string(),
  preset: z.string(),
  /** The config every point starts from (preset, --seeds, --set) and the grid over it. */
  base: z.record(z.string(), z.unknown()),
  grid: z.array(z.object({ key: z.string(), values: z.array(z.unknown()) })),
  metric: z.object({ name: z.string(), higherIsBetter: z.boolean() }).nullable(),
  status: z.enum(['running', 'stopped', 'done', 'failed', 'cancelled']),
  queue: z.object({ embedded: z.boolean(), url: z.string() }),
  /** The coordinator's project version (workers must match it), lock file hash and environment. */
  version: z.string(),
  lockHash: z.string().nullable(),
  environment: environmentSchema,
  createdAt: z.string(),
  updatedAt: z.string(),
  finishedAt: z.string().nullable(),
  totals: z.object({
    points: z.number().int(),
    jobs: z.number().int(),
    done: z.number().int(),
    failed: z.number().int(),
    /** Sum of the done jobs' durations. */
    computeSeconds: z.number(),
    /** Bytes the done jobs moved through Redis. */
    bytes: z.number().int(),
  }),
  points: z.array(sweepPointSchema),
  jobs: z.record(z.string(), sweepJobSchema),
});
export type SweepFile = z.infer<typeof sweepFileSchema>;

export const paths = (dir: string) => ({
  sweep: join(dir, 'sweep.json'),
  report: join(dir, 'report.html'),
  queue: join(dir, 'queue.json'),
  coordinator: join(dir, 'coordinator.json'),
  redis: join(dir, 'redis'),
  logs: join(dir, 'logs'),
  job: (id: string) => join(dir, 'jobs', id),
  jobResult: (id: string) => join(dir, 'jobs', id, 'result.json'),
  jobFile: (id: string, path: string) => join(dir, 'jobs', id, 'files', path),
  point: (point: Pick<SweepPoint, 'dir'>) => join(dir, point.dir),
});

export function readSweep(dir: string): SweepFile {
  const path = paths(dir).sweep;
  return readJsonFile(path, sweepFileSchema, `delete ${dir} and start the sweep anew`);
}

export function writeSweep(dir: string, sweep: SweepFile): void {
  sweep.updatedAt = new Date().toISOString();
  writeJsonAtomic(paths(dir).sweep, sweep);
}

const queueFileSchema = z.object({ url: z.string(), embedded: z.boolean(), password: z.string().optional() });
export type QueueFile = z.infer<typeof queueFileSchema>;

/** queue.json holds a password: only its owner may read it. */
export function writeQueueFile(dir: string, queue: QueueFile): void {
  const path = paths(dir).queue;
  writeFileAtomic(path, `${JSON.stringify(queue, null, 2)}\n`);
  chmodSync(path, 0o600);
}

export function readQueueFile(dir: string): QueueFile | null {
  const path = paths(dir).queue;
  return existsSync(path) ? readJsonFile(path, queueFileSchema) : null;
}

/** A collected job's result, or null when the job is not held (absent or unreadable). */
export function readJobResult(dir: string, id: string): JobResult | null {
  const path = paths(dir).jobResult(id);
  if (!existsSync(path)) return null;
  try {
    return jobResultSchema.parse(JSON.parse(readFileSync(path, 'utf8')));
  } catch {
    return null;
  }
}

const coordinatorSchema = z.object({ pid: z.number().int(), host: z.string(), startedAt: z.string() });

/** The coordinator running this sweep on this machine, or null (none recorded, another host, or dead). */
export function runningCoordinator(dir: string): { pid: number; host: string } | null {
  const path = paths(dir).coordinator;
  if (!existsSync(path)) return null;
  let recorded: z.infer<typeof coordinatorSchema>;
  try {
    recorded = coordinatorSchema.parse(JSON.parse(readFileSync(path, 'utf8')));
  } catch {
    return null;
  }
  if (recorded.host !== hostname()) return recorded;
  if (recorded.pid === process.pid) return null;
  try {
    process.kill(recorded.pid, 0);
    return recorded;
  } catch {
    return null;
  }
}

export function writeCoordinator(dir: string): void {
  writeJsonAtomic(paths(dir).coordinator, { pid: process.pid, host: hostname(), startedAt: new Date().toISOString() });
}

export function removeCoordinator(dir: string): void {
  rmSync(paths(dir).coordinator, { force: true });
}

/** The statistics a sweep keeps per point, from its results. */
export function pointStats(results: Results): Pick<SweepPoint, 'summary' | 'pairedVsReinit' | 'pairedVsStandardLong'> {
  return {
    summary: results.summary,
    pairedVsReinit: results.pairedVsReinit ?? {},
    pairedVsStandardLong: results.pairedVsStandardLong ?? {},
  };
}
