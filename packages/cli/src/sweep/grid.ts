import { type ResolvedRun, resolveConfig, UsageError } from '../experiments/run.js';

/** One `--grid key=v1,v2,…`: a config key and the values it takes. */
export interface GridAxis {
  key: string;
  values: unknown[];
}

/** A point of the grid: one value per axis, and the config they make. */
export interface GridPoint {
  /** 1-based, in the order of the cartesian product (the first axis varies slowest). */
  index: number;
  /** The axis values of this point, by key. */
  values: Record<string, unknown>;
  /** `key=value` of every axis, for tables and messages. */
  label: string;
  run: ResolvedRun;
}

/**
 * `key=v1,v2,…` splits on commas, each value JSON where it parses (as `--set`); `key=[…]` takes
 * the elements of a JSON array, for values that contain commas (objects, arrays, strings).
 */
export function parseGridOption(option: string): GridAxis {
  const eq = option.indexOf('=');
  if (eq <= 0) throw new UsageError(`--grid needs key=v1,v2,… or key=[…], got "${option}"`);
  const key = option.slice(0, eq);
  const raw = option.slice(eq + 1);
  let values: unknown[];
  if (raw.trimStart().startsWith('[')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch (error) {
      throw new UsageError(`--grid ${key}=[…] is not a JSON array (${(error as Error).message})`);
    }
    if (!Array.isArray(parsed)) throw new UsageError(`--grid ${key}=[…] is not a JSON array`);
    values = parsed;
  } else {
    values = raw.split(',').map((text) => {
      if (text.trim() === '') throw new UsageError(`--grid ${key}: an empty value in "${raw}"`);
      try {
        return JSON.parse(text);
      } catch {
        return text;
      }
    });
  }
  if (values.length === 0) throw new UsageError(`--grid ${key}: no values`);
  const seen = new Set<string>();
  for (const value of values) {
    const text = JSON.stringify(value);
    if (seen.has(text)) throw new UsageError(`--grid ${key}: the value ${text} is listed twice`);
    seen.add(text);
  }
  return { key, values };
}

/** Every combination of one value per axis; the first axis varies slowest. No axes: one empty combination. */
export function cartesian(axes: readonly GridAxis[]): Record<string, unknown>[] {
  let combinations: Record<string, unknown>[] = [{}];
  for (const axis of axes)
    combinations = combinations.flatMap((combination) =>
      axis.values.map((value) => ({ ...combination, [axis.key]: value })),
    );
  return combinations;
}

/** A value as a label shows it: strings as they are, anything else as JSON. */
export function formatValue(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

export function pointLabel(values: Record<string, unknown>): string {
  const entries = Object.entries(values);
  return entries.length ? entries.map(([key, value]) => `${key}=${formatValue(value)}`).join(' ') : '(base config)';
}

export interface ResolvedSweep {
  base: ResolvedRun;
  axes: GridAxis[];
  points: GridPoint[];
}

/**
 * The base config (preset, `--seeds`, every `--set`) and every point of the grid over it, each
 * validated as `pn run` validates a config: the first bad value is a UsageError naming its point.
 */
export function resolveSweep(
  experimentName: string,
  preset: string,
  seeds: number | undefined,
  sets: readonly string[],
  gridOptions: readonly string[],
): ResolvedSweep {
  const base = resolveConfig(experimentName, preset, seeds, sets);
  const axes = gridOptions.map(parseGridOption);
  const keys = new Set<string>();
  for (const { key } of axes) {
    if (keys.has(key)) throw new UsageError(`--grid ${key} is given twice; list all its values in one --grid`);
    keys.add(key);
    if (sets.some((set) => set.slice(0, set.indexOf('=')) === key))
      throw new UsageError(`${key} is set by both --set and --grid; keep one`);
    if (key === 'seeds' && seeds !== undefined)
      throw new UsageError('seeds is set by both --seeds and --grid; keep one');
  }
  const points = cartesian(axes).map((values, i): GridPoint => {
    const label = pointLabel(values);
    const assignments = Object.entries(values).map(([key, value]) => `${key}=${JSON.stringify(value)}`);
    let run: ResolvedRun;
    try {
      run = resolveConfig(experimentName, preset, seeds, [...sets, ...assignments]);
    } catch (error) {
      if (error instanceof UsageError) throw new UsageError(`grid point ${label}: ${error.message}`);
      throw error;
    }
    return { index: i + 1, values, label, run };
  });
  return { base, axes, points };
}

/** A point's directory name below `points/`: its number and a file-system-safe label. */
export function pointDirName(point: Pick<GridPoint, 'index' | 'values'>, count: number): string {
  const number = String(point.index).padStart(String(count).length, '0');
  const label = Object.entries(point.values)
    .map(([key, value]) => `${key}=${formatValue(value)}`)
    .join('_')
    .replace(/[^A-Za-z0-9._=+-]+/g, '-')
    .slice(0, 80)
    .replace(/-+$/, '');
  return label ? `${number}-${label}` : number;
}
