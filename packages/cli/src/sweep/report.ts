import type { TopLevelSpec } from 'vega-lite';
import { escapeHtml, formatInterval, formatNumber, formatP, verdict } from '../report/format.js';
import { type Figure, methodColors, panelWidth, scaleTypeFor, sortMethods } from '../report/plots.js';
import { htmlDocument, renderFigure } from '../report/report.js';
import { formatValue } from './grid.js';
import type { SweepFile, SweepPoint } from './state.js';
import { type GridStats, SWEEP_BASELINES } from './statistics.js';

/** Statistics as summary.ts computes them: mean ± std, median, n, and whatever interval fields it adds (ci95, p). */
type AnyStats = { mean: number | null; std: number | null; median: number | null; n: number } & Record<string, unknown>;

/** `mean ± std (median m, n k)`, then any interval fields the statistics carry. */
export function formatStats(s: AnyStats | undefined): string {
  if (!s || s.mean === null) return '—';
  const parts = [`median ${formatNumber(s.median)}`, `n ${s.n}`];
  const ci = s.ci95;
  if (Array.isArray(ci) && ci.length === 2) parts.push(`95% CI ${formatNumber(ci[0])} … ${formatNumber(ci[1])}`);
  else if (ci && typeof ci === 'object' && 'low' in ci && 'high' in ci)
    parts.push(`95% CI ${formatNumber((ci as { low: number }).low)} … ${formatNumber((ci as { high: number }).high)}`);
  if (typeof s.p === 'number') parts.push(`p ${formatNumber(s.p)}`);
  return `${formatNumber(s.mean)} ± ${formatNumber(s.std)} (${parts.join(', ')})`;
}

interface Row {
  point: number;
  x: unknown;
  xLabel: string;
  others: string;
  method: string;
  mean: number;
  low: number;
  high: number;
  n: number;
}

/**
 * One row per done point and method: the statistic `pick` chooses, with its bar: ± one standard
 * deviation, or the 95% confidence interval of the mean (a point without one, from a single seed,
 * gets no bar).
 */
function rows(
  sweep: SweepFile,
  key: string,
  pick: (point: SweepPoint, method: string) => AnyStats | undefined,
  bar: 'std' | 'ci95',
): Row[] {
  const out: Row[] = [];
  for (const point of sweep.points) {
    if (point.status !== 'done') continue;
    const methods = new Set([
      ...Object.keys(point.summary ?? {}),
      ...Object.keys(point.pairedVsReinit ?? {}),
      ...Object.keys(point.pairedVsStandardLong ?? {}),
    ]);
    for (const method of methods) {
      const s = pick(point, method);
      if (!s || s.mean === null) continue;
      const std = s.std ?? 0;
      const ci = Array.isArray(s.ci95) ? (s.ci95 as [number, number]) : [s.mean, s.mean];
      const others = Object.entries(point.values)
        .filter(([k]) => k !== key)
        .map(([k, v]) => `${k}=${formatValue(v)}`)
        .join(' ');
      out.push({
        point: point.index,
        x: point.values[key],
        xLabel: formatValue(point.values[key]),
        others,
        method,
        mean: s.mean,
        low: bar === 'std' ? s.mean - std : ci[0],
        high: bar === 'std' ? s.mean + std : ci[1],
        n: s.n,
      });
    }
  }
  return out;
}

/** A statistic with its bars against one grid axis, a line per method (and per value of the other axes). */
function axisSpec(sweep: SweepFile, key: string, data: Row[], yTitle: string, zeroRule: boolean): TopLevelSpec | null {
  if (data.length === 0) return null;
  const numeric = data.every((row) => typeof row.x === 'number');
  const xs = data.map((row) => row.x as number);
  const methods = sortMethods(data.map((row) => row.method));
  const axis = sweep.grid.find((a) => a.key === key);
  const x = numeric
    ? {
        field: 'x',
        type: 'quantitative' as const,
        title: key,
        scale: { type: scaleTypeFor(xs), zero: false },
      }
    : {
        field: 'xLabel',
        type: 'ordinal' as const,
        title: key,
        sort: (axis?.values ?? []).map(formatValue),
        axis: { labelAngle: 0 },
      };
  const color = {
    field: 'method',
    type: 'nominal' as const,
    scale: { domain: methods, range: methodColors(methods) },
    legend: { title: null, orient: 'top' as const },
  };
  const hasOthers = data.some((row) => row.others !== '');
  return {
    width: panelWidth(1, 900),
    height: 280,
    data: { values: data },
    layer: [
      ...(zeroRule
        ? [{ mark: { type: 'rule' as const, color: '#888', strokeDash: [4, 3] }, encoding: { y: { datum: 0 } } }]
        : []),
      {
        mark: { type: 'rule' as const, opacity: 0.55 },
        encoding: {
          x,
          y: { field: 'low', type: 'quantitative' as const, title: yTitle, scale: { zero: false } },
          y2: { field: 'high' },
          color,
          ...(hasOthers ? { detail: { field: 'others', type: 'nominal' as const } } : {}),
        },
      },
      {
        mark: { type: 'line' as const, point: { filled: true, size: 50 } },
        encoding: {
          x,
          y: { field: 'mean', type: 'quantitative' as const },
          color,
          ...(hasOthers ? { strokeDash: { field: 'others', type: 'nominal' as const, title: 'other axes' } } : {}),
          tooltip: [
            { field: 'method', type: 'nominal' as const },
            { field: 'xLabel', type: 'nominal' as const, title: key },
            ...(hasOthers ? [{ field: 'others', type: 'nominal' as const, title: 'other axes' }] : []),
            { field: 'mean', type: 'quantitative' as const, format: '.4~g' },
            { field: 'n', type: 'quantitative' as const },
          ],
        },
      },
    ],
  } as TopLevelSpec;
}

function figures(sweep: SweepFile): Figure[] {
  const name = sweep.metric?.name ?? 'metric';
  const higher = sweep.metric?.higherIsBetter ?? false;
  const better = sweep.metric ? (higher ? 'higher is better' : 'lower is better') : '';
  const otherAxes = sweep.grid.length > 1 ? '; one line per combination of the other axes' : '';
  return sweep.grid.flatMap(({ key }) => [
    {
      title: `Validation ${name} against ${key}`,
      caption: `Each method's final validation ${name} over seeds (mean, bars ± one standard deviation) at every value of ${key}${otherAxes} (${better}).`,
      spec: axisSpec(
        sweep,
        key,
        rows(sweep, key, (p, m) => p.summary?.[m]?.valMetric as AnyStats | undefined, 'std'),
        `val ${name}`,
        false,
      ),
    },
    ...SWEEP_BASELINES.map((baseline) => ({
      title: `Paired difference to ${baseline} against ${key}`,
      caption:
        `Each persistent method − ${baseline} on the same seeds, of the final validation ${name}: the mean and its 95% ` +
        `confidence interval (paired t); ${higher ? 'above' : 'below'} the dashed zero line the persistent method is ` +
        `better, and a bar that crosses it is no detectable difference${otherAxes}.`,
      spec: axisSpec(
        sweep,
        key,
        rows(
          sweep,
          key,
          (p, m) =>
            (baseline === 'reinit' ? p.pairedVsReinit : p.pairedVsStandardLong)?.[m]?.valMetric as AnyStats | undefined,
          'ci95',
        ),
        `Δ val ${name}`,
        true,
      ),
    })),
  ]);
}

/** `mean [95% CI], p …, grid p …: verdict` of one paired difference. */
export function formatDifference(s: GridStats | undefined, higherIsBetter: boolean): string {
  if (!s || s.mean === null) return '';
  return (
    `${formatNumber(s.mean)} ${formatInterval(s.ci95)}, p ${formatP(s.p)}, grid p ${formatP(s.pHolmGrid)}: ` +
    `${verdict(s, higherIsBetter)} (n ${s.n})`
  );
}

function pointsTable(sweep: SweepFile): string {
  const name = sweep.metric?.name ?? 'metric';
  const higher = sweep.metric?.higherIsBetter ?? false;
  const body = sweep.points.flatMap((point) => {
    const link = `<a href="${escapeHtml(`${point.dir}/report.html`)}">${escapeHtml(point.label)}</a>`;
    if (point.status !== 'done')
      return [`<tr><th scope="row">${point.index}. ${link}</th><td colspan="5" class="note">${point.status}</td></tr>`];
    const methods = sortMethods(Object.keys(point.summary ?? {}));
    return methods.map((method, i) => {
      const summary = point.summary?.[method];
      const head = i === 0 ? `<th scope="row" rowspan="${methods.length}">${point.index}. ${link}</th>` : '';
      const differences = [point.pairedVsReinit, point.pairedVsStandardLong].map(
        (paired) =>
          `<td>${escapeHtml(formatDifference(paired?.[method]?.valMetric as GridStats | undefined, higher))}</td>`,
      );
      return (
        `<tr>${head}<td>${escapeHtml(method)}</td><td>${escapeHtml(formatStats(summary?.valMetric as AnyStats))}</td>` +
        `<td>${escapeHtml(formatStats(summary?.testMetric as AnyStats))}</td>${differences.join('')}</tr>`
      );
    });
  });
  return (
    `<table><thead><tr><th>point</th><th>method</th><th>val ${escapeHtml(name)}: mean ± std</th>` +
    `<th>test ${escapeHtml(name)}</th><th>− reinit, val ${escapeHtml(name)} (paired)</th>` +
    `<th>− standard-long, val ${escapeHtml(name)} (paired)</th></tr></thead>` +
    `<tbody>${body.join('')}</tbody></table>`
  );
}

function failedSection(sweep: SweepFile): string {
  const failed = Object.entries(sweep.jobs).filter(([, job]) => job.status === 'failed');
  if (!failed.length) return '';
  const items = failed.map(
    ([id, job]) =>
      `<li><code>${escapeHtml(id)}</code> ${escapeHtml(job.method)} seeds ${escapeHtml(job.seeds.join(', '))} ` +
      `(points ${escapeHtml(job.points.join(', '))}): ${escapeHtml(job.error ?? 'failed')}</li>`,
  );
  return `<h2>Failed jobs</h2><p class="note">Their points have no results; <code>pn sweep --resume</code> runs them again.</p><ul>${items.join('')}</ul>`;
}

/** The sweep's report: one self-contained HTML page. */
export async function renderSweepReport(sweep: SweepFile): Promise<string> {
  const title = `Persistent Neurons — sweep of ${sweep.experiment} (${sweep.preset})`;
  const rendered: string[] = [];
  for (const [i, figure] of figures(sweep).entries()) rendered.push(await renderFigure(figure, i));
  const t = sweep.totals;
  const meta =
    `${t.points} points · ${t.jobs} jobs (${t.done} done${t.failed ? `, ${t.failed} failed` : ''}) · ` +
    `${formatNumber(t.computeSeconds)} s of compute · version ${sweep.version} · ${sweep.status}`;
  const grid = sweep.grid.length
    ? `<ul>${sweep.grid.map((a) => `<li><code>${escapeHtml(a.key)}</code>: ${escapeHtml(a.values.map(formatValue).join(', '))}</li>`).join('')}</ul>`
    : '<p>No grid: one point, the base config.</p>';
  return htmlDocument(
    title,
    meta,
    `<h2>Grid</h2>
${grid}
<h2>Points</h2>
<p class="note">Each point is a run of its own (its report is linked); statistics over seeds as each run's report gives them.
A paired difference gives its mean, the 95% confidence interval of the mean (paired t over the seeds), the t-test's p and
<em>grid p</em>: p Holm-adjusted across every comparison of the grid (all points, persistent methods and both baselines),
the correction to apply before calling the best cell of a grid a gain.</p>
${pointsTable(sweep)}
${failedSection(sweep)}
<h2>Plots</h2>
${rendered.filter((f) => f !== '').join('\n') || '<p>No data to plot.</p>'}
<h2>Base configuration</h2>
<pre>${escapeHtml(JSON.stringify(sweep.base, null, 2))}</pre>
`,
  );
}
