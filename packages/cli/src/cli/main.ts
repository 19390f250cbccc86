import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { UsageError } from '../experiments/index.js';
import { loadOneDnn } from '../native-backend.js';
import { ablationCommand } from './commands/ablation.js';
import { benchCommand } from './commands/bench.js';
import { demoCommand } from './commands/demo.js';
import { listCommand } from './commands/list.js';
import { reportCommand } from './commands/report.js';
import { runCommand } from './commands/run.js';
import { sweepCommand } from './commands/sweep.js';
import { workerCommand } from './commands/worker.js';

/** The package's version, from its package.json. */
export function packageVersion(): string {
  const path = new URL('../../../package.json', import.meta.url);
  return (JSON.parse(readFileSync(path, 'utf8')) as { version: string }).version;
}

export function buildProgram(): Command {
  const program = new Command('pn')
    .description('Persistent Neurons (Min, 2020) on TensorFlow.js: run the experiments, read the reports.')
    .version(packageVersion())
    .exitOverride()
    .configureOutput({ writeErr: (text) => process.stderr.write(text) });
  for (const command of [
    demoCommand(),
    runCommand(),
    sweepCommand(),
    workerCommand(),
    ablationCommand(),
    benchCommand(),
    listCommand(),
    reportCommand(),
  ])
    program.addCommand(command.exitOverride());
  return program;
}

/** Exit codes: 0 done, 2 a usage or config problem (one line, no stack), 1 anything else. */
export async function main(argv: string[]): Promise<number> {
  try {
    // Registered before any command builds a model, so that tfjs starts on onednn where it can.
    await loadOneDnn();
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
