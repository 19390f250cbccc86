import { join } from 'node:path';
import { Command, Option } from 'commander';
import { experiments, PRESETS, UsageError } from '../../experiments/index.js';
import { formatInterval, formatNumber, formatP, textTable, verdict } from '../../report/format.js';
import { resolveSweep } from '../../sweep/grid.js';
import { sweepDisplay } from '../../sweep/progress.js';
import type { SweepFile } from '../../sweep/state.js';
import type { GridStats } from '../../sweep/statistics.js';
import { initBackend } from '../backend.js';
import { collect, dataDirSets, defaultOutDir, positiveInteger } from '../options.js';

interface SweepFlags {
  preset: string;
  seeds?: number;
  grid: string[];
  set: string[];
  dataDir?: string;
  out?: string;
  queue?: string;
  workers?: number;
  resume?: string;
  status?: string;
  cancel?: string;
}

function nonNegativeInteger(flag: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0) throw new UsageError(`${flag} must be 0 or a positive integer, got "${value}"`);
    return n;
  };
}

/**
 * Per point and method: the validation metric over seeds and the paired differences to reinit and
 * standard-long (mean, 95% interval, p Holm-adjusted across the grid, verdict).
 */
export function sweepTable(sweep: SweepFile): string {
  const name = sweep.metric?.name ?? 'metric';
  const higher = sweep.metric?.higherIsBetter ?? false;
  const difference = (s: GridStats | undefined) => {
    if (!s || s.mean === null) return '';
    const found = verdict(s, higher);
    const mark = found === 'better' ? ' (better)' : found === 'worse' ? ' (worse)' : '';
    return `${formatNumber(s.mean)} ${formatInterval(s.ci95)} p ${formatP(s.pHolmGrid)}${mark}`;
  };
  const header = [
    'point',
    'method',
    `median val ${name}`,
    `mean ± std val ${name}`,
    '− reinit [95% CI] grid p',
    '− standard-long [95% CI] grid p',
  ];
  const rows: string[][] = [];
  for (const point of sweep.points) {
    if (point.status !== 'done') {
      rows.push([`${point.index}. ${point.label}`, point.status, '', '', '', '']);
      continue;
    }
    for (const [i, [method, s]] of Object.entries(point.summary ?? {}).entries()) {
      const vsReinit = point.pairedVsReinit?.[method]?.valMetric as GridStats | undefined;
      const vsLong = point.pairedVsStandardLong?.[method]?.valMetric as GridStats | undefined;
      rows.push([
        i === 0 ? `${point.index}. ${point.label}` : '',
        method,
        formatNumber(s.valMetric.median),
        `${formatNumber(s.valMetric.mean)} ± ${formatNumber(s.valMetric.std)}`,
        difference(vsReinit),
        difference(vsLong),
      ]);
    }
  }
  return `${textTable(header, rows)}\n(better / worse: the 95% interval excludes 0; grid p: Holm-adjusted across the grid's comparisons)`;
}

export function sweepCommand(): Command {
  return new Command('sweep')
    .description(
      'run an experiment over a grid of configs as jobs on a queue (BullMQ on Redis): local worker processes, or pn worker on other machines',
    )
    .argument('[experiment]', `one of: ${Object.keys(experiments).join(', ')}`)
    .addOption(new Option('--preset <preset>', 'size').choices(PRESETS).default('quick'))
    .option('--seeds <n>', 'number of seeds (1..n; --set firstSeed=k starts at k)', positiveInteger('--seeds'))
    .option(
      '--grid <key=v1,v2,…>',
      'a grid axis: the values of a config key (JSON where they parse; key=[…] takes a JSON array); repeatable, the sweep is every combination',
      collect,
      [],
    )
    .option('--set <key=value>', 'override a config value of every point (repeatable)', collect, [])
    .option('--data-dir <dir>', 'the data files (the same path and files on every worker)')
    .option('--out <dir>', 'sweep directory (default runs/<time>-sweep-<experiment>)')
    .option(
      '--queue <url>',
      'an existing queue, redis://[:password@]host:port, served by pn worker anywhere (default: $PN_QUEUE, else a private redis-server in the sweep directory)',
    )
    .option(
      '--workers <n>',
      'local worker processes, one thread each (default: one per core; none with --queue)',
      nonNegativeInteger('--workers'),
    )
    .option('--resume <dir>', 'continue a stopped sweep: restart its Redis or reattach to its queue, collect, go on')
    .option('--status <dir>', 'print where a sweep stands')
    .option(
      '--cancel <dir>',
      'stop a sweep and remove its queue; collected jobs stay (--resume enqueues the rest again)',
    )
    .action(async (name: string | undefined, options: SweepFlags) => {
      // BullMQ and ioredis load only for the commands that use them.
      const { cancelSweep, resumeSweep, startSweep, sweepStatus } = await import('../../sweep/coordinator.js');
      const { checkUrl } = await import('../../sweep/queue.js');
      const modes = ['resume', 'status', 'cancel'].filter((mode) => options[mode as keyof SweepFlags] !== undefined);
      if (modes.length > 1) throw new UsageError(`--${modes.join(' and --')} exclude each other`);
      const mode = modes[0];
      if (
        mode &&
        (name !== undefined ||
          options.grid.length ||
          options.set.length ||
          options.seeds ||
          options.out ||
          options.dataDir)
      )
        throw new UsageError(
          `--${mode} works on the saved sweep; drop the experiment, --grid, --set, --seeds, --out and --data-dir`,
        );
      if (mode === 'status') {
        for (const line of await sweepStatus(options.status as string)) process.stdout.write(`${line}\n`);
        return;
      }
      if (mode === 'cancel') {
        process.stdout.write(`${await cancelSweep(options.cancel as string)}\n`);
        return;
      }
      const queue = options.queue ?? process.env.PN_QUEUE;
      if (queue !== undefined) checkUrl(queue);
      let start: () => Promise<SweepFile>;
      let outDir: string;
      const stop = new AbortController();
      const display = sweepDisplay();
      const coordinator = { queue, workers: options.workers, display, signal: stop.signal };
      if (mode === 'resume') {
        outDir = options.resume as string;
        start = () => resumeSweep(outDir, coordinator);
      } else {
        if (name === undefined)
          throw new UsageError(`name an experiment (${Object.keys(experiments).join(', ')}) or give --resume DIR`);
        const sets = [...options.set, ...dataDirSets(name, options.dataDir)];
        const resolved = resolveSweep(name, options.preset, options.seeds, sets, options.grid);
        outDir = options.out ?? defaultOutDir(`sweep-${name}`);
        start = () => startSweep(resolved, outDir, coordinator);
      }
      await initBackend();
      let signalled: NodeJS.Signals | undefined;
      const onSignal = (signal: NodeJS.Signals) => {
        if (signalled) process.exit(signal === 'SIGINT' ? 130 : 143); // a second Ctrl-C: now (children follow)
        signalled = signal;
        display.line(
          `pn sweep: ${signal}: stopping the local workers and the queue (pn sweep --resume ${outDir} goes on)`,
        );
        stop.abort();
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      let sweep: SweepFile;
      try {
        sweep = await start();
      } finally {
        display.stop();
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
      if (signalled) {
        process.stderr.write(`pn sweep: stopped; continue with pn sweep --resume ${outDir}\n`);
        process.exit(signalled === 'SIGINT' ? 130 : 143);
      }
      process.stdout.write(`\n${sweepTable(sweep)}\n\n`);
      process.stdout.write(`sweep:   ${join(outDir, 'sweep.json')}\nreport:  ${join(outDir, 'report.html')}\n`);
      const failed = Object.entries(sweep.jobs).filter(([, job]) => job.status === 'failed');
      if (failed.length) {
        throw new Error(
          `${failed.length} job(s) failed (${failed[0][1].error?.split('\n')[0]}${failed.length > 1 ? '; all in sweep.json' : ''}); ` +
            `their points have no results; pn sweep --resume ${outDir} runs them again`,
        );
      }
    });
}
