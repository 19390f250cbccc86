import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { z } from 'zod';
import type { Results } from './results-schema.js';

/** Methods in the order the report shows them; unknown methods follow alphabetically. */
export const METHOD_ORDER: readonly string[] = ['standard', 'standard-long', 'reinit', 'persistent'];

const METHOD_HUE: Record<string, number> = { standard: 210, 'standard-long': 175, reinit: 30, persistent: 330 };
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

function methodColors(methods: readonly string[]): string[] {
  const extra = ['#54a24b', '#b279a2', '#9d755d', '#eeca3b', '#79706e'];
  let k = 0;
  return methods.map((m) => METHOD_COLOR[m] ?? extra[k++ % extra.length]);
}

/** Building blocks of a spec, derived from TopLevelSpec (vega-lite exports no stable names for them). */
type ConcatItem = Extract<TopLevelSpec, { concat: unknown }>['concat'][number];
type LayerItem = Extract<TopLevelSpec, { layer: unknown }>['layer'][number];
type UnitEncoding = NonNullable<Extract<LayerItem, { mark: unknown }>['encoding']>;
type PositionDef = NonNullable<UnitEncoding['x']>;
type StrokeDef = NonNullable<UnitEncoding['stroke']>;

const finite = (v: number | null | undefined): v is number => typeof v === 'number' && Number.isFinite(v);

/** A log scale when every value is positive and they span more than two decades. */
function scaleTypeFor(values: readonly number[]): 'log' | 'linear' {
  if (values.length < 2) return 'linear';
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return min > 0 && max / min > 100 ? 'log' : 'linear';
}

function quantile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const pos = (sorted.length - 1) * p;
  const lo = Math.floor(pos);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/** Evenly spaced indices 0…n−1, at most `max` of them, always including both ends. */
function sampleIndices(n: number, max: number): number[] {
  if (n <= max) return Array.from({ length: n }, (_, i) => i);
  const out = new Set<number>();
  for (let k = 0; k < max; k++) out.add(Math.round((k * (n - 1)) / (max - 1)));
  return [...out];
}

/** Cell boundaries around grid coordinates: midpoints between neighbours, half a step beyond the ends. */
function cellEdges(coords: readonly number[]): number[] {
  const n = coords.length;
  if (n === 1) return [coords[0] - 0.5, coords[0] + 0.5];
  const edges = [coords[0] - (coords[1] - coords[0]) / 2];
  for (let i = 0; i < n - 1; i++) edges.push((coords[i] + coords[i + 1]) / 2);
  edges.push(coords[n - 1] + (coords[n - 1] - coords[n - 2]) / 2);
  return edges;
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
      width: Math.max(160, 70 * methods.length),
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
    resolve: { scale: { y: 'shared' } },
  };
}

// ---------------------------------------------------------------------------------------------
// (b) per-iteration curves

/** Validation metric vs iteration for each method with more than one iteration: thin line per seed, bold mean. */
export function iterationCurvesSpec(results: Results): TopLevelSpec | null {
  const multi = new Set(results.runs.filter((r) => r.iterations.length > 1).map((r) => r.method));
  const rows: { method: string; seed: number; iteration: number; value: number }[] = [];
  for (const run of results.runs) {
    if (!multi.has(run.method)) continue;
    for (const it of run.iterations) {
      if (finite(it.valMetric))
        rows.push({ method: run.method, seed: run.seed, iteration: it.iteration, value: it.valMetric });
    }
  }
  if (rows.length === 0) return null;
  const methods = sortMethods(rows.map((r) => r.method));
  const colors = { domain: methods, range: methodColors(methods) };
  const maxIteration = Math.max(...rows.map((r) => r.iteration));
  return {
    data: { values: rows },
    facet: { column: { field: 'method', type: 'nominal', sort: methods, title: null, header: { labelFontSize: 13 } } },
    spec: {
      width: 300,
      height: 220,
      encoding: {
        x: {
          field: 'iteration',
          type: 'quantitative',
          title: 'iteration',
          scale: { domain: [0, Math.max(1, maxIteration)], nice: false },
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
// (c) toy2d

const maybeNumber = z.number().nullable();
const toy2dSurfaceSchema = z.object({
  x: z.array(z.number()).min(1),
  y: z.array(z.number()).min(1),
  loss: z.array(z.array(maybeNumber)),
});
const toy2dTrajectorySchema = z.object({
  method: z.string(),
  seed: z.number(),
  iteration: z.number(),
  points: z.array(z.tuple([maybeNumber, maybeNumber])),
  endLoss: maybeNumber.optional(),
});
const pointSchema = z.tuple([z.number(), z.number()]);

export interface Toy2dDetails {
  surface: z.infer<typeof toy2dSurfaceSchema> | null;
  start: [number, number] | null;
  trajectories: z.infer<typeof toy2dTrajectorySchema>[];
}

/** The toy2d parts of `details`, whatever of them is present and well formed; null when there is nothing to plot. */
export function parseToy2dDetails(details: Record<string, unknown>): Toy2dDetails | null {
  const s = toy2dSurfaceSchema.safeParse(details.surface);
  const surface =
    s.success && s.data.loss.length === s.data.y.length && s.data.loss.every((row) => row.length === s.data.x.length)
      ? s.data
      : null;
  const st = pointSchema.safeParse(details.start);
  const trajectories = Array.isArray(details.trajectories)
    ? details.trajectories.flatMap((t) => {
        const p = toy2dTrajectorySchema.safeParse(t);
        return p.success ? [p.data] : [];
      })
    : [];
  if (!surface && trajectories.length === 0) return null;
  return { surface, start: st.success ? st.data : null, trajectories };
}

export interface Segment {
  x: number;
  y: number;
  x2: number;
  y2: number;
  level: number;
}

/** Marching squares: iso-line segments of `grid[iy][ix]` (sampled at xs × ys) at each level. */
export function contourSegments(
  xs: readonly number[],
  ys: readonly number[],
  grid: readonly (readonly (number | null)[])[],
  levels: readonly number[],
): Segment[] {
  const out: Segment[] = [];
  for (let iy = 0; iy + 1 < ys.length; iy++) {
    for (let ix = 0; ix + 1 < xs.length; ix++) {
      const a = grid[iy][ix];
      const b = grid[iy][ix + 1];
      const c = grid[iy + 1][ix + 1];
      const d = grid[iy + 1][ix];
      if (!finite(a) || !finite(b) || !finite(c) || !finite(d)) continue;
      const x0 = xs[ix];
      const x1 = xs[ix + 1];
      const y0 = ys[iy];
      const y1 = ys[iy + 1];
      for (const level of levels) {
        const index = (a > level ? 1 : 0) | (b > level ? 2 : 0) | (c > level ? 4 : 0) | (d > level ? 8 : 0);
        if (index === 0 || index === 15) continue;
        const t = (p: number, q: number) => (q === p ? 0.5 : (level - p) / (q - p));
        // Edges: 0 bottom (a→b), 1 right (b→c), 2 top (d→c), 3 left (a→d).
        const edge = (e: number): [number, number] => {
          switch (e) {
            case 0:
              return [x0 + (x1 - x0) * t(a, b), y0];
            case 1:
              return [x1, y0 + (y1 - y0) * t(b, c)];
            case 2:
              return [x0 + (x1 - x0) * t(d, c), y1];
            default:
              return [x0, y0 + (y1 - y0) * t(a, d)];
          }
        };
        const crossed = [
          a > level !== b > level,
          b > level !== c > level,
          d > level !== c > level,
          a > level !== d > level,
        ];
        let pairs: [number, number][];
        if (index === 5 || index === 10) {
          const centerHigh = (a + b + c + d) / 4 > level;
          // 5: a and c high; 10: b and d high. Cut off the corners that the centre does not join.
          const cutAC = index === 5 ? !centerHigh : centerHigh;
          pairs = cutAC
            ? [
                [0, 3],
                [1, 2],
              ]
            : [
                [0, 1],
                [2, 3],
              ];
        } else {
          const es = [0, 1, 2, 3].filter((e) => crossed[e]);
          if (es.length !== 2) continue;
          pairs = [[es[0], es[1]]];
        }
        for (const [e1, e2] of pairs) {
          const [px, py] = edge(e1);
          const [qx, qy] = edge(e2);
          out.push({ x: px, y: py, x2: qx, y2: qy, level });
        }
      }
    }
  }
  return out;
}

export interface ContourVertex {
  line: number;
  level: number;
  order: number;
  x: number;
  y: number;
}

/** Joins iso-line segments that share end points into polylines (one `line` id each), vertices in order. */
export function stitchSegments(segments: readonly Segment[]): ContourVertex[] {
  const key = (level: number, x: number, y: number) => `${level}|${x}|${y}`;
  const at = new Map<string, number[]>();
  segments.forEach((s, i) => {
    for (const k of [key(s.level, s.x, s.y), key(s.level, s.x2, s.y2)]) {
      const list = at.get(k);
      if (list) list.push(i);
      else at.set(k, [i]);
    }
  });
  const used = new Uint8Array(segments.length);
  const out: ContourVertex[] = [];
  let line = 0;
  // Follows unused segments from (x, y) onwards; returns the points reached, not including (x, y).
  const walk = (level: number, x: number, y: number): [number, number][] => {
    const pts: [number, number][] = [];
    let cx = x;
    let cy = y;
    for (;;) {
      const next = (at.get(key(level, cx, cy)) ?? []).find((j) => !used[j]);
      if (next === undefined) return pts;
      used[next] = 1;
      const s = segments[next];
      [cx, cy] = s.x === cx && s.y === cy ? [s.x2, s.y2] : [s.x, s.y];
      pts.push([cx, cy]);
    }
  };
  segments.forEach((s, i) => {
    if (used[i]) return;
    used[i] = 1;
    const forward = walk(s.level, s.x2, s.y2);
    const backward = walk(s.level, s.x, s.y);
    const pts: [number, number][] = [...backward.reverse(), [s.x, s.y], [s.x2, s.y2], ...forward];
    pts.forEach(([x, y], order) => {
      out.push({ line, level: s.level, order, x, y });
    });
    line++;
  });
  return out;
}

function trajectoryLabel(t: { method: string; iteration: number }, singleIteration: Set<string>): string {
  return singleIteration.has(t.method) ? t.method : `${t.method} #${t.iteration}`;
}

/**
 * The toy2d loss surface (heatmap with iso-lines) with every trajectory drawn on it, one panel per method;
 * colour = method (hue) and iteration (shade), the start point as a black cross, end points labelled with their loss.
 */
export function toy2dSpec(details: Toy2dDetails): TopLevelSpec | null {
  const { surface, start } = details;
  const trajectories = details.trajectories.filter((t) => t.points.some(([x, y]) => finite(x) && finite(y)));
  if (!surface && trajectories.length === 0) return null;

  // Heatmap cells (at most 30 × 30 of them) and iso-lines from the full grid.
  const cells: { x: number; x2: number; y: number; y2: number; loss: number }[] = [];
  let contours: ContourVertex[] = [];
  let lossDomain: [number, number] | null = null;
  let xDomain: [number, number] | null = null;
  let yDomain: [number, number] | null = null;
  if (surface) {
    const ixs = sampleIndices(surface.x.length, 30);
    const iys = sampleIndices(surface.y.length, 30);
    const xe = cellEdges(ixs.map((i) => surface.x[i]));
    const ye = cellEdges(iys.map((i) => surface.y[i]));
    iys.forEach((iy, j) => {
      ixs.forEach((ix, i) => {
        const loss = surface.loss[iy][ix];
        // Each cell reaches a little into the next one, so that no anti-aliasing seams show between them.
        const x2 = xe[i + 1] + (xe[i + 1] - xe[i]) * 0.3;
        const y2 = ye[j + 1] + (ye[j + 1] - ye[j]) * 0.3;
        if (finite(loss)) cells.push({ x: xe[i], x2, y: ye[j], y2, loss });
      });
    });
    const values = surface.loss.flat().filter(finite);
    values.sort((p, q) => p - q);
    const levels = [
      ...new Set([0.04, 0.1, 0.18, 0.27, 0.37, 0.48, 0.6, 0.72, 0.84, 0.94].map((p) => quantile(values, p))),
    ];
    contours = stitchSegments(contourSegments(surface.x, surface.y, surface.loss, levels.filter(finite)));
    // Colour up to the 90th percentile (higher values clamp to the darkest shade), so that basins stand out.
    const top = quantile(values, 0.9);
    if (values.length > 0 && top > values[0]) lossDomain = [values[0], top];
    xDomain = [Math.min(...surface.x), Math.max(...surface.x)];
    yDomain = [Math.min(...surface.y), Math.max(...surface.y)];
  }

  // Trajectories, at most 300 points each.
  const iterationsOf = new Map<string, Set<number>>();
  for (const t of trajectories) {
    const s = iterationsOf.get(t.method) ?? new Set<number>();
    s.add(t.iteration);
    iterationsOf.set(t.method, s);
  }
  const singleIteration = new Set([...iterationsOf].filter(([, s]) => s.size <= 1).map(([m]) => m));
  const methods = sortMethods(trajectories.map((t) => t.method));
  const labelDomain: string[] = [];
  const labelRange: string[] = [];
  methods.forEach((method, mi) => {
    const its = [...(iterationsOf.get(method) ?? [])].sort((p, q) => p - q);
    const hue = METHOD_HUE[method] ?? (mi * 67 + 100) % 360;
    its.forEach((iteration, k) => {
      labelDomain.push(trajectoryLabel({ method, iteration }, singleIteration));
      const light = its.length <= 1 ? 42 : 28 + (40 * k) / (its.length - 1);
      labelRange.push(`hsl(${hue}, 80%, ${light.toFixed(0)}%)`);
    });
  });

  const pathRows: { id: number; label: string; method: string; seed: number; order: number; x: number; y: number }[] =
    [];
  const endRows: {
    label: string;
    method: string;
    seed: number;
    x: number;
    y: number;
    endLoss: number | null;
    text: string;
  }[] = [];
  trajectories.forEach((t, id) => {
    const label = trajectoryLabel(t, singleIteration);
    const pts = t.points.filter((p): p is [number, number] => finite(p[0]) && finite(p[1]));
    for (const i of sampleIndices(pts.length, 300)) {
      pathRows.push({ id, label, method: t.method, seed: t.seed, order: i, x: pts[i][0], y: pts[i][1] });
    }
    const [ex, ey] = pts[pts.length - 1];
    const endLoss = finite(t.endLoss) ? t.endLoss : null;
    endRows.push({ label, method: t.method, seed: t.seed, x: ex, y: ey, endLoss, text: '' });
  });
  if (!xDomain || !yDomain) {
    const xsAll = pathRows.map((r) => r.x);
    const ysAll = pathRows.map((r) => r.y);
    xDomain = [Math.min(...xsAll), Math.max(...xsAll)];
    yDomain = [Math.min(...ysAll), Math.max(...ysAll)];
  }
  // Label each distinct end point (rounded to 1/40 of the plot) once per method.
  const [xd0, xd1] = xDomain;
  const [yd0, yd1] = yDomain;
  const seen = new Set<string>();
  for (const r of endRows) {
    const key = `${r.method}/${Math.round(((r.x - xd0) / (xd1 - xd0 || 1)) * 40)}/${Math.round(((r.y - yd0) / (yd1 - yd0 || 1)) * 40)}`;
    if (r.endLoss !== null && !seen.has(key)) {
      seen.add(key);
      r.text = Number(r.endLoss.toPrecision(3)).toString();
    }
  }

  const lossScale = scaleTypeFor(cells.map((c) => c.loss));
  const panels = methods.length > 0 ? methods : [null];
  const x: PositionDef = {
    field: 'x',
    type: 'quantitative',
    scale: { domain: xDomain, nice: false, zero: false },
    title: 'x',
  };
  const y: PositionDef = {
    field: 'y',
    type: 'quantitative',
    scale: { domain: yDomain, nice: false, zero: false },
    title: 'y',
  };
  const stroke: StrokeDef = {
    field: 'label',
    type: 'nominal',
    title: 'trajectory',
    scale: { domain: labelDomain, range: labelRange },
    legend: { columns: Math.ceil(labelDomain.length / 16), symbolType: 'stroke', symbolStrokeWidth: 2.5 },
  };
  return {
    datasets: { cells, contours, paths: pathRows, ends: endRows, start: start ? [{ x: start[0], y: start[1] }] : [] },
    columns: Math.min(2, panels.length),
    concat: panels.map((method): ConcatItem => {
      const only = method === null ? [] : [{ filter: { field: 'method', equal: method } }];
      const layer: LayerItem[] = [];
      if (cells.length > 0) {
        layer.push({
          data: { name: 'cells' },
          mark: { type: 'rect', strokeWidth: 0, clip: true, aria: false },
          encoding: {
            x,
            x2: { field: 'x2' },
            y,
            y2: { field: 'y2' },
            fill: {
              field: 'loss',
              type: 'quantitative',
              title: 'loss',
              scale: {
                type: lossScale,
                scheme: { name: 'greys', extent: [0.02, 0.6] },
                ...(lossDomain ? { domain: lossDomain, clamp: true } : {}),
              },
              legend: { gradientLength: 200 },
            },
          },
        });
      }
      if (contours.length > 0) {
        layer.push({
          data: { name: 'contours' },
          mark: { type: 'line', color: '#333', strokeWidth: 0.7, opacity: 0.5, aria: false },
          encoding: {
            x,
            y,
            order: { field: 'order', type: 'quantitative' },
            detail: { field: 'line', type: 'nominal' },
          },
        });
      }
      layer.push(
        {
          data: { name: 'paths' },
          transform: only,
          mark: { type: 'line', strokeWidth: 1.6, opacity: 0.85, clip: true, aria: false },
          encoding: {
            x,
            y,
            order: { field: 'order', type: 'quantitative' },
            detail: { field: 'id', type: 'nominal' },
            stroke,
          },
        },
        {
          data: { name: 'ends' },
          transform: only,
          mark: { type: 'point', shape: 'circle', size: 55, filled: true, fill: 'white', strokeWidth: 2, clip: true },
          encoding: {
            x,
            y,
            stroke,
            tooltip: [
              { field: 'label', type: 'nominal' },
              { field: 'seed', type: 'quantitative' },
              { field: 'endLoss', type: 'quantitative', format: '.4~g' },
            ],
          },
        },
        {
          data: { name: 'ends' },
          transform: only,
          mark: { type: 'text', align: 'left', dx: 7, dy: -7, fontSize: 10, color: '#111', clip: true, aria: false },
          encoding: { x, y, text: { field: 'text', type: 'nominal' } },
        },
      );
      if (start) {
        layer.push({
          data: { name: 'start' },
          mark: { type: 'point', shape: 'cross', size: 170, filled: true, color: 'black', stroke: 'white' },
          encoding: { x, y },
        });
      }
      return { title: method ?? 'loss surface', width: 340, height: 340, layer };
    }),
    resolve: { scale: { fill: 'shared', stroke: 'shared' }, legend: { fill: 'shared', stroke: 'shared' } },
  };
}

// ---------------------------------------------------------------------------------------------
// (d) kink

const kinkFitSchema = z.object({
  method: z.string(),
  seed: z.number(),
  x: z.array(maybeNumber),
  y: z.array(maybeNumber),
});
const kinkDataSchema = z.object({ x: z.array(maybeNumber), y: z.array(maybeNumber) });

export interface KinkDetails {
  linearFitMse: number | null;
  data: { x: number; y: number }[];
  fits: { method: string; seed: number; points: { x: number; y: number }[] }[];
}

function zipFinite(xs: readonly (number | null)[], ys: readonly (number | null)[]): { x: number; y: number }[] {
  const out: { x: number; y: number }[] = [];
  for (let i = 0; i < Math.min(xs.length, ys.length); i++) {
    const x = xs[i];
    const y = ys[i];
    if (finite(x) && finite(y)) out.push({ x, y });
  }
  return out;
}

/** The kink parts of `details`, whatever of them is present and well formed; null when there is nothing to plot. */
export function parseKinkDetails(details: Record<string, unknown>): KinkDetails | null {
  const d = kinkDataSchema.safeParse(details.data);
  const data = d.success ? zipFinite(d.data.x, d.data.y) : [];
  const fits = Array.isArray(details.fits)
    ? details.fits.flatMap((f) => {
        const p = kinkFitSchema.safeParse(f);
        if (!p.success) return [];
        const points = zipFinite(p.data.x, p.data.y).sort((a, b) => a.x - b.x);
        return points.length > 0 ? [{ method: p.data.method, seed: p.data.seed, points }] : [];
      })
    : [];
  if (data.length === 0 && fits.length === 0) return null;
  const lin = details.linearFitMse;
  return { linearFitMse: finite(lin as number | null) ? (lin as number) : null, data, fits };
}

/** The validation data and each method's fitted curves (one per seed), one panel per method. */
export function kinkSpec(details: KinkDetails): TopLevelSpec | null {
  const { data, fits } = details;
  if (data.length === 0 && fits.length === 0) return null;
  const points = sampleIndices(data.length, 600).map((i) => data[i]);
  const fitRows = fits.flatMap((f) =>
    sampleIndices(f.points.length, 400).map((i) => ({ method: f.method, seed: f.seed, order: i, ...f.points[i] })),
  );
  const methods = sortMethods(fits.map((f) => f.method));
  const xs = [...points.map((p) => p.x), ...fitRows.map((r) => r.x)];
  // The y range follows the data (fits that shoot off are clipped), or the fits when there is no data.
  const ysBase = points.length > 0 ? points.map((p) => p.y) : fitRows.map((r) => r.y);
  const y0 = Math.min(...ysBase);
  const y1 = Math.max(...ysBase);
  const pad = (y1 - y0 || 1) * 0.15;
  const x: PositionDef = {
    field: 'x',
    type: 'quantitative',
    scale: { domain: [Math.min(...xs), Math.max(...xs)], nice: false, zero: false },
    title: 'x',
  };
  const y: PositionDef = {
    field: 'y',
    type: 'quantitative',
    scale: { domain: [y0 - pad, y1 + pad], nice: false, zero: false },
    title: 'y',
  };
  const colors = methodColors(methods);
  const panels = methods.length > 0 ? methods : [null];
  return {
    datasets: { points, fits: fitRows },
    columns: Math.min(2, panels.length),
    concat: panels.map((method, mi): ConcatItem => {
      const layer: LayerItem[] = [
        {
          data: { name: 'points' },
          mark: { type: 'circle', size: 16, color: '#777', opacity: 0.6, clip: true, aria: false },
          encoding: { x, y },
        },
      ];
      if (method !== null) {
        layer.push({
          data: { name: 'fits' },
          transform: [{ filter: { field: 'method', equal: method } }],
          mark: { type: 'line', strokeWidth: 1.8, opacity: 0.8, clip: true, color: colors[mi], aria: false },
          encoding: {
            x,
            y,
            order: { field: 'order', type: 'quantitative' },
            detail: { field: 'seed', type: 'nominal' },
          },
        });
      }
      return { title: method ?? 'validation data', width: 340, height: 240, layer };
    }),
  };
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
