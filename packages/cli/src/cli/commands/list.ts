import { Command } from 'commander';
import { experiments, PRESETS } from '../../experiments/index.js';

export function listCommand(): Command {
  return new Command('list').description('the experiments and their presets').action(() => {
    for (const experiment of Object.values(experiments)) {
      process.stdout.write(`${experiment.name}: ${experiment.description}\n`);
      for (const preset of PRESETS) {
        const c = experiment.presets[preset];
        process.stdout.write(
          `  ${preset.padEnd(6)} ${c.seeds} seeds, K=${c.trajectories}, E=${c.epochs}, ${c.optimizer.name}\n`,
        );
      }
    }
  });
}
