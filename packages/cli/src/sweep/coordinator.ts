import type { ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { availableParallelism, hostname } from 'node:os';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { DataError } from '../data/errors.js';
import { environment, projectVersion } from '../experiments/environment.js';
import { mergeOutputs } from '../experiments/merge.js';
import { type AnyExperiment, experiments } from '../experiments/registry.js';
import {
  assembleResults,
  type ResolvedRun,
  UsageError,
  validate,
  writeResults,
  writeRunConfig,
} from '../experiments/run.js';
import { type Preset, seedList } from '../experiments/types.js';
import { writeFileAtomic, writeJsonAtomic } from '../io/files.js';
import { type GridPoint, pointDirName, type ResolvedSweep } from './grid.js';
import { type DataFingerprint, dataDirectory, fingerprintDirectory, type JobResult, jobResultSchema } from './job.js';
import { canonicalJson, formatSeeds, planSweep } from './plan.js';
import { type EmbeddedRedis, redisServer, startLocalWorkers, startRedis, stopChild } from './processes.js';
import type { SweepDisplay, WorkerStatus } from './progress.js';
import {
  bullConnection,
  checkQueue,
  checkUrl,
  deleteKeys,
  filesKey,
  JOB_ATTEMPTS,
  PREFIX,
  queueName,
  REGISTRY,
  REGISTRY_POLL_MS,
  redactUrl,
  redisClient,
  type SweepEntry,
  sweepKeyPattern,
} from './queue.js';
import { renderSweepReport } from './report.js';
import {
  paths,
  pointStats,
  readJobResult,
  readQueueFile,
  readSweep,
  removeCoordinator,
  runningCoordinator,
  SWEEP_FORMAT,
  type SweepFile,
  type SweepPoint,
  writeCoordinator,
  writeQueueFile,
  writeSweep,
} from './state.js';
import { adjustAcrossGrid } from './statistics.js';

export interface CoordinatorOptions {
  /** An existing queue (redis://…); absent, a private redis-server in the sweep directory. */
  queue?: string;
  /** Local worker processes (one thread each); absent: one per core without --queue, none with it. */
  workers?: number;
  display: SweepDisplay;
  /** Stops the sweep (Ctrl-C): local workers and the embedded Redis stop, `--resume` continues. */
  signal: AbortSignal;
}

/** Local workers share the coordinator's machine: a job of one that crashed runs again after this long. */
const LOCAL_STALL_SECONDS = 10;

/** How often the coordinator looks at its jobs. */
const TICK_MS = 400;

/**
 * Starts a sweep into `outDir`: checks every point's data, plans the jobs, reaches (or starts) the
 * queue, and only then creates the directory; then runs it to the end (see `coordinate`).
 */
export async function startSweep(
  resolved: ResolvedSweep,
  outDir: string,
  options: CoordinatorOptions,
): Promise<SweepFile> {
  const { base, axes, points } = resolved;
  const experiment = base.experiment;
  if (options.queue !== undefined) await checkQueue(options.queue);
  else redisServer();
  const fingerprints = prepareData(experiment, points);
  if (existsSync(outDir) && readdirSync(outDir).length > 0)
    throw new UsageError(
      `${outDir} is not empty; choose a new --out directory or continue it with pn sweep --resume ${outDir}`,
    );
  try {
    mkdirSync(outDir, { recursive: true });
  } catch (error) {
    throw new UsageError(
      `cannot write to ${outDir} (${(error as NodeJS.ErrnoException).code}); choose a writable --out directory`,
    );
  }
  const id = randomBytes(6).toString('hex');
  const version = projectVersion();
  const plan = planSweep(id, experiment, points, version, (point) => fingerprints.get(point.index) ?? null);
  const now = new Date().toISOString();
  const env = environment();
  const sweep: SweepFile = {
    format: SWEEP_FORMAT,
    id,
    experiment: experiment.name,
    preset: base.preset,
    base: base.config as unknown as Record<string, unknown>,
    grid: axes,
    metric: null,
    status: 'running',
    queue: {
      embedded: options.queue === undefined,
      url: options.queue === undefined ? 'embedded' : redactUrl(options.queue),
    },
    version,
    lockHash: env.lockHash ?? null,
    environment: env,
    createdAt: now,
    updatedAt: now,
    finishedAt: null,
    totals: { points: points.length, jobs: plan.jobs.length, done: 0, failed: 0, computeSeconds: 0, bytes: 0 },
    points: points.map((point) => ({
      index: point.index,
      label: point.label,
      values: point.values,
      dir: join('points', pointDirName(point, points.length)),
      config: point.run.config as unknown as Record<string, unknown>,
      jobs: plan.pointJobs.get(point.index) ?? [],
      status: 'pending',
    })),
    jobs: Object.fromEntries(
      plan.jobs.map((job) => [
        job.id,
        {
          method: job.payload.method,
          seeds: job.payload.seeds,
          points: job.points,
          status: 'queued' as const,
          payload: job.payload,
        },
      ]),
    ),
  };
  writeSweep(outDir, sweep);
  if (options.queue !== undefined) writeQueueFile(outDir, { url: options.queue, embedded: false });
  else writeQueueFile(outDir, { url: '', embedded: true, password: randomBytes(24).toString('hex') });
  return coordinate(outDir, sweep, options, false);
}

/** Continues the sweep in `dir`: restarts its Redis (embedded) or reattaches to its queue, and runs it to the end. */
export async function resumeSweep(dir: string, options: CoordinatorOptions): Promise<SweepFile> {
  if (!existsSync(paths(dir).sweep))
    throw new UsageError(`${dir} holds no sweep (no sweep.json); give a directory pn sweep wrote`);
  const sweep = readSweep(dir);
  const running = runningCoordinator(dir);
  if (running)
    throw new UsageError(
      `a coordinator (pid ${running.pid} on ${running.host}) runs ${dir}; stop it first (pn sweep --cancel ${dir}), or delete ${paths(dir).coordinator} if it is gone`,
    );
  if (sweep.status === 'done') throw new UsageError(`${dir} is finished; its results are in ${join(dir, 'points')}`);
  const version = projectVersion();
  if (sweep.version !== version)
    throw new UsageError(
      `${dir} was started by version ${sweep.version}; this is ${version}. Results of both would mix: resume it with that version, or start a new sweep`,
    );
  const experiment = experiments[sweep.experiment];
  if (!experiment) throw new UsageError(`${dir} is a sweep of "${sweep.experiment}", which this version does not know`);
  // The data must still be what the jobs' fingerprints say.
  for (const job of Object.values(sweep.jobs)) {
    if (!job.payload.data || job.status === 'done') continue;
    if (canonicalJson(fingerprintDirectory(job.payload.data.dir)) !== canonicalJson(job.payload.data))
      throw new UsageError(`the data in ${job.payload.data.dir} changed since the sweep started; start a new sweep`);
  }
  const saved = readQueueFile(dir);
  if (options.queue !== undefined) {
    await checkQueue(options.queue);
    writeQueueFile(dir, { url: options.queue, embedded: false });
  } else if (!saved) {
    throw new UsageError(`${dir} has no queue.json; give the queue again with --queue redis://…`);
  } else if (!saved.embedded) {
    await checkQueue(saved.url);
  }
  sweep.status = 'running';
  return coordinate(dir, sweep, options, true);
}

/** Reads each distinct data setup once (as `pn run` does before it makes a directory) and fingerprints its files. */
function prepareData(experiment: AnyExperiment, points: readonly GridPoint[]): Map<number, DataFingerprint> {
  const fingerprints = new Map<number, DataFingerprint>();
  const prepared = new Set<string>();
  for (const point of points) {
    const config = point.run.config as unknown as Record<string, unknown>;
    const { seeds: _s, methods: _m, trajectories: _k, epochs: _e, optimizer: _o, penalty: _p, ...rest } = config;
    const key = canonicalJson(rest);
    if (experiment.prepare && !prepared.has(key)) {
      prepared.add(key);
      try {
        tf.dispose(experiment.prepare(point.run.config) as tf.TensorContainer);
      } catch (error) {
        if (error instanceof DataError) throw new UsageError(`grid point ${point.label}: ${error.message}`);
        throw error;
      }
    }
    const dir = dataDirectory(config);
    if (dir !== null) {
      const fingerprint = fingerprintDirectory(dir);
      if (!fingerprint) throw new UsageError(`grid point ${point.label}: data directory ${dir} is missing`);
      fingerprints.set(point.index, fingerprint);
    }
  }
  return fingerprints;
}

interface Runtime {
  url: string;
  redis?: EmbeddedRedis;
  workers: ChildProcess[];
}

/**
 * Runs a sweep to its end: registers it for workers, enqueues every job whose result it does not
 * hold, collects finished jobs into `jobs/` (re-enqueueing, with the same ids, any the queue lost),
 * writes each point as soon as its jobs are in, then the sweep's report; removes its Redis keys.
 */
async function coordinate(
  dir: string,
  sweep: SweepFile,
  options: CoordinatorOptions,
  resumed: boolean,
): Promise<SweepFile> {
  const { display } = options;
  const experiment = experiments[sweep.experiment];
  const runtime: Runtime = { url: '', workers: [] };
  let queue: Queue | undefined;
  let redis: Redis | undefined;
  writeCoordinator(dir);
  let finished = false;
  try {
    // The queue: the embedded one restarts from its append-only file.
    const saved = readQueueFile(dir);
    if (options.queue !== undefined) runtime.url = options.queue;
    else if (saved?.embedded) {
      const password = saved.password ?? randomBytes(24).toString('hex');
      runtime.redis = await startRedis(paths(dir).redis, password);
      runtime.url = runtime.redis.url;
      // For pn sweep --status while it runs (its port changes with every start).
      writeQueueFile(dir, { url: runtime.url, embedded: true, password });
      display.line(
        `queue: a private redis-server on ${redactUrl(runtime.url)} (append-only file in ${paths(dir).redis})`,
      );
    } else runtime.url = saved?.url ?? '';
    checkUrl(runtime.url);
    queue = new Queue(queueName(sweep.id), { connection: bullConnection(runtime.url), prefix: PREFIX });
    queue.on('error', () => {});
    redis = redisClient(runtime.url);
    const entry: SweepEntry = {
      version: sweep.version,
      experiment: sweep.experiment,
      host: hostname(),
      createdAt: sweep.createdAt,
    };
    await redis.hset(REGISTRY, sweep.id, JSON.stringify(entry));

    // What is held on disk counts as done; everything else is (re-)enqueued.
    for (const [id, job] of Object.entries(sweep.jobs)) {
      const held = readJobResult(dir, id);
      if (held) markDone(sweep, id, held, job.bytes ?? 0);
      else if (job.status === 'done' || (resumed && job.status === 'failed')) {
        job.status = 'queued';
        delete job.error;
      }
    }
    recount(sweep);
    const pending = Object.keys(sweep.jobs).filter((id) => sweep.jobs[id].status === 'queued');
    const added = await enqueue(
      queue,
      sweep,
      pending,
      resumed ? { redis, embedded: runtime.redis !== undefined } : undefined,
    );
    display.line(
      `sweep ${sweep.id}: ${sweep.experiment} (${sweep.preset}), ${sweep.points.length} points, ${Object.keys(sweep.jobs).length} jobs` +
        `${sweep.totals.done ? ` (${sweep.totals.done} held)` : ''}, ${added} to run on ${redactUrl(runtime.url)} → ${dir}`,
    );
    await writeDonePoints(dir, sweep, experiment, display);
    writeSweep(dir, sweep);

    const workerCount = options.workers ?? (options.queue === undefined ? availableParallelism() : 0);
    const startWorkers = (n: number) => startLocalWorkers(n, runtime.url, paths(dir).logs, dir, LOCAL_STALL_SECONDS);
    if (workerCount > 0 && pending.length) {
      runtime.workers = startWorkers(workerCount);
      display.line(`${workerCount} local worker(s), 1 thread each (logs: ${paths(dir).logs})`);
    } else if (pending.length && workerCount === 0) {
      display.line(`no local workers: waiting for pn worker --queue ${redactUrl(runtime.url)}`);
    }

    let restarts = 0;
    let lastRegistered = Date.now();
    let unreachableSince: number | null = null;
    const workers = new Map<string, WorkerStatus>();
    const started = new Set<string>();
    const workerOf = (name: string) => {
      let status = workers.get(name);
      if (!status) {
        status = { name, done: 0, failed: 0, running: null };
        workers.set(name, status);
      }
      return status;
    };
    for (const [id, job] of Object.entries(sweep.jobs))
      if (job.status === 'done' && job.worker && readJobResult(dir, id)) workerOf(job.worker).done++;

    while (!options.signal.aborted) {
      const queued = Object.keys(sweep.jobs).filter((id) => sweep.jobs[id].status === 'queued');
      if (queued.length === 0) break;
      if (runtime.redis && runtime.redis.process.exitCode !== null) {
        // Ctrl-C in a terminal reaches Redis too, perhaps before this process sees its own SIGINT.
        await new Promise((resolve) => setTimeout(resolve, 1000));
        if (options.signal.aborted) break;
        throw new Error(
          `the sweep's redis-server stopped (see ${join(paths(dir).redis, 'redis.log')}); continue with pn sweep --resume ${dir}`,
        );
      }
      const stopped = runtime.workers.filter((child) => child.exitCode !== null || child.signalCode !== null);
      if (stopped.length) {
        // Ctrl-C reaches the local workers too: a moment to see whether this process got it as well.
        await new Promise((resolve) => setTimeout(resolve, 1000));
        if (options.signal.aborted) break;
      }
      for (const [i, child] of runtime.workers.entries()) {
        if (child.exitCode === null && child.signalCode === null) continue;
        if (++restarts > 5)
          throw new Error(
            `local workers keep stopping (exit ${child.exitCode ?? child.signalCode}); see ${paths(dir).logs}`,
          );
        display.line(`local worker ${i + 1} stopped (exit ${child.exitCode ?? child.signalCode}); starting another`);
        runtime.workers[i] = startWorkers(1)[0];
      }
      const tick = async () => {
        if (Date.now() - lastRegistered > 5000) {
          // After a Redis restart without its data the registry is empty: workers find the sweep again.
          await redis?.hset(REGISTRY, sweep.id, JSON.stringify(entry));
          lastRegistered = Date.now();
        }
        const states = await Promise.all(queued.map((id) => (queue as Queue).getJobState(id)));
        const lost: string[] = [];
        const running = new Set<string>();
        for (const [i, id] of queued.entries()) {
          const state = states[i];
          if (state === 'completed') {
            await collect(dir, sweep, queue as Queue, redis as Redis, id, display, lost);
            const job = sweep.jobs[id];
            if (job.status === 'done' && job.worker) workerOf(job.worker).done++;
          } else if (state === 'failed') {
            const job = await (queue as Queue).getJob(id);
            const error = job?.failedReason ?? 'failed';
            Object.assign(sweep.jobs[id], { status: 'failed', error, attempts: job?.attemptsMade });
            recount(sweep);
            const worker = /^([^\s:]+:\d+): /.exec(error)?.[1];
            if (worker) workerOf(worker).failed++;
            display.line(
              `job ${id} ${jobLabel(sweep, id)} failed after ${job?.attemptsMade ?? '?'} attempt(s): ${error.split('\n')[0]}`,
            );
          } else if (state === 'unknown') lost.push(id);
          else if (state === 'active') running.add(id);
        }
        if (lost.length) {
          await enqueue(queue as Queue, sweep, lost);
          display.line(
            `the queue had lost ${lost.length} job(s) (Redis restarted without its data?): enqueued again with the same ids`,
          );
        }
        for (const status of workers.values()) status.running = null;
        for (const id of running) {
          const job = await (queue as Queue).getJob(id);
          const progress = job?.progress as { worker?: string; done?: number; total?: number } | undefined;
          const name = progress?.worker ?? job?.processedBy;
          if (!name) continue;
          if (!started.has(id)) {
            started.add(id);
            display.line(`job ${id} ${jobLabel(sweep, id)} started on ${name}`);
          }
          workerOf(name).running = {
            label: jobLabel(sweep, id),
            done: progress?.done ?? 0,
            total: progress?.total ?? 1,
          };
        }
      };
      const ticked = tick().then(
        () => true,
        (error: Error) => {
          // Redis restarting (refused, reset, loading its file) is waited for; anything else is an error.
          if (!/ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|Connection is closed|^LOADING/.test(error.message)) throw error;
          return false;
        },
      );
      let outcome = await settle(ticked, options.signal, 5000);
      if (outcome === 'slow') {
        if (unreachableSince === null) display.line(`queue ${redactUrl(runtime.url)} unreachable; waiting for it`);
        unreachableSince ??= Date.now();
        outcome = await settle(ticked, options.signal);
      }
      if (outcome === 'aborted') break;
      if (outcome === false) {
        if (unreachableSince === null) display.line(`queue ${redactUrl(runtime.url)} unreachable; waiting for it`);
        unreachableSince ??= Date.now();
      } else if (unreachableSince !== null) {
        display.line('queue reachable again');
        unreachableSince = null;
      }
      await writeDonePoints(dir, sweep, experiment, display);
      writeSweep(dir, sweep);
      display.update({
        points: {
          done: sweep.points.filter((p) => p.status === 'done').length,
          failed: sweep.points.filter((p) => p.status === 'failed').length,
          total: sweep.points.length,
        },
        jobs: {
          done: sweep.totals.done,
          running: [...workers.values()].filter((w) => w.running).length,
          failed: sweep.totals.failed,
          total: Object.keys(sweep.jobs).length,
        },
        workers: [...workers.values()],
      });
      await new Promise((resolve) => setTimeout(resolve, TICK_MS));
    }
    if (options.signal.aborted) {
      sweep.status = 'stopped';
      return sweep;
    }
    // Collected: write what is left, then clear the sweep's keys.
    await writeDonePoints(dir, sweep, experiment, display);
    sweep.status = sweep.totals.failed ? 'failed' : 'done';
    sweep.finishedAt = new Date().toISOString();
    writeSweep(dir, sweep);
    writeFileAtomic(paths(dir).report, await renderSweepReport(sweep));
    await removeSweepKeys(queue, redis, sweep.id, runtime.redis === undefined);
    finished = true;
    return sweep;
  } finally {
    if (!finished && sweep.status === 'running') sweep.status = 'stopped';
    try {
      writeSweep(dir, sweep);
    } finally {
      await Promise.all(runtime.workers.map((child) => stopChild(child)));
      await queue?.close().catch(() => {});
      redis?.disconnect();
      await runtime.redis?.stop();
      if (finished) {
        if (runtime.redis) rmSync(paths(dir).redis, { recursive: true, force: true });
        rmSync(paths(dir).queue, { force: true });
      }
      removeCoordinator(dir);
    }
  }
}

/**
 * `promise`'s value, or 'aborted' when `signal` aborts first, or 'slow' after `ms`. Unlike a race
 * with a promise that stays pending, it leaves nothing behind on the signal each time it is used.
 */
function settle<T>(promise: Promise<T>, signal: AbortSignal, ms?: number): Promise<T | 'aborted' | 'slow'> {
  return new Promise((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
    };
    const onAbort = () => {
      done();
      resolve('aborted');
    };
    if (signal.aborted) return resolve('aborted');
    signal.addEventListener('abort', onAbort, { once: true });
    if (ms !== undefined)
      timer = setTimeout(() => {
        done();
        resolve('slow');
      }, ms);
    promise.then(
      (value) => {
        done();
        resolve(value);
      },
      (error) => {
        done();
        reject(error);
      },
    );
  });
}

/**
 * Adds jobs to the queue with their ids (an id already there is left as it is). When resuming, a
 * failed job is added anew, and so is one the embedded queue still marks active: its worker died
 * with the coordinator, and waiting for its lock to expire would only cost time.
 */
async function enqueue(
  queue: Queue,
  sweep: SweepFile,
  ids: string[],
  resume?: { redis: Redis; embedded: boolean },
): Promise<number> {
  if (resume) {
    for (const id of ids) {
      const state = await queue.getJobState(id);
      if (state === 'active' && resume.embedded) await resume.redis.del(`${queue.toKey(id)}:lock`);
      if (state === 'failed' || (state === 'active' && resume.embedded)) await (await queue.getJob(id))?.remove();
    }
  }
  const jobs = await queue.addBulk(
    ids.map((id) => ({
      name: sweep.jobs[id].method,
      data: sweep.jobs[id].payload,
      opts: {
        jobId: id,
        attempts: JOB_ATTEMPTS,
        backoff: { type: 'fixed', delay: 1000 },
        removeOnComplete: false,
        removeOnFail: false,
      },
    })),
  );
  return jobs.length;
}

function jobLabel(sweep: SweepFile, id: string): string {
  const job = sweep.jobs[id];
  return `(${job.method}, seeds ${formatSeeds(job.seeds)}, point${job.points.length > 1 ? 's' : ''} ${job.points.join(', ')})`;
}

/** The totals of sweep.json, from its jobs. */
function recount(sweep: SweepFile): void {
  const jobs = Object.values(sweep.jobs);
  const done = jobs.filter((job) => job.status === 'done');
  Object.assign(sweep.totals, {
    points: sweep.points.length,
    jobs: jobs.length,
    done: done.length,
    failed: jobs.filter((job) => job.status === 'failed').length,
    computeSeconds: done.reduce((sum, job) => sum + (job.durationSeconds ?? 0), 0),
    bytes: done.reduce((sum, job) => sum + (job.bytes ?? 0), 0),
  });
}

function markDone(sweep: SweepFile, id: string, result: JobResult, bytes: number): void {
  const job = sweep.jobs[id];
  Object.assign(job, {
    status: 'done',
    worker: result.worker,
    environment: result.environment,
    durationSeconds: result.durationSeconds,
    bytes,
  });
  delete job.error;
  recount(sweep);
  sweep.metric ??= { name: result.metric.name, higherIsBetter: result.metric.higherIsBetter };
}

/**
 * Takes a completed job's result and files from Redis into `jobs/<id>/` (files first, result.json
 * last: it marks the job as held), then deletes the files from Redis. A result whose files are
 * missing or damaged is run again.
 */
async function collect(
  dir: string,
  sweep: SweepFile,
  queue: Queue,
  redis: Redis,
  id: string,
  display: SweepDisplay,
  lost: string[],
): Promise<void> {
  const job = await queue.getJob(id);
  if (!job) {
    lost.push(id);
    return;
  }
  const parsed = jobResultSchema.safeParse(job.returnvalue);
  if (!parsed.success) {
    Object.assign(sweep.jobs[id], {
      status: 'failed',
      error: `returned an invalid result (${parsed.error.issues[0].message})`,
    });
    recount(sweep);
    return;
  }
  const result = parsed.data;
  const key = filesKey(sweep.id, id);
  const stored = await redis.hgetallBuffer(key);
  const damaged = result.files.find((file) => {
    const bytes = stored[file.path];
    return !bytes || bytes.byteLength !== file.size || createHash('sha256').update(bytes).digest('hex') !== file.sha256;
  });
  if (damaged) {
    display.line(`job ${id}: its file ${damaged.path} is missing or damaged in Redis; running it again`);
    await job.remove();
    lost.push(id);
    return;
  }
  for (const file of result.files) writeFileAtomic(paths(dir).jobFile(id, file.path), stored[file.path]);
  writeJsonAtomic(paths(dir).jobResult(id), result);
  await redis.del(key);
  const bytes =
    Buffer.byteLength(JSON.stringify(job.data)) +
    Buffer.byteLength(JSON.stringify(job.returnvalue)) +
    result.files.reduce((sum, file) => sum + file.size, 0);
  markDone(sweep, id, result, bytes);
  display.line(
    `job ${id} ${jobLabel(sweep, id)} done on ${result.worker} in ${result.durationSeconds.toFixed(1)} s ` +
      `(${sweep.totals.done}/${Object.keys(sweep.jobs).length})`,
  );
}

/** Writes every point whose jobs are all held and that is not written yet; marks points with a failed job. */
async function writeDonePoints(
  dir: string,
  sweep: SweepFile,
  experiment: AnyExperiment,
  display: SweepDisplay,
): Promise<void> {
  for (const point of sweep.points) {
    if (point.jobs.some((id) => sweep.jobs[id].status === 'failed')) {
      point.status = 'failed';
      continue;
    }
    if (point.status === 'done' && existsSync(join(paths(dir).point(point), 'results.json'))) continue;
    point.status = 'pending';
    if (!point.jobs.every((id) => sweep.jobs[id].status === 'done')) continue;
    const results = await writePoint(dir, sweep, point, experiment);
    Object.assign(point, { status: 'done' }, pointStats(results));
    display.line(`point ${point.index} (${point.label}) written: ${paths(dir).point(point)}`);
  }
  adjustAcrossGrid(sweep);
}

/**
 * A point's run directory, as `pn run` writes it: config.json, the selected models, results.json
 * (the jobs' runs and merged details, summaries computed as runExperiment computes them) and report.html.
 */
async function writePoint(dir: string, sweep: SweepFile, point: SweepPoint, experiment: AnyExperiment) {
  const parts = point.jobs.map((id) => {
    const result = readJobResult(dir, id);
    if (!result)
      throw new Error(`job ${id} of point ${point.index} is marked done but ${paths(dir).jobResult(id)} is unreadable`);
    return { id, result };
  });
  const run: ResolvedRun = { experiment, preset: sweep.preset as Preset, config: validate(experiment, point.config) };
  const output = mergeOutputs(
    experiment,
    parts.map((part) => part.result),
  );
  const startedAt = new Date(Math.min(...parts.map((part) => Date.parse(part.result.startedAt))));
  const finishedAt = new Date(Math.max(...parts.map((part) => Date.parse(part.result.finishedAt))));
  const durationSeconds = parts.reduce((sum, part) => sum + part.result.durationSeconds, 0);
  const results = assembleResults(run, output, { startedAt, finishedAt, durationSeconds }, parts[0].result.environment);
  if (results.seeds.length !== seedList(run.config).length) throw new Error(`point ${point.index}: seeds do not match`);
  const out = paths(dir).point(point);
  for (const { id, result } of parts) {
    for (const file of result.files) {
      const target = join(out, file.path);
      mkdirSync(dirname(target), { recursive: true });
      copyFileSync(paths(dir).jobFile(id, file.path), target);
    }
  }
  writeRunConfig(out, run);
  await writeResults(out, results);
  return results;
}

/**
 * Deletes the sweep's registry entry, queue and files from Redis. Workers still serving the queue
 * would write some of its keys again (BullMQ's meta, events), so on a shared Redis they are given
 * the time to see the sweep gone first.
 */
async function removeSweepKeys(queue: Queue, redis: Redis, id: string, shared: boolean): Promise<void> {
  await redis.hdel(REGISTRY, id);
  if (shared) await new Promise((resolve) => setTimeout(resolve, 3 * REGISTRY_POLL_MS));
  await queue.obliterate({ force: true });
  await deleteKeys(redis, sweepKeyPattern(id));
}

/** `pn sweep --cancel DIR`: stops its coordinator (here), removes its queue, keeps what was collected. */
export async function cancelSweep(dir: string): Promise<string> {
  if (!existsSync(paths(dir).sweep)) throw new UsageError(`${dir} holds no sweep (no sweep.json)`);
  const running = runningCoordinator(dir);
  if (running) {
    if (running.host !== hostname())
      throw new UsageError(`the coordinator of ${dir} runs on ${running.host} (pid ${running.pid}); cancel it there`);
    process.kill(running.pid, 'SIGTERM');
    for (let i = 0; i < 300 && runningCoordinator(dir); i++) await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const sweep = readSweep(dir);
  const saved = readQueueFile(dir);
  if (saved?.embedded) rmSync(paths(dir).redis, { recursive: true, force: true });
  else if (saved) {
    await checkQueue(saved.url);
    const queue = new Queue(queueName(sweep.id), { connection: bullConnection(saved.url), prefix: PREFIX });
    queue.on('error', () => {});
    const redis = redisClient(saved.url);
    try {
      await removeSweepKeys(queue, redis, sweep.id, true);
    } finally {
      await queue.close();
      redis.disconnect();
    }
  }
  if (sweep.status !== 'done') sweep.status = 'cancelled';
  writeSweep(dir, sweep);
  return `sweep ${sweep.id} cancelled: its queue is removed; ${sweep.totals.done} collected job(s) stay in ${dir} (pn sweep --resume ${dir} enqueues the rest again)`;
}

/** `pn sweep --status DIR`: lines on the sweep's points and jobs, and on its queue where reachable. */
export async function sweepStatus(dir: string): Promise<string[]> {
  if (!existsSync(paths(dir).sweep)) throw new UsageError(`${dir} holds no sweep (no sweep.json)`);
  const sweep = readSweep(dir);
  const jobs = Object.entries(sweep.jobs);
  const held = jobs.filter(([id]) => readJobResult(dir, id)).length;
  const failed = jobs.filter(([, job]) => job.status === 'failed');
  const running = runningCoordinator(dir);
  const lines = [
    `sweep ${sweep.id}: ${sweep.experiment} (${sweep.preset}), ${sweep.status}` +
      (running
        ? ` (coordinator pid ${running.pid} on ${running.host})`
        : sweep.status === 'running'
          ? ' (no coordinator running)'
          : ''),
    `points: ${sweep.points.filter((p) => p.status === 'done').length} of ${sweep.points.length} written` +
      `${sweep.points.some((p) => p.status === 'failed') ? `, ${sweep.points.filter((p) => p.status === 'failed').length} failed` : ''}`,
    `jobs: ${held} of ${jobs.length} collected, ${failed.length} failed`,
  ];
  const saved = readQueueFile(dir);
  if (saved && (!saved.embedded || running) && saved.url) {
    try {
      await checkQueue(saved.url, 3000);
      const queue = new Queue(queueName(sweep.id), { connection: bullConnection(saved.url), prefix: PREFIX });
      queue.on('error', () => {});
      try {
        const counts = await queue.getJobCounts('active', 'waiting', 'delayed', 'completed', 'failed');
        lines.push(
          `queue ${redactUrl(saved.url)}: ${counts.active} running, ${counts.waiting + counts.delayed} waiting, ` +
            `${counts.completed} completed (not yet collected: ${Math.max(0, counts.completed - held)}), ${counts.failed} failed`,
        );
        for (const job of await queue.getJobs(['active'])) {
          const progress = job.progress as { worker?: string; done?: number; total?: number };
          const share = progress?.total ? ` ${Math.round(((progress.done ?? 0) / progress.total) * 100)}%` : '';
          lines.push(
            `  ${progress?.worker ?? job.processedBy ?? '?'}: job ${job.id} ${jobLabel(sweep, job.id ?? '')}${share}`,
          );
        }
      } finally {
        await queue.close();
      }
    } catch (error) {
      lines.push(`queue: ${(error as Error).message}`);
    }
  } else if (sweep.queue.embedded && sweep.status !== 'done') {
    lines.push(`queue: the embedded redis-server is not running (pn sweep --resume ${dir} restarts it)`);
  }
  for (const [id, job] of failed) lines.push(`failed: job ${id} ${jobLabel(sweep, id)}: ${job.error ?? ''}`);
  return lines;
}
