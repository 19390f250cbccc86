/**
 * A child process of `pn run --jobs N` (experiments/processes.ts): trains the methods of one
 * message's config (one method) into the run directory, as `experiment.run` does in process, and
 * sends back progress, warnings and its output. Its stderr reaches the parent's error message.
 */
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../cli/backend.js';
import { UsageError } from '../io/errors.js';
import { environment } from './environment.js';
import type { ChildMessage, ParentMessage } from './processes.js';
import { experiments } from './registry.js';
import { prepareData, validate } from './run.js';

/** Progress goes to the parent at most this often (and always at a method's end). */
const PROGRESS_MS = 100;

const send = (message: ChildMessage) =>
  new Promise<void>((resolve, reject) => {
    process.send?.(message, undefined, {}, (error) => (error ? reject(error) : resolve()));
  });

async function serve({ experiment: name, config: raw, outDir }: ParentMessage): Promise<ChildMessage> {
  const experiment = experiments[name];
  if (!experiment) throw new UsageError(`no experiment "${name}" in this process`);
  const config = validate(experiment, raw);
  await initBackend();
  const prepared = prepareData(experiment, config);
  let sent = 0;
  const output = await experiment.run(config, {
    outDir,
    prepared,
    scopes: experiment.scopes?.(config),
    onProgress: (method, done, total) => {
      const now = Date.now();
      if (now - sent < PROGRESS_MS && done < total) return;
      sent = now;
      void send({ type: 'progress', method, done, total });
    },
    onWarning: (message) => void send({ type: 'warning', message }),
  });
  tf.dispose(prepared as tf.TensorContainer);
  return { type: 'done', output, environment: environment() };
}

if (!process.send) {
  process.stderr.write('method-process: run by pn run --jobs, with an IPC channel\n');
  process.exit(2);
}
// Gone parent (its end of the channel closed): nothing left to train for.
process.on('disconnect', () => process.exit(1));
process.once('message', (message: ParentMessage) => {
  serve(message)
    .catch(
      (error: unknown): ChildMessage => ({
        type: 'error',
        message: error instanceof Error ? error.message : String(error),
        usage: error instanceof UsageError,
        stack: error instanceof Error && !(error instanceof UsageError) ? error.stack : undefined,
      }),
    )
    .then(send)
    .then(
      () => process.exit(0),
      () => process.exit(1),
    );
});
void send({ type: 'ready' });
