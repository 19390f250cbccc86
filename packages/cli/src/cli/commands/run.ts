import { join } from 'node:path';
import { Command, Option } from 'commander';
import {
  experiments,
  loadRunConfig,
  PRESETS,
  type ResolvedRun,
  resolveConfig,
  runExperiment,
  summaryLines,
  UsageError,
} from '../../experiments/index.js';
import { defaultJobs, threadsPerJob } from '../../experiments/processes.js';
import { initBackend } from '../backend.js';
import { summaryTable } from '../format.js';
import { collect, dataDirSets, defaultOutDir, positiveInteger } from '../options.js';
import { progressReporter } from '../progress.js';

/**
 * Runs (or resumes) an experiment into `outDir` with progress bars, then prints its summary;
 * `jobs` methods at once, each in a process of its own (default: one per method, at most one per core).
 */
export async function execute(run: ResolvedRun, outDir: string, resume: boolean, jobs?: number): Promise<void> {
  const backend = await initBackend();
  const progress = progressReporter();
  const processes = Math.min(jobs ?? defaultJobs(run.config), run.config.methods.length);
  const where = processes > 1 ? `, ${processes} methods at once (${threadsPerJob(processes)} thread(s) each)` : '';
  const onStart = () =>
    process.stderr.write(
      `${run.experiment.name} (${run.preset}): ${run.config.seeds} seeds on tfjs ${backend}${where} → ${outDir}\n`,
    );
  try {
    const onWarning = (message: string) => process.stderr.write(`pn: ${message}\n`);
    const results = await runExperiment(run, {
      outDir,
      resume,
      onProgress: progress.onProgress,
      onStart,
      onWarning,
      jobs: processes,
    });
    progress.stop();
    const lines = [summaryTable(results), '', ...summaryLines(results)];
    process.stdout.write(`\n${lines.join('\n')}\n`);
    process.stdout.write(`results: ${join(outDir, 'results.json')}\nreport:  ${join(outDir, 'report.html')}\n`);
  } finally {
    progress.stop();
  }
}

interface RunFlags {
  preset: string;
  seeds?: number;
  out?: string;
  set: string[];
  resume?: string;
  dataDir?: string;
  jobs?: number;
}

/** `--jobs`, shared by pn run and pn demo (whose default is given). */
export const jobsOption = (defaultText = 'one per method, at most one per core') =>
  new Option(
    '--jobs <n>',
    `methods trained at once, each in a process of its own with the cores shared out (default: ${defaultText}; 1: all in this process)`,
  ).argParser(positiveInteger('--jobs'));

export function runCommand(): Command {
  return new Command('run')
    .description('run an experiment into its own directory, or continue one with --resume')
    .argument('[experiment]', `one of: ${Object.keys(experiments).join(', ')} (not needed with --resume)`)
    .addOption(new Option('--preset <preset>', 'size').choices(PRESETS).default('quick'))
    .option('--seeds <n>', 'number of seeds (1..n; --set firstSeed=k starts at k)', positiveInteger('--seeds'))
    .option('--out <dir>', 'run directory (default runs/<time>-<experiment>)')
    .option('--set <key=value>', 'override a config value, e.g. penalty.lambda=0.05 (repeatable)', collect, [])
    .option('--resume <dir>', 'continue a stopped run from its last checkpoint')
    .addOption(jobsOption())
    .option(
      '--data-dir <dir>',
      'the directory of the data files the experiment reads (the format is in pn list; default: Debian Fashion-MNIST)',
    )
    .action(async (name: string | undefined, options: RunFlags) => {
      if (options.resume) {
        const saved = loadRunConfig(options.resume);
        if (name !== undefined && saved.experiment.name !== name)
          throw new UsageError(`${options.resume} holds a ${saved.experiment.name} run, not ${name}`);
        if (options.set.length || options.seeds !== undefined || options.out || options.dataDir)
          throw new UsageError('--resume continues the saved config; drop --set, --seeds, --out and --data-dir');
        await execute(saved, options.resume, true, options.jobs);
        return;
      }
      if (name === undefined)
        throw new UsageError(`name an experiment (${Object.keys(experiments).join(', ')}) or give --resume DIR`);
      const sets = [...options.set, ...dataDirSets(name, options.dataDir)];
      const run = resolveConfig(name, options.preset, options.seeds, sets);
      await execute(run, options.out ?? defaultOutDir(name), false, options.jobs);
    });
}
