import type { TopLevelSpec } from 'vega-lite';
import { z } from 'zod';
import { type ContourVertex, contourSegments, stitchSegments } from '../../report/contour.js';
import {
  type ConcatItem,
  cellEdges,
  type Figure,
  finite,
  type LayerItem,
  METHOD_HUE,
  type PositionDef,
  panelWidth,
  quantile,
  type StrokeDef,
  sampleIndices,
  scaleTypeFor,
  sortMethods,
} from '../../report/plots.js';

/** NaN and ±Infinity are written as null. */
const measured = z.number().nullable();

/** What a toy2d run keeps in `results.json`'s `details`: the surface and the recorded trajectories. */
export const toy2dDetailsSchema = z.object({
  /** The loss on a grid: loss[iy][ix] is at (x[ix], y[iy]). */
  surface: z
    .object({ x: z.array(z.number()).min(1), y: z.array(z.number()).min(1), loss: z.array(z.array(measured)) })
    .refine((s) => s.loss.length === s.y.length && s.loss.every((row) => row.length === s.x.length), {
      message: 'surface.loss must have one row per y and one value per x',
    }),
  start: z.tuple([z.number(), z.number()]),
  /** Seed 1's path of every trajectory of every method (every `recordEvery`-th point and the last). */
  trajectories: z.array(
    z.object({
      method: z.string(),
      seed: z.number(),
      trajectory: z.number(),
      points: z.array(z.tuple([measured, measured])),
      endLoss: measured,
    }),
  ),
});
export type Toy2dDetails = z.infer<typeof toy2dDetailsSchema>;

/** The report's figure of a toy2d run. */
export function toy2dFigures(details: Toy2dDetails): Figure[] {
  return [
    {
      title: 'Trajectories on the loss surface',
      caption:
        'The loss surface (darker = higher loss, thin lines are iso-loss contours) with every trajectory, one panel per method; ' +
        'shades of a colour are the trajectories, the black cross is the shared start θ0, circles are end points labelled with their loss.',
      spec: toy2dSpec(details),
    },
  ];
}

function trajectoryLabel(t: { method: string; trajectory: number }, singleTrajectory: Set<string>): string {
  return singleTrajectory.has(t.method) ? t.method : `${t.method} #${t.trajectory}`;
}

/**
 * The toy2d loss surface (heatmap with iso-lines) with every trajectory drawn on it, one panel per method;
 * colour = method (hue) and trajectory (shade), the start point as a black cross, end points labelled with their loss.
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
  const trajectoriesOf = new Map<string, Set<number>>();
  for (const t of trajectories) {
    const s = trajectoriesOf.get(t.method) ?? new Set<number>();
    s.add(t.trajectory);
    trajectoriesOf.set(t.method, s);
  }
  const singleTrajectory = new Set([...trajectoriesOf].filter(([, s]) => s.size <= 1).map(([m]) => m));
  const methods = sortMethods(trajectories.map((t) => t.method));
  const labelDomain: string[] = [];
  const labelRange: string[] = [];
  methods.forEach((method, mi) => {
    const its = [...(trajectoriesOf.get(method) ?? [])].sort((p, q) => p - q);
    const hue = METHOD_HUE[method] ?? (mi * 67 + 100) % 360;
    its.forEach((trajectory, k) => {
      labelDomain.push(trajectoryLabel({ method, trajectory }, singleTrajectory));
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
    const label = trajectoryLabel(t, singleTrajectory);
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
      return {
        title: method ?? 'loss surface',
        width: Math.min(440, panelWidth(2)),
        height: Math.min(440, panelWidth(2)),
        layer,
      };
    }),
    resolve: { scale: { fill: 'shared', stroke: 'shared' }, legend: { fill: 'shared', stroke: 'shared' } },
  };
}
