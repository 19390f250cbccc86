import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import type { Results } from './results-schema.js';

/** A plot of the report: a vega-lite spec rendered to inline SVG, with its title and caption. */
export interface Figure {
  title: string;
  caption: string;
  spec: TopLevelSpec | null;
}

/** Methods in the order the report shows them; unknown methods follow alphabetically. */
export const METHOD_ORDER: readonly string[] = ['standard', 'standard-long', 'reinit', 'persistent'];

export const METHOD_HUE: Record<string, number> = { standard: 210, 'standard-long': 175, reinit: 30, persistent: 330 };
const METHOD_COLOR: Record<string, string> = {
  standard: '#4c78a8',
  'standard-long': '#3a9e96',
  reinit: '#f58518',
  persistent: '#c2185b',
};

/**
 * Sorts method names into METHOD_ORDER, `persistent-<scope>` after `persistent` (alphabetically),
 * unknown ones last (alphabetically).
 */
export function sortMethods(methods: Iterable<string>): string[] {
  const rank = (m: string) => {
    const i = METHOD_ORDER.indexOf(m.startsWith('persistent-') ? 'persistent' : m);
    return i < 0 ? METHOD_ORDER.length : i;
  };
  const scoped = (m: string) => Number(m.startsWith('persistent-'));
  return [...new Set(methods)].sort((a, b) => rank(a) - rank(b) || scoped(a) - scoped(b) || a.localeCompare(b));
}

export function methodColors(methods: readonly string[]): string[] {
  const extra = ['#54a24b', '#b279a2', '#9d755d', '#eeca3b', '#79706e'];
  let k = 0;
  return methods.map((m) => METHOD_COLOR[m] ?? extra[k++ % extra.length]);
}

/** Building blocks of a spec, derived from TopLevelSpec (vega-lite exports no stable names for them). */
export type ConcatItem = Extract<TopLevelSpec, { concat: unknown }>['concat'][number];
export type LayerItem = Extract<TopLevelSpec, { layer: unknown }>['layer'][number];
export type UnitEncoding = NonNullable<Extract<LayerItem, { mark: unknown }>['encoding']>;
export type PositionDef = NonNullable<UnitEncoding['x']>;
export type StrokeDef = NonNullable<UnitEncoding['stroke']>;

export const finite = (v: number | null | undefined): v is number => typeof v === 'number' && Number.isFinite(v);

/** A log scale when every value is positive and they span more than two decades. */
export function scaleTypeFor(values: readonly number[]): 'log' | 'linear' {
  if (values.length < 2) return 'linear';
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return min > 0 && max / min > 100 ? 'log' : 'linear';
}

export function quantile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const pos = (sorted.length - 1) * p;
  const lo = Math.floor(pos);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/** Evenly spaced indices 0…n−1, at most `max` of them, always including both ends. */
export function sampleIndices(n: number, max: number): number[] {
  if (n <= max) return Array.from({ length: n }, (_, i) => i);
  const out = new Set<number>();
  for (let k = 0; k < max; k++) out.add(Math.round((k * (n - 1)) / (max - 1)));
  return [...out];
}

/** Cell boundaries around grid coordinates: midpoints between neighbours, half a step beyond the ends. */
export function cellEdges(coords: readonly number[]): number[] {
  const n = coords.length;
  if (n === 1) return [coords[0] - 0.5, coords[0] + 0.5];
  const edges = [coords[0] - (coords[1] - coords[0]) / 2];
  for (let i = 0; i < n - 1; i++) edges.push((coords[i] + coords[i + 1]) / 2);
  edges.push(coords[n - 1] + (coords[n - 1] - coords[n - 2]) / 2);
  return edges;
}

/** The width of each of `columns` panels side by side, so that together they fill the report's width. */
export function panelWidth(columns: number, total = 1080): number {
  return Math.max(140, Math.floor(total / Math.max(1, columns)) - 70);
}

/** Deterministic jitter in [−1, 1] for the i-th point of a strip. */
function jitter(i: number): number {
  return (((i * 0.6180339887 + 0.31) % 1) - 0.5) * 2;
}

// ---------------------------------------------------------------------------------------------
// (a) final metric per method

/** Strip plot of every run's final validation (and test, when any) metric, one point per seed, median as a bar. */
export function metricPerMethodSpec(results: Results): TopLevelSpec | null {
  const rows: { method: string; split: string; seed: number; value: number; jitter: number }[] = [];
  const counters = new Map<string, number>();
  for (const run of results.runs) {
    const splits: [string, number | null][] = [
      ['validation', run.final.valMetric],
      ['test', run.final.testMetric],
    ];
    for (const [split, value] of splits) {
      if (!finite(value)) continue;
      const key = `${run.method}/${split}`;
      const i = counters.get(key) ?? 0;
      counters.set(key, i + 1);
      rows.push({ method: run.method, split, seed: run.seed, value, jitter: jitter(i) });
    }
  }
  if (rows.length === 0) return null;
  const methods = sortMethods(results.runs.map((r) => r.method));
  const splits = ['validation', 'test'].filter((s) => rows.some((r) => r.split === s));
  const name = results.metric.name;
  return {
    data: { values: rows },
    facet: { column: { field: 'split', type: 'nominal', sort: splits, title: null, header: { labelFontSize: 13 } } },
    spec: {
      width: panelWidth(splits.length),
      height: 260,
      layer: [
        {
          mark: { type: 'point', filled: true, size: 45, opacity: 0.75 },
          encoding: {
            x: { field: 'method', type: 'nominal', sort: methods, title: null, axis: { labelAngle: 0 } },
            xOffset: { field: 'jitter', type: 'quantitative', scale: { domain: [-1.6, 1.6] } },
            y: {
              field: 'value',
              type: 'quantitative',
              title: name,
              scale: { type: scaleTypeFor(rows.map((r) => r.value)), zero: false },
            },
            color: {
              field: 'method',
              type: 'nominal',
              scale: { domain: methods, range: methodColors(methods) },
              legend: null,
            },
            tooltip: [
              { field: 'method', type: 'nominal' },
              { field: 'seed', type: 'quantitative' },
              { field: 'value', type: 'quantitative', format: '.4~g' },
            ],
          },
        },
        {
          mark: { type: 'tick', color: 'black', thickness: 2.5, size: 40 },
          encoding: {
            x: { field: 'method', type: 'nominal', sort: methods },
            y: { field: 'value', type: 'quantitative', aggregate: 'median' },
          },
        },
      ],
    },
    // Validation and test metrics differ in range: each panel has its own y scale and axis.
    resolve: { scale: { y: 'independent' }, axis: { y: 'independent' } },
  };
}

// ---------------------------------------------------------------------------------------------
// (b) per-trajectory curves

/** Validation metric vs trajectory for each method with more than one trajectory: thin line per seed, bold mean. */
export function trajectoryCurvesSpec(results: Results): TopLevelSpec | null {
  const multi = new Set(results.runs.filter((r) => r.trajectories.length > 1).map((r) => r.method));
  const rows: { method: string; seed: number; trajectory: number; value: number }[] = [];
  for (const run of results.runs) {
    if (!multi.has(run.method)) continue;
    for (const it of run.trajectories) {
      if (finite(it.valMetric))
        rows.push({ method: run.method, seed: run.seed, trajectory: it.trajectory + 1, value: it.valMetric });
    }
  }
  if (rows.length === 0) return null;
  const methods = sortMethods(rows.map((r) => r.method));
  const colors = { domain: methods, range: methodColors(methods) };
  const maxTrajectory = Math.max(...rows.map((r) => r.trajectory));
  return {
    data: { values: rows },
    facet: { column: { field: 'method', type: 'nominal', sort: methods, title: null, header: { labelFontSize: 13 } } },
    spec: {
      width: panelWidth(methods.length),
      height: 220,
      encoding: {
        x: {
          field: 'trajectory',
          type: 'quantitative',
          title: 'trajectory',
          scale: { domain: [1, Math.max(2, maxTrajectory)], nice: false },
          axis: { tickMinStep: 1, format: 'd' },
        },
      },
      layer: [
        {
          mark: { type: 'line', strokeWidth: 1, opacity: 0.35 },
          encoding: {
            y: {
              field: 'value',
              type: 'quantitative',
              title: `validation ${results.metric.name}`,
              scale: { type: scaleTypeFor(rows.map((r) => r.value)), zero: false },
            },
            detail: { field: 'seed', type: 'nominal' },
            color: { field: 'method', type: 'nominal', scale: colors, legend: null },
          },
        },
        {
          mark: { type: 'line', strokeWidth: 3, point: { size: 40, filled: true } },
          encoding: {
            y: { field: 'value', type: 'quantitative', aggregate: 'mean' },
            color: { field: 'method', type: 'nominal', scale: colors, legend: null },
          },
        },
      ],
    },
  };
}

// ---------------------------------------------------------------------------------------------
// (c) learning curves

interface CurveRow {
  method: string;
  seed: number;
  trajectory: number;
  epoch: number;
  value: number;
  /** The last point of the seed's selected trajectory. */
  selected?: boolean;
}

/**
 * Per method, the validation metric and the training loss over the epochs of the method's whole
 * run (trajectory k of E epochs covers epochs (k−1)·E+1 … k·E; standard-long one trajectory of K·E):
 * a faint line per seed and trajectory, a bold mean per trajectory, a ring where each seed's
 * selected trajectory ends. Null when no run recorded curves (results written before they were).
 */
export function learningCurvesSpec(results: Results): TopLevelSpec | null {
  const validation: CurveRow[] = [];
  const training: CurveRow[] = [];
  const configured = results.config.epochs;
  for (const run of results.runs) {
    const perTrajectory =
      typeof configured === 'number' && run.trajectories.length > 1
        ? configured
        : Math.max(0, ...run.trajectories.flatMap((t) => t.curve?.epochs ?? []));
    for (const [k, record] of run.trajectories.entries()) {
      const curve = record.curve;
      if (!curve) continue;
      const base = { method: run.method, seed: run.seed, trajectory: k + 1 };
      curve.epochs.forEach((epoch, i) => {
        const at = { ...base, epoch: k * perTrajectory + epoch };
        const val = curve.valMetric[i];
        const loss = curve.trainLoss[i];
        if (finite(val)) validation.push({ ...at, value: val });
        if (finite(loss)) training.push({ ...at, value: loss });
      });
      const last = validation.at(-1);
      if (k === run.selectedTrajectory && last?.seed === run.seed && last.trajectory === k + 1) last.selected = true;
    }
  }
  if (validation.length === 0 && training.length === 0) return null;
  const methods = sortMethods([...validation, ...training].map((r) => r.method));
  const trajectories = Math.max(...[...validation, ...training].map((r) => r.trajectory));
  const color = {
    field: 'trajectory',
    type: 'ordinal',
    title: 'trajectory',
    scale: { domain: Array.from({ length: trajectories }, (_, i) => i + 1), scheme: 'viridis' },
  } as const;
  const panel = (rows: CurveRow[], title: string, marks: boolean): ConcatItem => ({
    data: { values: rows },
    facet: { column: { field: 'method', type: 'nominal', sort: methods, title: null, header: { labelFontSize: 13 } } },
    spec: {
      width: panelWidth(methods.length),
      height: 200,
      encoding: { x: { field: 'epoch', type: 'quantitative', title: "epoch of the method's run" } },
      layer: [
        {
          mark: { type: 'line', strokeWidth: 1, opacity: 0.3 },
          encoding: {
            y: {
              field: 'value',
              type: 'quantitative',
              title,
              scale: { type: scaleTypeFor(rows.map((r) => r.value)), zero: false },
            },
            detail: [
              { field: 'seed', type: 'nominal' },
              { field: 'trajectory', type: 'ordinal' },
            ],
            color,
          },
        },
        {
          mark: { type: 'line', strokeWidth: 2.5 },
          encoding: { y: { field: 'value', type: 'quantitative', aggregate: 'mean' }, color },
        },
        ...(marks
          ? [
              {
                transform: [{ filter: 'datum.selected' }],
                mark: { type: 'point', shape: 'circle', size: 60, filled: false, strokeWidth: 1.5, color: 'black' },
                encoding: { y: { field: 'value', type: 'quantitative' } },
              } as LayerItem,
            ]
          : []),
      ],
    },
    resolve: { scale: { x: 'independent' } },
  });
  const name = results.metric.name;
  return {
    vconcat: [
      ...(validation.length ? [panel(validation, `validation ${name}`, true)] : []),
      ...(training.length ? [panel(training, 'training loss', false)] : []),
    ],
  } as TopLevelSpec;
}

// ---------------------------------------------------------------------------------------------

const quietLogger = vega.logger(vega.None);

/** Rounds the coordinates in geometry attributes to 2 decimals (vega writes full doubles; this halves big SVGs). */
function roundSvgCoordinates(svg: string): string {
  return svg.replace(
    /\b(d|transform|x|y|x1|x2|y1|y2|width|height|points)="([^"]*)"/g,
    (_, name: string, value: string) => {
      const rounded = value.replace(/(\d*\.\d{2})\d+/g, '$1');
      return `${name}="${rounded}"`;
    },
  );
}

/** Compiles a vega-lite spec and renders it to a standalone SVG string (no canvas needed). */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const compiled = compile(spec, { logger: quietLogger });
  const view = new vega.View(vega.parse(compiled.spec), { renderer: 'none', logLevel: vega.None });
  try {
    return roundSvgCoordinates(await view.toSVG());
  } finally {
    view.finalize();
  }
}
