import type { BackendChoice, Job, Reply, Request } from './messages.js';

/** Replies a job streams to the page; `backend`, `error` and `done` are handled by `TrainingWorker`. */
export type JobReply = Exclude<Reply, { type: 'backend' | 'error' | 'done' }>;

/**
 * The page's handle on one tfjs worker, which runs one job at a time. `stop` ends a job midway by
 * terminating the worker, which frees everything the job held at once; the next job starts a
 * fresh one.
 */
export class TrainingWorker {
  private worker: Worker | null = null;
  private settle: ((outcome: 'done' | 'stopped' | Error) => void) | null = null;

  constructor(
    private readonly backend: BackendChoice,
    private readonly onBackend: (name: string) => void,
  ) {}

  /** Runs `job`, handing its replies to `onReply`; resolves when it is done or stopped, rejects if it failed. */
  run(job: Job, onReply: (reply: JobReply) => void): Promise<'done' | 'stopped'> {
    if (this.settle) throw new Error('this worker is already running a job');
    const worker = this.worker ?? this.start();
    return new Promise((resolve, reject) => {
      this.settle = (outcome) => {
        this.settle = null;
        worker.onmessage = null;
        if (outcome instanceof Error) reject(outcome);
        else resolve(outcome);
      };
      let failure: Error | null = null;
      worker.onmessage = ({ data: reply }: MessageEvent<Reply>) => {
        if (reply.type === 'error') failure = new Error(reply.message);
        else if (reply.type === 'done') this.settle?.(failure ?? 'done');
        else if (reply.type !== 'backend') {
          try {
            onReply(reply);
          } catch (error) {
            // The page could not take a reply: end the job, which the worker would otherwise go on with.
            this.stop(error instanceof Error ? error : new Error(String(error)));
          }
        }
      };
      worker.postMessage(job satisfies Request);
    });
  }

  /** Runs a job that answers with one reply of type `type`, and returns that reply. */
  async ask<T extends JobReply['type']>(job: Job, type: T): Promise<Extract<JobReply, { type: T }>> {
    const replies: JobReply[] = [];
    await this.run(job, (reply) => replies.push(reply));
    const answer = replies.find((reply): reply is Extract<JobReply, { type: T }> => reply.type === type);
    if (!answer) throw new Error(`the worker answered ${job.type} with no ${type} reply`);
    return answer;
  }

  /** Ends the running job, if any: its promise resolves to 'stopped', or rejects with `failure`. */
  stop(failure?: Error): void {
    this.worker?.terminate();
    this.worker = null;
    this.settle?.(failure ?? 'stopped');
  }

  private start(): Worker {
    const worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' });
    worker.addEventListener('message', ({ data }: MessageEvent<Reply>) => {
      if (data.type === 'backend') this.onBackend(data.name);
    });
    // A worker that fails to load or throws outside a job: its job can never finish.
    worker.addEventListener('error', (event) => {
      worker.terminate();
      this.worker = null;
      this.settle?.(new Error(`the tfjs worker failed: ${event.message}`));
    });
    worker.postMessage({ type: 'start', backend: this.backend } satisfies Request);
    this.worker = worker;
    return worker;
  }
}
