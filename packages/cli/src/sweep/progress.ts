import { MultiBar, type SingleBar } from 'cli-progress';

export interface WorkerStatus {
  /** host:pid */
  name: string;
  done: number;
  failed: number;
  /** The job it runs now and how far (SGD steps), if any. */
  running: { label: string; done: number; total: number } | null;
}

export interface SweepStatus {
  points: { done: number; failed: number; total: number };
  jobs: { done: number; running: number; failed: number; total: number };
  workers: WorkerStatus[];
}

export interface SweepDisplay {
  /** One event (a job started, done or failed, a point written, the queue lost or back). */
  line(text: string): void;
  update(status: SweepStatus): void;
  stop(): void;
}

/**
 * Progress of a sweep on stderr: on a terminal, a bar for the jobs and one per worker (its job
 * and how far it is); elsewhere (logs, CI), one line per event.
 */
export function sweepDisplay(stream: NodeJS.WriteStream = process.stderr): SweepDisplay {
  if (!stream.isTTY) {
    return { line: (text) => stream.write(`${text}\n`), update: () => {}, stop: () => {} };
  }
  const multi = new MultiBar(
    { stream, hideCursor: true, clearOnComplete: false, format: '{label} {bar} {value}/{total} {info}', barsize: 24 },
    undefined,
  );
  let jobs: SingleBar | undefined;
  const workers = new Map<string, SingleBar>();
  let width = 20;
  return {
    line: (text) => multi.log(`${text}\n`),
    update(status) {
      const s = status.jobs;
      const info =
        `jobs (${s.running} running${s.failed ? `, ${s.failed} failed` : ''}) · ` +
        `points ${status.points.done}/${status.points.total}${status.points.failed ? ` (${status.points.failed} failed)` : ''}`;
      width = Math.max(width, ...status.workers.map((w) => w.name.length));
      jobs ??= multi.create(s.total, 0, { label: 'sweep'.padEnd(width), info });
      jobs.setTotal(s.total);
      jobs.update(s.done + s.failed, { label: 'sweep'.padEnd(width), info });
      for (const worker of status.workers) {
        const running = worker.running;
        const payload = {
          label: worker.name.padEnd(width),
          info: `${running ? running.label : 'idle'} · ${worker.done} done${worker.failed ? `, ${worker.failed} failed` : ''}`,
        };
        let bar = workers.get(worker.name);
        if (!bar) {
          bar = multi.create(running?.total || 1, 0, payload);
          workers.set(worker.name, bar);
        }
        bar.setTotal(running?.total || 1);
        bar.update(running?.done ?? 0, payload);
      }
    },
    stop: () => multi.stop(),
  };
}
