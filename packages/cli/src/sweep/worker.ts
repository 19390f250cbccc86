import { hostname } from 'node:os';
import { fileURLToPath } from 'node:url';
import { type Job, Worker } from 'bullmq';
import { projectVersion } from '../experiments/environment.js';
import { type JobPayload, jobPayloadSchema } from './job.js';
import { formatSeeds } from './plan.js';
import {
  bullConnection,
  checkQueue,
  PREFIX,
  queueName,
  REGISTRY,
  REGISTRY_POLL_MS,
  redisClient,
  sweepEntrySchema,
} from './queue.js';

export interface WorkerOptions {
  /** redis://[:password@]host:port */
  url: string;
  /** Threads of the native backend per job (TFJS_ONEDNN_THREADS). */
  threads: number;
  /** Jobs at once, per sweep: each runs in a child process of its own. */
  concurrency: number;
  /**
   * A job whose worker stopped renewing its lock for this long (killed, machine gone) runs again
   * on another worker; this worker checks others' jobs every half of it.
   */
  stallSeconds: number;
  /** One line per event (job started, done, failed; sweeps joined and refused). */
  log: (line: string) => void;
  /** Ends the worker: its jobs stop and run again elsewhere once their locks expire. */
  signal: AbortSignal;
}

/** The compiled processor BullMQ forks for each job slot. */
const PROCESSOR = fileURLToPath(new URL('./processor.js', import.meta.url));

/**
 * `pn worker`: takes jobs from every active sweep in the queue whose coordinator runs this
 * project's version (others are named once and left alone), until `signal` aborts.
 */
export async function runWorker(options: WorkerOptions): Promise<void> {
  const { url, log } = options;
  await checkQueue(url);
  // BullMQ forks the processor with this process's environment.
  process.env.TFJS_ONEDNN_THREADS = String(options.threads);
  process.env.PN_SWEEP_QUEUE_URL = url;
  process.env.PN_WORKER_PID = String(process.pid);
  const version = projectVersion();
  const name = `${hostname()}:${process.pid}`;
  log(
    `worker ${name} (version ${version}, ${options.threads} thread(s) per job, ${options.concurrency} job(s) at once)`,
  );
  const registry = redisClient(url);
  const serving = new Map<string, Worker>();
  const refused = new Set<string>();
  let unreachable = false;

  const describe = (job: Job) => {
    const payload = jobPayloadSchema.safeParse(job.data);
    const data = payload.success ? (payload.data as JobPayload) : undefined;
    return data ? `${data.experiment} ${data.method} seeds ${formatSeeds(data.seeds)}` : 'an invalid job';
  };

  const serve = (sweep: string) => {
    const worker = new Worker(queueName(sweep), PROCESSOR, {
      connection: bullConnection(url),
      prefix: PREFIX,
      name,
      concurrency: options.concurrency,
      lockDuration: options.stallSeconds * 1000,
      stalledInterval: (options.stallSeconds * 1000) / 2,
      maxStalledCount: 3,
      useWorkerThreads: false,
    });
    worker.on('active', (job) => log(`sweep ${sweep}: job ${job.id} started (${describe(job)})`));
    worker.on('completed', (job) =>
      log(
        `sweep ${sweep}: job ${job.id} done in ${(((job.finishedOn ?? 0) - (job.processedOn ?? 0)) / 1000).toFixed(1)} s`,
      ),
    );
    worker.on('failed', (job, error) =>
      log(
        `sweep ${sweep}: job ${job?.id ?? '?'} failed (attempt ${job?.attemptsMade ?? '?'}): ${error.message.split('\n')[0]}`,
      ),
    );
    // Connection errors are retried by the client; they are reported once by the registry poll.
    worker.on('error', () => {});
    serving.set(sweep, worker);
    log(`sweep ${sweep}: taking its jobs`);
  };

  const poll = async () => {
    let entries: Record<string, string>;
    try {
      entries = await registry.hgetall(REGISTRY);
    } catch (error) {
      if (!unreachable) log(`queue unreachable (${(error as Error).message}); retrying`);
      unreachable = true;
      return;
    }
    if (unreachable) log('queue reachable again');
    unreachable = false;
    for (const [sweep, text] of Object.entries(entries)) {
      if (serving.has(sweep) || refused.has(sweep)) continue;
      let entry: ReturnType<typeof sweepEntrySchema.parse>;
      try {
        entry = sweepEntrySchema.parse(JSON.parse(text));
      } catch {
        refused.add(sweep);
        log(`sweep ${sweep}: its registry entry is not one pn sweep writes; taking none of its jobs`);
        continue;
      }
      if (entry.version !== version) {
        refused.add(sweep);
        log(
          `sweep ${sweep} (${entry.experiment}, coordinator on ${entry.host}) runs version ${entry.version}, this worker ${version}: ` +
            'taking none of its jobs (set up the same commit here, or start the sweep from this one)',
        );
        continue;
      }
      serve(sweep);
    }
    for (const [sweep, worker] of serving) {
      if (sweep in entries) continue;
      serving.delete(sweep);
      log(`sweep ${sweep}: gone from the registry (collected, cancelled, or Redis lost it); leaving it`);
      await worker.close(true);
    }
  };

  try {
    while (!options.signal.aborted) {
      await poll();
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => {
          options.signal.removeEventListener('abort', wake);
          resolve();
        }, REGISTRY_POLL_MS);
        options.signal.addEventListener('abort', wake, { once: true });
      });
    }
  } finally {
    registry.disconnect();
  }
}
