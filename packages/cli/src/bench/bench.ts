import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { loadedOneDnn } from '../native-backend.js';
import { WORKLOADS, type WorkloadName } from './workloads.js';

export interface BenchRow {
  workload: WorkloadName;
  threads: number;
  batch: number;
  onednnMs: number | null;
  /** tfjs cpu (one thread whatever `threads` says); scaled from a smaller batch when `cpuScaled`. */
  cpuMs: number | null;
  cpuScaled: boolean | null;
  pytorchMs: number | null;
  onednnPeakRssMB: number | null;
  pytorchPeakRssMB: number | null;
}

export interface BenchOptions {
  workloads: WorkloadName[];
  threads: number[];
  /** Timed steps (the median is reported) after `warmUp` untimed ones. */
  steps: number;
  warmUp: number;
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

/**
 * Times one SGD step of every workload on onednn, tfjs cpu and PyTorch, each measurement in a
 * process of its own (so its peak RSS is its own), at the same batch and thread count.
 */
/** Call `loadOneDnn()` first: without it the onednn side is skipped. */
export function runBench(options: BenchOptions): { rows: BenchRow[]; environment: Record<string, unknown> } {
  const native = loadedOneDnn()?.nativeAvailable() ?? false;
  const torch = pytorchVersion();
  if (!torch)
    options.log(
      'PyTorch: /usr/bin/python3 cannot import torch (apt-get install python3-torch libopenblas0-pthread); skipped',
    );
  if (!native) options.log('onednn: the native addon is not built (bash scripts/setup.sh); skipped');
  const rows: BenchRow[] = [];
  for (const workload of options.workloads) {
    const { batch } = WORKLOADS[workload];
    const cpu = options.noCpu ? null : cpuTime(workload, batch, options);
    for (const threads of options.threads) {
      const threadEnv = { TFJS_ONEDNN_THREADS: String(threads), OMP_NUM_THREADS: String(threads) };
      const stepArgs = [String(batch), String(options.steps), String(options.warmUp)];
      const onednn = native ? measure(process.execPath, [WORKER, workload, 'onednn', ...stepArgs], threadEnv) : null;
      const pytorch = torch ? measure(PYTHON, [PYTORCH_REF, workload, String(threads), ...stepArgs], threadEnv) : null;
      const row: BenchRow = {
        workload,
        threads,
        batch,
        onednnMs: onednn?.ms ?? null,
        cpuMs: cpu?.ms ?? null,
        cpuScaled: cpu ? cpu.scaled : null,
        pytorchMs: pytorch?.ms ?? null,
        onednnPeakRssMB: onednn?.peakRssMB ?? null,
        pytorchPeakRssMB: pytorch?.peakRssMB ?? null,
      };
      options.log(
        `${workload} ×${threads}: onednn ${fmt(row.onednnMs)} ms, pytorch ${fmt(row.pytorchMs)} ms, cpu ${fmt(row.cpuMs)} ms${row.cpuScaled ? ' (scaled)' : ''}`,
      );
      rows.push(row);
    }
  }
  return {
    rows,
    environment: {
      node: process.version,
      tfjs: tf.version_core,
      pytorch: torch,
      onednn: native,
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
      steps: options.steps,
      warmUp: options.warmUp,
    },
  };
}

/** tfjs cpu: a probe step at a small batch; the full batch if its predicted step fits the budget, else the probe scaled. */
function cpuTime(workload: WorkloadName, batch: number, options: BenchOptions): { ms: number; scaled: boolean } {
  const probeBatch = Math.min(batch, 4);
  const probe = measure(process.execPath, [WORKER, workload, 'cpu', String(probeBatch), '1', '0'], {});
  const predicted = (probe.ms * batch) / probeBatch;
  if (probeBatch === batch) return { ms: probe.ms, scaled: false };
  if (predicted <= options.cpuBudgetMs) {
    return { ms: measure(process.execPath, [WORKER, workload, 'cpu', String(batch), '1', '0'], {}).ms, scaled: false };
  }
  return { ms: predicted, scaled: true };
}

function fmt(value: number | null): string {
  return value === null ? '—' : value >= 100 ? value.toFixed(0) : value.toPrecision(3);
}

/** The table `pn bench` prints: ms per step and the ratios onednn/pytorch and cpu/onednn. */
export function benchTable(rows: readonly BenchRow[]): string {
  const header = [
    'workload',
    'threads',
    'batch',
    'onednn ms',
    'pytorch ms',
    'cpu ms',
    'onednn/pytorch',
    'cpu/onednn',
    'RSS onednn/pytorch MB',
  ];
  const ratio = (a: number | null, b: number | null) => (a !== null && b !== null ? (a / b).toFixed(2) : '—');
  const lines = rows.map((r) => [
    r.workload,
    String(r.threads),
    String(r.batch),
    fmt(r.onednnMs),
    fmt(r.pytorchMs),
    `${fmt(r.cpuMs)}${r.cpuScaled ? '*' : ''}`,
    ratio(r.onednnMs, r.pytorchMs),
    ratio(r.cpuMs, r.onednnMs),
    `${fmt(r.onednnPeakRssMB)} / ${fmt(r.pytorchPeakRssMB)}`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const row = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  return [
    row(header),
    row(widths.map((w) => '-'.repeat(w))),
    ...lines.map(row),
    '',
    '* cpu scaled from a smaller batch: its full-batch step would exceed the budget',
  ].join('\n');
}
