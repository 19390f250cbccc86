import { Command } from 'commander';
import { resolveConfig } from '../../experiments/index.js';
import { defaultOutDir, positiveInteger } from '../options.js';
import { execute, jobsOption } from './run.js';

/** The experiment `pn demo` runs. */
export const DEMO_EXPERIMENT = 'kink';

export function demoCommand(): Command {
  return (
    new Command('demo')
      .description(
        `the ${DEMO_EXPERIMENT} experiment at demo size (under 2 minutes): a table per method and an HTML report`,
      )
      .option('--out <dir>', `run directory (default runs/<time>-${DEMO_EXPERIMENT})`)
      .option('--seeds <n>', 'number of seeds', positiveInteger('--seeds'))
      // Its methods train for seconds: on two cores a process each cost more than it saved
      // (8.3–9.0 s in one process against 9.0–10.0 s in two, interleaved).
      .addOption(jobsOption('1'))
      .action(async (options: { out?: string; seeds?: number; jobs?: number }) => {
        const run = resolveConfig(DEMO_EXPERIMENT, 'quick', options.seeds);
        await execute(run, options.out ?? defaultOutDir(DEMO_EXPERIMENT), false, options.jobs ?? 1);
      })
  );
}
