import { Command } from 'commander';
import { UsageError } from '../../experiments/index.js';
import { positiveInteger } from '../options.js';

interface WorkerFlags {
  queue?: string;
  threads: number;
  concurrency: number;
  stallSeconds: number;
}

export function workerCommand(): Command {
  return new Command('worker')
    .description(
      'take jobs of pn sweep from a queue (any machine with the project set up at the same version) until stopped',
    )
    .option('--queue <url>', 'the queue: redis://[:password@]host:port (default: $PN_QUEUE)')
    .option('--threads <n>', 'threads per job (TFJS_ONEDNN_THREADS)', positiveInteger('--threads'), 1)
    .option(
      '--concurrency <n>',
      'jobs at once (of each sweep it serves), each in a process of its own',
      positiveInteger('--concurrency'),
      1,
    )
    .option(
      '--stall-seconds <s>',
      'a job whose worker stops renewing its lock (killed, machine gone) runs again elsewhere after this long',
      positiveInteger('--stall-seconds'),
      30,
    )
    .action(async (options: WorkerFlags) => {
      const url = options.queue ?? process.env.PN_QUEUE;
      if (!url) throw new UsageError('pn worker needs --queue redis://[:password@]host:port (or PN_QUEUE)');
      // BullMQ and ioredis load only for the commands that use them.
      const { runWorker } = await import('../../sweep/worker.js');
      const stop = new AbortController();
      let signalled: NodeJS.Signals | undefined;
      const onSignal = (signal: NodeJS.Signals) => {
        signalled = signal;
        stop.abort();
      };
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      await runWorker({
        url,
        threads: options.threads,
        concurrency: options.concurrency,
        stallSeconds: options.stallSeconds,
        log: (line) => process.stderr.write(`pn worker: ${line}\n`),
        signal: stop.signal,
      });
      // Jobs in flight stop with this process (their children follow it) and run again elsewhere
      // once their locks expire; waiting for them would keep a stopped machine busy.
      process.stderr.write(`pn worker: stopped (${signalled ?? 'done'}); jobs in flight run again elsewhere\n`);
      process.exit(signalled === 'SIGINT' ? 130 : 143);
    });
}
