import { Command, Option } from 'commander';
import { benchTable, runBench } from '../../bench/bench.js';
import { WORKLOADS, type WorkloadName } from '../../bench/workloads.js';
import { loadOneDnn } from '../../native-backend.js';
import { choiceList, nonNegativeNumber, numberList, positiveInteger } from '../options.js';

interface BenchFlags {
  rounds: number;
  threads: string;
  workloads: string;
  steps: number;
  warmUp: number;
  minSeconds: number;
  cpu: boolean;
  json?: boolean;
}

export function benchCommand(): Command {
  const names = Object.keys(WORKLOADS) as WorkloadName[];
  return (
    new Command('bench')
      .description(
        "training-step time of the workloads on onednn and PyTorch in interleaved rounds, tfjs cpu once; GFLOP/s against the sgemm peak; the penalty's cost",
      )
      .option('--threads <list>', 'thread counts, comma-separated (same on every side)', '1,2')
      .option('--workloads <list>', `comma-separated, from ${names.join(', ')}`, names.join(','))
      .option('--steps <n>', 'timed steps (the median is reported)', positiveInteger('--steps'), 10)
      // V8 compiles the hot JavaScript over the first steps: a small CNN step takes 13–29 ms in steps
      // 1–8 and 9–11 ms from step 9 on. PyTorch gets the same warm-up.
      .option('--warm-up <n>', 'untimed steps first, on onednn and PyTorch alike', positiveInteger('--warm-up'), 10)
      // A kink-net step takes 0.4 ms once V8 has compiled it and 1.3 ms over the first few hundred
      // steps: small workloads need more than 10 steps to reach the speed a training run has.
      .addOption(
        new Option('--min-seconds <s>', 'each side warms up and times for at least this long, too')
          .argParser(nonNegativeNumber('--min-seconds'))
          .default(1),
      )
      .option('--rounds <n>', 'interleaved rounds (ratios are taken within a round)', positiveInteger('--rounds'), 3)
      .option('--no-cpu', 'skip the tfjs cpu backend')
      .option('--json', 'print only one JSON object on stdout')
      .action(async (options: BenchFlags) => {
        await loadOneDnn();
        const result = runBench({
          workloads: choiceList(options.workloads, names, '--workloads'),
          threads: numberList(options.threads, '--threads', 'positive integers', (n) => Number.isInteger(n) && n >= 1),
          steps: options.steps,
          warmUp: options.warmUp,
          minSeconds: options.minSeconds,
          rounds: options.rounds,
          noCpu: !options.cpu,
          cpuBudgetMs: 60_000,
          log: (line) => process.stderr.write(`${line}\n`),
        });
        const { sgemmPeakGflops, isa } = result.environment as {
          sgemmPeakGflops: Record<number, number | null>;
          isa: string;
        };
        process.stdout.write(
          options.json
            ? `${JSON.stringify(result)}\n`
            : `\n${benchTable(result.rows, sgemmPeakGflops)}\nISA: ${isa}; threads set on both sides\n`,
        );
      })
  );
}
