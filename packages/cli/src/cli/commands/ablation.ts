import { Command, Option } from 'commander';
import { ablationTable, PRESETS, resolveConfig, runAblation } from '../../experiments/index.js';
import { writeFileAtomic } from '../../io/files.js';
import { initBackend } from '../backend.js';
import { choiceList, collect, defaultOutDir, numberList, positiveInteger } from '../options.js';
import { progressReporter } from '../progress.js';

/** The experiment `pn ablation` ablates when none is named. */
export const ABLATION_EXPERIMENT = 'kink';

interface AblationFlags {
  preset: string;
  seeds?: number;
  lambdas: string;
  kinds: string;
  granularities: string;
  set: string[];
  out?: string;
}

export function ablationCommand(): Command {
  return new Command('ablation')
    .description(
      'penalty ablation: every kind × granularity × λ against reinit on the same seeds, as a Markdown table (each setting is a run below --out)',
    )
    .argument('[experiment]', 'any experiment', ABLATION_EXPERIMENT)
    .addOption(new Option('--preset <preset>', 'preset the settings come from').choices(PRESETS).default('quick'))
    .option('--seeds <n>', 'number of seeds (1..n; --set firstSeed=k starts at k)', positiveInteger('--seeds'))
    .option('--lambdas <list>', 'comma-separated λ values', '0.01,0.03,0.1,0.3')
    .option('--kinds <list>', 'comma-separated penalty kinds', 'distance,inverse,gaussian')
    .option('--granularities <list>', 'comma-separated granularities', 'global,layer,neuron')
    .option('--set <key=value>', 'override a config value (repeatable)', collect, [])
    .option(
      '--out <dir>',
      'where the runs and ablation.md go; an earlier ablation there continues (default runs/<time>-ablation-<experiment>)',
    )
    .action(async (name: string, options: AblationFlags) => {
      const run = resolveConfig(name, options.preset, options.seeds, options.set);
      const grid = {
        kinds: choiceList(options.kinds, ['distance', 'inverse', 'gaussian'] as const, '--kinds'),
        granularities: choiceList(options.granularities, ['global', 'layer', 'neuron'] as const, '--granularities'),
        lambdas: numberList(options.lambdas, '--lambdas', 'positive numbers', (n) => n > 0),
      };
      const outDir = options.out ?? defaultOutDir(`ablation-${name}`);
      await initBackend();
      const progress = progressReporter(36);
      try {
        const { metric, rows } = await runAblation(run, grid, {
          outDir,
          onProgress: (label, method, done, total) => progress.onProgress(`${label} ${method}`, done, total),
        });
        progress.stop();
        const table = ablationTable(rows, metric);
        writeFileAtomic(`${outDir}/ablation.md`, `${table}\n`);
        process.stdout.write(`${table}\n\nruns and table: ${outDir}\n`);
      } finally {
        progress.stop();
      }
    });
}
