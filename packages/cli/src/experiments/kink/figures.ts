import type { TopLevelSpec } from 'vega-lite';
import { z } from 'zod';
import { formatNumber } from '../../report/format.js';
import {
  type ConcatItem,
  type Figure,
  finite,
  type LayerItem,
  methodColors,
  type PositionDef,
  panelWidth,
  sampleIndices,
  sortMethods,
} from '../../report/plots.js';

/** NaN and ±Infinity are written as null. */
const measured = z.number().nullable();
const curve = z.object({ x: z.array(measured), y: z.array(measured) });

/** What a kink run keeps in `results.json`'s `details`. */
export const kinkDetailsSchema = z.object({
  /** Validation MSE of the best straight line: what a net with every kink outside the data achieves. */
  linearFitMse: measured,
  /** The validation data. */
  data: curve,
  /** The fitted curve of each method's selected model, for the first `plotSeeds` seeds. */
  fits: z.array(curve.extend({ method: z.string(), seed: z.number() })),
});
export type KinkDetails = z.infer<typeof kinkDetailsSchema>;

/** The report's figure of a kink run. */
export function kinkFigures(details: KinkDetails): Figure[] {
  const linear =
    details.linearFitMse === null ? '' : ` For reference, a linear fit has mse ${formatNumber(details.linearFitMse)}.`;
  return [
    {
      title: 'Fits to the kink',
      caption: `Grey points are validation data; lines are each method's selected model, one per seed shown.${linear}`,
      spec: kinkSpec(details),
    },
  ];
}

/** The lines `pn run` prints under the summary table. */
export function kinkSummary(details: KinkDetails, successThreshold: number | undefined): string[] {
  return [
    `best linear fit: val mse ${formatNumber(details.linearFitMse)}; success = below ${formatNumber(successThreshold)}`,
  ];
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

/** The validation data and each method's fitted curves (one per seed), one panel per method. */
function kinkSpec(details: KinkDetails): TopLevelSpec | null {
  const data = zipFinite(details.data.x, details.data.y);
  const fits = details.fits.flatMap((f) => {
    const points = zipFinite(f.x, f.y).sort((a, b) => a.x - b.x);
    return points.length > 0 ? [{ method: f.method, seed: f.seed, points }] : [];
  });
  if (data.length === 0 && fits.length === 0) return null;
  const points = sampleIndices(data.length, 600).map((i) => data[i]);
  const fitRows = fits.flatMap((f) =>
    sampleIndices(f.points.length, 400).map((i) => ({ method: f.method, seed: f.seed, order: i, ...f.points[i] })),
  );
  const methods = sortMethods(fits.map((f) => f.method));
  // Domains from every point, not the plotted sample: the data are not sorted, and a sample can miss both ends.
  const xs = [...data.map((p) => p.x), ...fits.flatMap((f) => f.points.map((p) => p.x))];
  // The y range follows the data (fits that shoot off are clipped), or the fits when there is no data.
  const ysBase = data.length > 0 ? data.map((p) => p.y) : fits.flatMap((f) => f.points.map((p) => p.y));
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
      return { title: method ?? 'validation data', width: panelWidth(2), height: 240, layer };
    }),
  };
}
