/**
 * `pn run --jobs N`: the methods of a run trained at once in N child processes (a method's
 * training is independent of the others', so the run is the same; its numbers equal an in-process
 * run's at the children's thread count). Small networks leave all but one core idle in process;
 * this is how a run uses the others. Each child trains one method into the run directory (its
 * checkpoints and models are the method's own, so --resume works as in process) and sends back
 * its output, merged in the config's method order as a sweep merges its jobs.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { type Method, parseMethod } from 'persistent-neurons';
import { UsageError } from '../io/errors.js';
import { dyingWithParent, stopChild } from '../io/processes.js';
import type { Results } from '../report/results-schema.js';
import { mergeOutputs } from './merge.js';
import type { AnyExperiment } from './registry.js';
import type { CommonConfig, ExperimentOutput } from './types.js';

export interface ParentMessage {
  experiment: string;
  config: CommonConfig;
  outDir: string;
}

export type ChildMessage =
  | { type: 'ready' }
  | { type: 'progress'; method: Method; done: number; total: number }
  | { type: 'warning'; message: string }
  | { type: 'done'; output: ExperimentOutput<unknown>; environment: Results['environment'] }
  | { type: 'error'; message: string; usage: boolean; stack?: string };

const CHILD = fileURLToPath(new URL('./method-process.js', import.meta.url));

/** The processes `pn run` uses by default: one per method, at most one per core. */
export function defaultJobs(config: Pick<CommonConfig, 'methods'>): number {
  return Math.max(1, Math.min(config.methods.length, availableParallelism()));
}

/** Threads of the native backend per child: the cores shared out, at least one. */
export function threadsPerJob(jobs: number): number {
  return Math.max(1, Math.floor(availableParallelism() / jobs));
}

export interface ProcessRunOptions {
  outDir: string;
  jobs: number;
  onProgress?: (method: Method, done: number, total: number) => void;
  onWarning?: (message: string) => void;
}

/** What the run hands back: the merged output, and the environment its children trained in. */
export async function runMethodsInProcesses(
  experiment: AnyExperiment,
  config: CommonConfig,
  options: ProcessRunOptions,
): Promise<{ output: ExperimentOutput<unknown>; environment: Results['environment'] }> {
  const jobs = Math.min(options.jobs, config.methods.length);
  const threads = threadsPerJob(jobs);
  // The costliest first, so that the last to start are short: a persistent method adds the
  // penalty to K trajectories, standard-long and reinit train K, standard one.
  const cost = (method: Method) => (parseMethod(method)?.method === 'persistent' ? 3 : method === 'standard' ? 1 : 2);
  const order = [...config.methods].sort((a, b) => cost(b) - cost(a));
  const outputs = new Map<Method, { output: ExperimentOutput<unknown>; environment: Results['environment'] }>();
  const running = new Set<ChildProcess>();
  let failure: Error | undefined;
  // The first failure stops the other methods; their checkpoints stay for --resume.
  const fail = (error: Error) => {
    failure ??= error;
    for (const child of running) void stopChild(child, 'SIGTERM', 5000);
  };

  const trainOne = (method: Method) =>
    new Promise<void>((resolve) => {
      const [command, ...args] = dyingWithParent([process.execPath, CHILD], 'TERM');
      const child = spawn(command, args, {
        stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
        serialization: 'advanced',
        // PN_RUN_DIR names the run a process belongs to (ps e, /proc/<pid>/environ).
        env: {
          ...process.env,
          TFJS_ONEDNN_THREADS: String(threads),
          TFJS_ONEDNN_QUIET: '1',
          PN_RUN_DIR: options.outDir,
        },
      });
      running.add(child);
      let stderr = '';
      child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
        stderr = (stderr + chunk).slice(-4000);
      });
      let answer: ChildMessage | undefined;
      child.on('message', (message: ChildMessage) => {
        if (message.type === 'ready')
          child.send({ experiment: experiment.name, config: { ...config, methods: [method] }, outDir: options.outDir });
        else if (message.type === 'progress') options.onProgress?.(message.method, message.done, message.total);
        else if (message.type === 'warning') options.onWarning?.(message.message);
        else answer = message;
      });
      child.once('error', (error) => {
        fail(new Error(`${method}: could not start its process (${error.message})`));
      });
      child.once('exit', (code, signal) => {
        running.delete(child);
        if (answer?.type === 'done') outputs.set(method, { output: answer.output, environment: answer.environment });
        else if (answer?.type === 'error')
          fail(
            answer.usage
              ? new UsageError(answer.message)
              : Object.assign(new Error(`${method}: ${answer.message}`), { stack: answer.stack }),
          );
        else
          fail(
            new Error(
              `${method}: its process ended (${signal ?? `exit ${code}`}) before it finished` +
                `${stderr.trim() ? `: ${stderr.trim().split('\n').slice(-3).join(' / ')}` : ''}`,
            ),
          );
        resolve();
      });
    });

  const queue = [...order];
  const lane = async () => {
    for (let method = queue.shift(); method !== undefined && !failure; method = queue.shift()) await trainOne(method);
  };
  const lanes = Array.from({ length: jobs }, lane);
  try {
    await Promise.all(lanes);
  } finally {
    await Promise.all([...running].map((child) => stopChild(child, 'SIGTERM', 5000)));
  }
  if (failure) throw failure;
  const parts = config.methods.map((method) => outputs.get(method) as NonNullable<ReturnType<typeof outputs.get>>);
  return {
    output: mergeOutputs(
      experiment,
      parts.map((part) => part.output),
    ),
    environment: { ...parts[0].environment, processes: jobs },
  };
}
