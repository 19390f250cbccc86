import { SingleBar } from 'cli-progress';

/** A bar per task on a terminal; one line per finished task elsewhere (logs, CI). */
export function progressReporter(width = 21): {
  onProgress: (label: string, done: number, total: number) => void;
  stop: () => void;
} {
  const tty = process.stderr.isTTY;
  let bar: SingleBar | undefined;
  let current: string | undefined;
  const started = Date.now();
  return {
    onProgress(label, done, total) {
      if (label !== current) {
        bar?.stop();
        current = label;
        if (tty) {
          bar = new SingleBar({
            format: `${label.padEnd(width)} {bar} {percentage}% | {eta_formatted} left`,
            stream: process.stderr,
          });
          bar.start(total, done);
        }
      }
      bar?.update(done);
      if (!tty && done === total)
        process.stderr.write(`${label}: done (${((Date.now() - started) / 1000).toFixed(1)} s)\n`);
    },
    stop: () => bar?.stop(),
  };
}
