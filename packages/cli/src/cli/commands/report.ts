import { Command } from 'commander';
import { rerenderReport } from '../../experiments/index.js';

export function reportCommand(): Command {
  return new Command('report')
    .description('re-render report.html from a run directory')
    .argument('<run-dir>')
    .action(async (dir: string) => {
      process.stdout.write(`${await rerenderReport(dir)}\n`);
    });
}
