import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { describe } from '../experiments/summary.js';
import { loadedOneDnn } from '../native-backend.js';
import { textTable } from '../report/format.js';
import { trainingFlops, WORKLOADS, type WorkloadName } from './workloads.js';

export interface BenchRow {
  workload: WorkloadName;
  threads: number;
  batch: number;
  /** The median over rounds of each round's median step time. */
  onednnMs: number | null;
  /** tfjs cpu (one thread whatever `threads` says); scaled from a smaller batch when `cpuScaled`. */
  cpuMs: number | null;
  cpuScaled: boolean | null;
  pytorchMs: number | null;
  /** onednn / pytorch: the median of the rounds' ratios, and their range. */
  ratio: number | null;
  ratioMin: number | null;
  ratioMax: number | null;
  rounds: number;
  /** Counted floating-point operations of one step (see trainingFlops), and what each side achieved. */
  gflop: number;
  onednnGflops: number | null;
  pytorchGflops: number | null;
  /** onednn step time with the default penalty against 3 earlier solutions / without it (median over rounds). */
  penaltyRatio: number | null;
  onednnPeakRssMB: number | null;
  pytorchPeakRssMB: number | null;
}

export interface BenchOptions {
  workloads: WorkloadName[];
  threads: number[];
  /** Timed steps per measurement (its median is the measurement) after `warmUp` untimed ones. */
  steps: number;
  warmUp: number;
  /** Both the warm-up and the timed steps last at least this long too (small workloads run thousands of steps). */
  minSeconds: number;
  /** Interleaved rounds: onednn, PyTorch, onednn with the penalty, each in a process of its own, per round. */
  rounds: number;
  /** Skip the cpu backend. */
  noCpu: boolean;
  /** Longest full-batch cpu step to run; above it the cpu time is scaled from a smaller batch. */
  cpuBudgetMs: number;
  log: (line: string) => void;
}

const PYTHON = '/usr/bin/python3';
export const PYTORCH_REF = fileURLToPath(new URL('../../../src/bench/pytorch_ref.py', import.meta.url));
const WORKER = fileURLToPath(new URL('./worker.js', import.meta.url));

interface Measurement {
  ms: number;
  peakRssMB: number;
}

function measure(command: string, args: string[], env: Record<string, string>): Measurement {
  const result = spawnSync(command, args, { encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 1 << 24 });
  const line = result.stdout.trim().split('\n').at(-1) ?? '';
  if (result.status !== 0 || !line.startsWith('{'))
    throw new Error(
      `${[command, ...args].join(' ')} failed: ${(result.stderr || result.stdout).trim().split('\n').at(-1)}`,
    );
  return JSON.parse(line) as Measurement;
}

/** PyTorch's version when /usr/bin/python3 imports torch, else null. */
export function pytorchVersion(): string | null {
  if (!existsSync(PYTHON)) return null;
  const result = spawnSync(PYTHON, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' });
  return result.status === 0 ? result.stdout.trim() : null;
}

/** The vector ISA of this machine's CPU, from /proc/cpuinfo: oneDNN and OpenBLAS pick their kernels by it. */
export function cpuIsa(): string {
  try {
    const flags =
      readFileSync('/proc/cpuinfo', 'utf8')
        .match(/^flags\s*:(.*)$/m)?.[1]
        .split(/\s+/) ?? [];
    const isa = flags.includes('avx512f')
      ? 'AVX-512'
      : flags.includes('avx2')
        ? 'AVX2'
        : flags.includes('avx')
          ? 'AVX'
          : 'SSE';
    // oneDNN's own cap on the ISA it dispatches to, and OpenBLAS's forced kernel family: a
    // labelled proxy for a smaller machine (both sides read them).
    const caps = [
      process.env.DNNL_MAX_CPU_ISA && `oneDNN capped at ${process.env.DNNL_MAX_CPU_ISA}`,
      process.env.OPENBLAS_CORETYPE && `OpenBLAS as ${process.env.OPENBLAS_CORETYPE}`,
    ].filter(Boolean);
    return caps.length ? `${isa} (${caps.join(', ')})` : isa;
  } catch {
    return 'unknown';
  }
}

const median = (values: readonly number[]) => describe(values).median;

/**
 * Times one SGD step of every workload on onednn and PyTorch in interleaved rounds (onednn,
 * PyTorch, onednn with the penalty; the order of the first two alternating from round to round),
 * each measurement in a process of its own (so its peak RSS is its own), at the same batch and
 * thread count; tfjs cpu once. A VM's speed drifts over minutes, so a ratio is taken within each
 * round and reported as the median and range over rounds. Call `loadOneDnn()` first: without it
 * the onednn side is skipped.
 */
export function runBench(options: BenchOptions): { rows: BenchRow[]; environment: Record<string, unknown> } {
  const native = loadedOneDnn()?.nativeAvailable() ?? false;
  const torch = pytorchVersion();
  if (!torch)
    options.log(
      'PyTorch: /usr/bin/python3 cannot import torch (npm run bench installs python3-torch and libopenblas0-pthread); skipped',
    );
  if (!native) options.log('onednn: the native addon is not built (bash scripts/setup.sh); skipped');
  const threadEnv = (threads: number) => ({ TFJS_ONEDNN_THREADS: String(threads), OMP_NUM_THREADS: String(threads) });
  const sgemmPeak: Record<number, number | null> = {};
  for (const threads of options.threads) {
    sgemmPeak[threads] = native
      ? (measure(process.execPath, [WORKER, 'sgemm', 'onednn'], threadEnv(threads)) as unknown as { gflops: number })
          .gflops
      : null;
    options.log(`sgemm peak ×${threads} (onednn, OpenBLAS): ${fmt(sgemmPeak[threads])} GFLOP/s`);
  }
  const cases = options.workloads.flatMap((workload) => options.threads.map((threads) => ({ workload, threads })));
  const samples = cases.map(() => ({
    onednn: [] as Measurement[],
    pytorch: [] as Measurement[],
    penalty: [] as number[],
  }));
  for (let round = 0; round < options.rounds; round++) {
    for (const [i, { workload, threads }] of cases.entries()) {
      const { batch } = WORKLOADS[workload];
      const stepArgs = [String(batch), String(options.steps), String(options.warmUp), String(options.minSeconds)];
      const env = threadEnv(threads);
      const sides = [
        () =>
          native && samples[i].onednn.push(measure(process.execPath, [WORKER, workload, 'onednn', ...stepArgs], env)),
        () =>
          torch && samples[i].pytorch.push(measure(PYTHON, [PYTORCH_REF, workload, String(threads), ...stepArgs], env)),
      ];
      for (const side of round % 2 ? sides.reverse() : sides) side();
      if (native)
        samples[i].penalty.push(measure(process.execPath, [WORKER, workload, 'onednn', ...stepArgs, '3'], env).ms);
      options.log(
        `round ${round + 1}/${options.rounds} ${workload} ×${threads}: onednn ${fmt(samples[i].onednn.at(-1)?.ms ?? null)} ms, ` +
          `pytorch ${fmt(samples[i].pytorch.at(-1)?.ms ?? null)} ms, with penalty ${fmt(samples[i].penalty.at(-1) ?? null)} ms`,
      );
    }
  }
  const cpu = new Map(
    options.noCpu
      ? []
      : options.workloads.map((workload) => [workload, cpuTime(workload, WORKLOADS[workload].batch, options)]),
  );
  const rows = cases.map(({ workload, threads }, i): BenchRow => {
    const { onednn, pytorch, penalty } = samples[i];
    const { batch } = WORKLOADS[workload];
    const ratios = onednn.length === pytorch.length ? onednn.map((o, r) => o.ms / pytorch[r].ms) : [];
    const onednnMs = onednn.length ? median(onednn.map((m) => m.ms)) : null;
    const pytorchMs = pytorch.length ? median(pytorch.map((m) => m.ms)) : null;
    const gflop = trainingFlops(workload, batch) / 1e9;
    const peak = (ms: Measurement[]) => (ms.length ? Math.max(...ms.map((m) => m.peakRssMB)) : null);
    return {
      workload,
      threads,
      batch,
      onednnMs,
      cpuMs: cpu.get(workload)?.ms ?? null,
      cpuScaled: cpu.get(workload)?.scaled ?? null,
      pytorchMs,
      ratio: ratios.length ? median(ratios) : null,
      ratioMin: ratios.length ? Math.min(...ratios) : null,
      ratioMax: ratios.length ? Math.max(...ratios) : null,
      rounds: ratios.length,
      gflop,
      onednnGflops: onednnMs === null ? null : gflop / (onednnMs / 1000),
      pytorchGflops: pytorchMs === null ? null : gflop / (pytorchMs / 1000),
      penaltyRatio: penalty.length ? median(penalty.map((ms, r) => ms / onednn[r].ms)) : null,
      onednnPeakRssMB: peak(onednn),
      pytorchPeakRssMB: peak(pytorch),
    };
  });
  return {
    rows,
    environment: {
      node: process.version,
      tfjs: tf.version_core,
      pytorch: torch,
      onednn: native,
      isa: cpuIsa(),
      sgemmPeakGflops: sgemmPeak,
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
      steps: options.steps,
      warmUp: options.warmUp,
      minSeconds: options.minSeconds,
      rounds: options.rounds,
    },
  };
}

/** tfjs cpu: a probe step at a small batch; the full batch if its predicted step fits the budget, else the probe scaled. */
function cpuTime(workload: WorkloadName, batch: number, options: BenchOptions): { ms: number; scaled: boolean } {
  const probeBatch = Math.min(batch, 4);
  const probe = measure(process.execPath, [WORKER, workload, 'cpu', String(probeBatch), '1', '0', '0'], {});
  const predicted = (probe.ms * batch) / probeBatch;
  if (probeBatch === batch) return { ms: probe.ms, scaled: false };
  if (predicted <= options.cpuBudgetMs) {
    return {
      ms: measure(process.execPath, [WORKER, workload, 'cpu', String(batch), '1', '0', '0'], {}).ms,
      scaled: false,
    };
  }
  return { ms: predicted, scaled: true };
}

function fmt(value: number | null): string {
  return value === null ? '—' : value >= 100 ? value.toFixed(0) : value.toPrecision(3);
}

/**
 * The table `pn bench` prints: ms per step, the ratio onednn/pytorch with its range over rounds,
 * GFLOP/s against the sgemm peak, the penalty's cost, peak memory; tfjs cpu's columns only where
 * some row timed it (not under --no-cpu).
 */
export function benchTable(rows: readonly BenchRow[], sgemmPeak: Record<number, number | null> = {}): string {
  const withCpu = rows.some((r) => r.cpuMs !== null);
  const ratio = (a: number | null, b: number | null) => (a !== null && b !== null ? (a / b).toFixed(2) : '—');
  const columns: [string, (r: BenchRow) => string][] = [
    ['workload', (r) => r.workload],
    ['threads', (r) => String(r.threads)],
    ['batch', (r) => String(r.batch)],
    ['onednn ms', (r) => fmt(r.onednnMs)],
    ['pytorch ms', (r) => fmt(r.pytorchMs)],
    [
      'onednn/pytorch (range)',
      (r) =>
        r.ratio === null
          ? '—'
          : `${r.ratio.toFixed(2)} (${r.ratioMin?.toFixed(2)}–${r.ratioMax?.toFixed(2)}, ${r.rounds} rounds)`,
    ],
    [
      'GFLOP/s onednn / pytorch / sgemm peak',
      (r) => `${fmt(r.onednnGflops)} / ${fmt(r.pytorchGflops)} / ${fmt(sgemmPeak[r.threads] ?? null)}`,
    ],
    ['penalty ×', (r) => (r.penaltyRatio === null ? '—' : r.penaltyRatio.toFixed(2))],
    ...(withCpu
      ? ([
          ['cpu ms', (r) => `${fmt(r.cpuMs)}${r.cpuScaled ? '*' : ''}`],
          ['cpu/onednn', (r) => ratio(r.cpuMs, r.onednnMs)],
        ] satisfies [string, (r: BenchRow) => string][])
      : []),
    ['RSS onednn/pytorch MB', (r) => `${fmt(r.onednnPeakRssMB)} / ${fmt(r.pytorchPeakRssMB)}`],
  ];
  return [
    textTable(
      columns.map(([name]) => name),
      rows.map((r) => columns.map(([, cell]) => cell(r))),
    ),
    '',
    'penalty ×: onednn step time with the default penalty against 3 earlier solutions / without it',
    ...(rows.some((r) => r.cpuScaled)
      ? ['* cpu scaled from a smaller batch: its full-batch step would exceed the budget']
      : []),
  ].join('\n');
}
