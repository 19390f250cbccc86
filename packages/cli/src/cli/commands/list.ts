import { Command } from 'commander';
import type { OptimizerSpec } from 'persistent-neurons';
import { experiments, PRESETS } from '../../experiments/index.js';

/** `momentum (lr 0.05, 0.9)`: an optimizer spec as one reads it. */
function describeOptimizer(spec: OptimizerSpec): string {
  switch (spec.name) {
    case 'sgd':
      return `plain SGD (lr ${spec.learningRate})`;
    case 'momentum':
      return `momentum SGD (lr ${spec.learningRate}, momentum ${spec.momentum}${spec.nesterov ? ', Nesterov' : ''})`;
    case 'adam':
      return `Adam (lr ${spec.learningRate})`;
  }
}

export function listCommand(): Command {
  return new Command('list').description('the experiments, their presets and how they train').action(() => {
    for (const experiment of Object.values(experiments)) {
      process.stdout.write(`${experiment.name}: ${experiment.description}\n`);
      for (const preset of PRESETS) {
        const c = experiment.presets[preset];
        process.stdout.write(
          `  ${preset.padEnd(6)} ${c.seeds} seeds, K=${c.trajectories}, E=${c.epochs}, ${describeOptimizer(c.optimizer)}\n`,
        );
      }
    }
    process.stdout.write(
      '\nChange the optimizer of any run with --set, e.g.\n' +
        `  --set 'optimizer={"name":"momentum","learningRate":0.05,"momentum":0.9}'\n` +
        `  --set 'optimizer={"name":"sgd","learningRate":0.05}'     (plain SGD: where starts get stuck)\n` +
        `  --set 'optimizer={"name":"adam","learningRate":0.001}'\n`,
    );
  });
}
