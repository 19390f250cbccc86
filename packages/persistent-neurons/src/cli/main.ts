import { join } from 'node:path';
import { SingleBar } from 'cli-progress';
import { Command, CommanderError, Option } from 'commander';
import { benchTable, runBench } from '../bench/bench.js';
import { WORKLOADS, type WorkloadName } from '../bench/workloads.js';
import type { Method } from '../core/index.js';
import {
  ablationTable,
  experiments,
  loadRunConfig,
  PRESETS,
  type ResolvedRun,
  rerenderReport,
  resolveConfig,
  runExperiment,
  runKinkAblation,
  UsageError,
} from '../experiments/index.js';
import type { KinkConfig } from '../experiments/kink.js';
import { writeFileAtomic } from '../io/files.js';
import { initBackend } from './backend.js';
import { summaryTable } from './format.js';

function defaultOutDir(experiment: string): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return join('runs', `${stamp}-${experiment}`);
}

/** A bar per method on a terminal; one line per finished method elsewhere (logs, CI). */
function progressReporter(): { onProgress: (method: Method, done: number, total: number) => void; stop: () => void } {
  const tty = process.stderr.isTTY;
  let bar: SingleBar | undefined;
  let current: Method | undefined;
  const started = Date.now();
  return {
    onProgress(method, done, total) {
      if (method !== current) {
        bar?.stop();
        current = method;
        if (tty) {
          bar = new SingleBar({
            format: `${method.padEnd(21)} {bar} {percentage}% | {eta_formatted} left`,
            stream: process.stderr,
          });
          bar.start(total, done);
        }
      }
      bar?.update(done);
      if (!tty && done === total)
        process.stderr.write(`${method}: done (${((Date.now() - started) / 1000).toFixed(1)} s)\n`);
    },
    stop: () => bar?.stop(),
  };
}

async function execute(run: ResolvedRun, outDir: string, resume: boolean): Promise<void> {
  const backend = await initBackend();
  const progress = progressReporter();
  const onStart = () =>
    process.stderr.write(
      `${run.experiment.name} (${run.preset}): ${run.config.seeds} seeds on tfjs ${backend} → ${outDir}\n`,
    );
  try {
    const onWarning = (message: string) => process.stderr.write(`pn: ${message}\n`);
    const results = await runExperiment(run, { outDir, resume, onProgress: progress.onProgress, onStart, onWarning });
    progress.stop();
    process.stdout.write(`\n${summaryTable(results)}\n\n`);
    const { linearFitMse: linear, trajectories } = results.details as {
      linearFitMse?: number;
      trajectories?: { method: string; iteration: number; points: [number, number][]; endLoss: number | null }[];
    };
    for (const t of trajectories?.filter((t) => t.method === 'persistent') ?? []) {
      const [x, y] = t.points.at(-1) ?? [Number.NaN, Number.NaN];
      process.stdout.write(
        `persistent trajectory ${t.iteration + 1} (seed 1): ends at (${x.toFixed(3)}, ${y.toFixed(3)}), loss ${t.endLoss?.toFixed(4)}\n`,
      );
    }
    if (linear !== undefined)
      process.stdout.write(
        `best linear fit: val mse ${linear.toPrecision(4)}; success = below ${results.metric.successThreshold?.toPrecision(4)}\n`,
      );
    process.stdout.write(`results: ${join(outDir, 'results.json')}\nreport:  ${join(outDir, 'report.html')}\n`);
  } finally {
    progress.stop();
  }
}

function parseList<T extends string>(text: string, allowed: readonly T[], flag: string): T[] {
  const items = text.split(',');
  const bad = items.find((item) => !allowed.includes(item as T));
  if (bad !== undefined) throw new UsageError(`${flag}: unknown "${bad}"; choose from ${allowed.join(', ')}`);
  return items as T[];
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--seeds must be a positive integer, got "${value}"`);
  return n;
}

export function buildProgram(): Command {
  const program = new Command('pn')
    .description('Persistent Neurons (Min, 2020) on TensorFlow.js: run the experiments, read the reports.')
    .exitOverride()
    .configureOutput({ writeErr: (text) => process.stderr.write(text) });

  program
    .command('demo')
    .description('the kink experiment at demo size (under 2 minutes): a table per method and an HTML report')
    .option('--out <dir>', 'run directory (default runs/<time>-kink)')
    .option('--seeds <n>', 'number of seeds', positiveInt)
    .action(async (options: { out?: string; seeds?: number }) => {
      const run = resolveConfig('kink', 'quick', options.seeds);
      await execute(run, options.out ?? defaultOutDir('kink'), false);
    });

  program
    .command('run')
    .description('run an experiment into its own directory')
    .argument('<experiment>', `one of: ${Object.keys(experiments).join(', ')}`)
    .addOption(new Option('--preset <preset>', 'size').choices(PRESETS).default('quick'))
    .option('--seeds <n>', 'number of seeds (1..n)', positiveInt)
    .option('--out <dir>', 'run directory (default runs/<time>-<experiment>)')
    .option('--set <key=value>', 'override a config value, e.g. penalty.lambda=0.05 (repeatable)', collect, [])
    .option('--resume <dir>', 'continue a stopped run from its last checkpoint')
    .option(
      '--data-dir <dir>',
      'the data directory: MNIST format for lenet5-init, CIFAR-10 binary or MNIST format for alexnet and resnet (default: Debian Fashion-MNIST)',
    )
    .action(
      async (
        name: string,
        options: { preset: string; seeds?: number; out?: string; set: string[]; resume?: string; dataDir?: string },
      ) => {
        if (options.resume) {
          const saved = loadRunConfig(options.resume);
          if (saved.experiment.name !== name)
            throw new UsageError(`${options.resume} holds a ${saved.experiment.name} run, not ${name}`);
          if (options.set.length || options.seeds !== undefined || options.out || options.dataDir)
            throw new UsageError('--resume continues the saved config; drop --set, --seeds, --out and --data-dir');
          await execute(saved, options.resume, true);
          return;
        }
        const sets = [...options.set];
        if (options.dataDir !== undefined) {
          const data = (experiments[name]?.presets.quick as unknown as { data?: { dir?: unknown } } | undefined)?.data;
          if (experiments[name] && typeof data?.dir !== 'string')
            throw new UsageError(`--data-dir: ${name} reads no data files`);
          sets.push(`data.dir=${JSON.stringify(options.dataDir)}`);
        }
        const run = resolveConfig(name, options.preset, options.seeds, sets);
        await execute(run, options.out ?? defaultOutDir(name), false);
      },
    );

  program
    .command('ablation')
    .description('kink penalty ablation: every kind × granularity × λ against reinit, as a Markdown table')
    .addOption(new Option('--preset <preset>', 'kink preset the settings come from').choices(PRESETS).default('quick'))
    .option('--seeds <n>', 'number of seeds (1..n)', positiveInt)
    .option('--lambdas <list>', 'comma-separated λ values', '0.01,0.03,0.1,0.3')
    .option('--kinds <list>', 'comma-separated penalty kinds', 'distance,inverse,gaussian')
    .option('--granularities <list>', 'comma-separated granularities', 'global,layer,neuron')
    .option('--set <key=value>', 'override a kink config value (repeatable)', collect, [])
    .option('--out <file>', 'also write the table to this Markdown file')
    .action(
      async (options: {
        preset: string;
        seeds?: number;
        lambdas: string;
        kinds: string;
        granularities: string;
        set: string[];
        out?: string;
      }) => {
        const run = resolveConfig('kink', options.preset, options.seeds, options.set);
        const grid = {
          kinds: parseList(options.kinds, ['distance', 'inverse', 'gaussian'] as const, '--kinds'),
          granularities: parseList(options.granularities, ['global', 'layer', 'neuron'] as const, '--granularities'),
          lambdas: options.lambdas.split(',').map((text) => {
            const lambda = Number(text);
            if (!(lambda > 0)) throw new UsageError(`--lambdas takes positive numbers, got "${text}"`);
            return lambda;
          }),
        };
        await initBackend();
        const started = Date.now();
        const rows = runKinkAblation(run.config as KinkConfig, grid, (label, done, total) => {
          if (done === total)
            process.stderr.write(`${label}: done (${((Date.now() - started) / 1000).toFixed(0)} s)\n`);
        });
        const table = ablationTable(rows);
        if (options.out) writeFileAtomic(options.out, `${table}\n`);
        process.stdout.write(`${table}\n`);
      },
    );

  program
    .command('bench')
    .description('training-step time of the workloads on onednn, tfjs cpu and PyTorch, side by side')
    .option('--threads <list>', 'thread counts, comma-separated (same on every side)', '1,2')
    .option(
      '--workloads <list>',
      `comma-separated, from ${Object.keys(WORKLOADS).join(', ')}`,
      Object.keys(WORKLOADS).join(','),
    )
    .option('--steps <n>', 'timed steps (the median is reported)', positiveInt, 10)
    // V8 compiles the hot JavaScript over the first steps: a LeNet-5 step takes 13–29 ms in steps
    // 1–8 and 9–11 ms from step 9 on. PyTorch gets the same warm-up.
    .option('--warm-up <n>', 'untimed steps first, on onednn and PyTorch alike', positiveInt, 10)
    .option('--no-cpu', 'skip the tfjs cpu backend')
    .option('--json', 'print only one JSON object on stdout')
    .action(
      (options: {
        threads: string;
        workloads: string;
        steps: number;
        warmUp: number;
        cpu: boolean;
        json?: boolean;
      }) => {
        const threads = options.threads.split(',').map((text) => {
          const n = Number(text);
          if (!Number.isInteger(n) || n < 1) throw new UsageError(`--threads takes positive integers, got "${text}"`);
          return n;
        });
        const workloads = parseList(options.workloads, Object.keys(WORKLOADS) as WorkloadName[], '--workloads');
        const result = runBench({
          workloads,
          threads,
          steps: options.steps,
          warmUp: options.warmUp,
          noCpu: !options.cpu,
          cpuBudgetMs: 60_000,
          log: (line) => process.stderr.write(`${line}\n`),
        });
        process.stdout.write(options.json ? `${JSON.stringify(result)}\n` : `\n${benchTable(result.rows)}\n`);
      },
    );

  program
    .command('list')
    .description('the experiments and their presets')
    .action(() => {
      for (const experiment of Object.values(experiments)) {
        process.stdout.write(`${experiment.name}: ${experiment.description}\n`);
        for (const preset of PRESETS) {
          const c = experiment.presets[preset];
          process.stdout.write(
            `  ${preset.padEnd(6)} ${c.seeds} seeds, K=${c.iterations}, E=${c.epochs}, ${c.optimizer.name}\n`,
          );
        }
      }
    });

  program
    .command('report')
    .description('re-render report.html from a run directory')
    .argument('<run-dir>')
    .action(async (dir: string) => {
      process.stdout.write(`${await rerenderReport(dir)}\n`);
    });
  return program;
}

/** Exit codes: 0 done, 2 a usage or config problem (one line, no stack), 1 anything else. */
export async function main(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv, { from: 'user' });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.exitCode === 0)
        return 0;
      return 2; // commander already printed the one-line reason
    }
    if (error instanceof UsageError) {
      process.stderr.write(`pn: ${error.message}\n`);
      return 2;
    }
    process.stderr.write(`pn: ${(error as Error).message}\n`);
    if (process.env.PN_DEBUG) process.stderr.write(`${(error as Error).stack}\n`);
    return 1;
  }
}
