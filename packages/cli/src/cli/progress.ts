import { MultiBar, type SingleBar } from 'cli-progress';

/**
 * A bar per task on a terminal (several at once where tasks run in parallel, `pn run --jobs`);
 * one line per finished task elsewhere (logs, CI).
 */
export function progressReporter(width = 21): {
  onProgress: (label: string, done: number, total: number) => void;
  stop: () => void;
} {
  const started = Date.now();
  const bars = new Map<string, SingleBar>();
  const finished = new Set<string>();
  let multi: MultiBar | undefined;
  return {
    onProgress(label, done, total) {
      if (!process.stderr.isTTY) {
        if (done < total || finished.has(label)) return;
        finished.add(label);
        process.stderr.write(`${label}: done (${((Date.now() - started) / 1000).toFixed(1)} s)\n`);
        return;
      }
      multi ??= new MultiBar({
        format: '{label} {bar} {percentage}% | {eta_formatted} left',
        stream: process.stderr,
        hideCursor: true,
      });
      const bar = bars.get(label) ?? multi.create(total, 0, { label: label.padEnd(width) });
      bars.set(label, bar);
      bar.update(done);
    },
    stop: () => multi?.stop(),
  };
}
