import { experiments, UsageError } from '../experiments/index.js';

/** A commander parser for a positive integer option, whose error names the option. */
export function positiveInteger(flag: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) throw new UsageError(`${flag} must be a positive integer, got "${value}"`);
    return n;
  };
}

export function nonNegativeNumber(flag: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n < 0)
      throw new UsageError(`${flag} must be a number ≥ 0, got "${value}"`);
    return n;
  };
}

/** Comma-separated items, each one of `allowed`. */
export function choiceList<T extends string>(text: string, allowed: readonly T[], flag: string): T[] {
  const items = text.split(',');
  const bad = items.find((item) => !allowed.includes(item as T));
  if (bad !== undefined) throw new UsageError(`${flag}: unknown "${bad}"; choose from ${allowed.join(', ')}`);
  return items as T[];
}

/** Comma-separated numbers, each passing `valid` (described by `what` in the error). */
export function numberList(text: string, flag: string, what: string, valid: (n: number) => boolean): number[] {
  return text.split(',').map((item) => {
    const n = item.trim() === '' ? Number.NaN : Number(item);
    if (!valid(n)) throw new UsageError(`${flag} takes ${what}, got "${item}"`);
    return n;
  });
}

/** For repeatable options: every value, in order. */
export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** runs/<time>-<name>: a new directory per run. */
export function defaultOutDir(name: string): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `runs/${stamp}-${name}`;
}

/** The `--set` that `--data-dir DIR` stands for: refused for an experiment that reads no data files. */
export function dataDirSets(experiment: string, dataDir: string | undefined): string[] {
  if (dataDir === undefined) return [];
  const data = (experiments[experiment]?.presets.quick as { data?: { dir?: unknown } } | undefined)?.data;
  if (experiments[experiment] && typeof data?.dir !== 'string')
    throw new UsageError(`--data-dir: ${experiment} reads no data files`);
  return [`data.dir=${JSON.stringify(dataDir)}`];
}
