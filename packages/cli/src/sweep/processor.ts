/**
 * The job processor `pn worker` hands to BullMQ, which runs it in a child process of its own
 * (a sandboxed processor): training blocks the child's event loop for seconds at a time while the
 * worker process keeps renewing the job's lock. A job runs `experiment.run` on its method and
 * seeds in a temporary directory, sends the files it wrote through Redis and returns its runs and
 * details. Nothing runs unless the payload names a registered experiment with a valid config.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { Worker as Thread } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import type { SandboxedJob } from 'bullmq';
import type { Redis } from 'ioredis';
import { initBackend } from '../cli/backend.js';
import { DataError } from '../data/errors.js';
import { environment, projectVersion } from '../experiments/environment.js';
import { experiments } from '../experiments/registry.js';
import { UsageError, validate } from '../experiments/run.js';
import { seedList } from '../experiments/types.js';
import { nanToNull } from '../io/files.js';
import {
  dataDirectory,
  fingerprintDifference,
  fingerprintDirectory,
  type JobPayload,
  type JobResult,
  jobPayloadSchema,
} from './job.js';
import { filesKey, redisClient } from './queue.js';

/** The `pn worker` process this child serves (it may have died while this child started). */
const workerPid = Number(process.env.PN_WORKER_PID) || process.ppid;
/** As messages and results name the worker. */
const workerName = `${hostname()}:${workerPid}`;

// A job can always be stopped at once and run again: SIGTERM and SIGINT end this process now
// instead of waiting for the job (which BullMQ's handlers would do, blocked behind training).
process.removeAllListeners('SIGTERM');
process.removeAllListeners('SIGINT');

// When the worker process dies (SIGKILL included), this child must not train on as an orphan. Its
// main thread is blocked by training, so a thread of its own watches the parent; the parent may
// even have died before this module loaded.
if (process.ppid !== workerPid) process.kill(process.pid, 'SIGKILL');
const watchdog = new Thread(
  `const { workerData } = require('node:worker_threads');
   setInterval(() => { if (process.ppid !== workerData.parent) process.kill(workerData.self, 'SIGKILL'); }, 200);`,
  { eval: true, workerData: { parent: workerPid, self: process.pid } },
);
watchdog.unref();

const JOB_DIR_PREFIX = 'pn-job-';

/** Removes the job directories of children that were killed mid-job (their pid is in the name). */
function removeStaleJobDirs(): void {
  for (const name of readdirSync(tmpdir())) {
    const pid = Number(/^pn-job-(\d+)-/.exec(name)?.[1]);
    if (!pid || pid === process.pid) continue;
    try {
      process.kill(pid, 0);
    } catch {
      rmSync(join(tmpdir(), name), { recursive: true, force: true });
    }
  }
}
removeStaleJobDirs();

let redis: Redis | undefined;
let backendReady: Promise<string> | undefined;

/** An error of this job, naming the worker that met it. */
class JobError extends Error {
  constructor(message: string) {
    super(`${workerName}: ${message}`);
  }
}

/** The payload, checked: a registered experiment, a valid config of exactly this method, seeds it has, this version. */
function checkPayload(data: unknown) {
  const parsed = jobPayloadSchema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new JobError(`refused an invalid job (${issue.path.join('.') || 'payload'}: ${issue.message})`);
  }
  const payload: JobPayload = parsed.data;
  const experiment = experiments[payload.experiment];
  if (!experiment) throw new JobError(`refused a job of "${payload.experiment}": no such experiment here`);
  if (payload.version !== projectVersion())
    throw new JobError(`refused a job of version ${payload.version}: this worker runs ${projectVersion()}`);
  let config: ReturnType<typeof validate>;
  try {
    config = validate(experiment, payload.config);
  } catch (error) {
    if (error instanceof UsageError) throw new JobError(`refused a job: ${error.message}`);
    throw error;
  }
  if (config.methods.length !== 1 || config.methods[0] !== payload.method)
    throw new JobError(`refused a job whose config runs ${config.methods.join(', ')}, not ${payload.method} alone`);
  const all = seedList(config);
  if (!payload.seeds.every((seed) => all.includes(seed)))
    throw new JobError(`refused a job with seeds beyond the config's ${all[0]}..${all[all.length - 1]}`);
  const dir = dataDirectory(config as unknown as Record<string, unknown>);
  if (dir !== null) {
    if (!payload.data || payload.data.dir !== dir)
      throw new JobError(`refused a job without the fingerprint of its data directory ${dir}`);
    const difference = fingerprintDifference(payload.data, fingerprintDirectory(dir));
    if (difference)
      throw new JobError(
        `data directory ${dir} on this machine ${difference}; every worker needs the coordinator's files at the same path`,
      );
  }
  return { payload, experiment, config };
}

/** Every file below `dir` but checkpoints (the run's own bookkeeping), by path relative to `dir`. */
function outputFiles(dir: string): string[] {
  const found: string[] = [];
  const walk = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const path = join(d, entry.name);
      if (entry.isDirectory()) {
        if (!(d === dir && entry.name === 'checkpoints')) walk(path);
      } else if (entry.isFile()) found.push(relative(dir, path));
    }
  };
  walk(dir);
  return found.sort();
}

export default async function processJob(job: SandboxedJob): Promise<JobResult> {
  const { payload, experiment, config } = checkPayload(job.data);
  backendReady ??= initBackend();
  await backendReady;
  const startedAt = new Date();
  removeStaleJobDirs();
  const outDir = mkdtempSync(join(tmpdir(), `${JOB_DIR_PREFIX}${process.pid}-`));
  try {
    let prepared: unknown;
    try {
      prepared = experiment.prepare?.(config);
    } catch (error) {
      if (error instanceof DataError) throw new JobError(error.message);
      throw error;
    }
    let reported = 0;
    const output = await experiment.run(config, {
      outDir,
      prepared,
      scopes: experiment.scopes?.(config),
      seeds: payload.seeds,
      onProgress: (method, done, total) => {
        const now = Date.now();
        if (now - reported < 1000 && done < total) return;
        reported = now;
        void job.updateProgress({ worker: workerName, method, done, total });
      },
    });
    tf.dispose(prepared as tf.TensorContainer);
    const files = outputFiles(outDir).map((path) => ({ path, bytes: readFileSync(join(outDir, path)) }));
    if (!job.id) throw new JobError('a job without an id');
    const key = filesKey(payload.sweep, job.id);
    redis ??= redisClient(process.env.PN_SWEEP_QUEUE_URL ?? '');
    const upload = redis.multi().del(key);
    if (files.length) upload.hset(key, Object.fromEntries(files.map((file) => [file.path, file.bytes])));
    await upload.exec();
    const finishedAt = new Date();
    const result: JobResult = {
      metric: output.metric,
      runs: output.runs,
      details: output.details as Record<string, unknown>,
      files: files.map(({ path, bytes }) => ({
        path,
        size: bytes.byteLength,
        sha256: createHash('sha256').update(bytes).digest('hex'),
      })),
      environment: environment(),
      worker: workerName,
      startedAt: startedAt.toISOString(),
      finishedAt: finishedAt.toISOString(),
      durationSeconds: (finishedAt.getTime() - startedAt.getTime()) / 1000,
    };
    // As results.json has them: NaN and ±Infinity as null.
    return JSON.parse(JSON.stringify(result, nanToNull));
  } finally {
    rmSync(outDir, { recursive: true, force: true });
  }
}
