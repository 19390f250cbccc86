import { escapeHtml, formatInterval, formatNumber, formatP, verdict } from './format.js';
import {
  type Figure,
  learningCurvesSpec,
  metricPerMethodSpec,
  renderSvg,
  sortMethods,
  trajectoryCurvesSpec,
} from './plots.js';
import type { Paired, PairedStats, Results, RunRecord, Stats } from './results-schema.js';

function formatStats(s: Stats | undefined, total?: number): string {
  if (!s || s.mean === null) return '—';
  const core = s.std === null ? formatNumber(s.mean) : `${formatNumber(s.mean)} ± ${formatNumber(s.std)}`;
  return total !== undefined && s.n < total ? `${core} (n=${s.n})` : core;
}

function formatPercent(rate: number | undefined): string {
  return rate === undefined || !Number.isFinite(rate) ? '—' : `${formatNumber(rate * 100)}%`;
}

/** Gives each SVG's ids (clip paths, gradients) a prefix of its own, so several SVGs can share one page. */
function scopeSvgIds(svg: string, prefix: string): string {
  return svg
    .replace(/\bid="([^"]+)"/g, `id="${prefix}-$1"`)
    .replace(/url\(#([^)]+)\)/g, `url(#${prefix}-$1)`)
    .replace(/href="#([^"]+)"/g, `href="#${prefix}-$1"`);
}

export async function renderFigure(figure: Figure, index: number): Promise<string> {
  if (!figure.spec) return '';
  let body: string;
  try {
    body = `<div class="plot">${scopeSvgIds(await renderSvg(figure.spec), `fig${index}`)}</div>`;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    body = `<p class="error">This plot could not be rendered: ${escapeHtml(message)}</p>`;
  }
  return `<figure><h3>${escapeHtml(figure.title)}</h3>${body}<figcaption>${escapeHtml(figure.caption)}</figcaption></figure>`;
}

function summaryTable(results: Results): string {
  const methods = sortMethods(Object.keys(results.summary));
  if (methods.length === 0) return '<p>No summary.</p>';
  const { name, higherIsBetter, successThreshold } = results.metric;
  const hasSuccess = methods.some((m) => results.summary[m].successRate !== undefined);
  const hasTest = methods.some((m) => results.summary[m].testMetric.n > 0);
  // The best mean validation metric is shown in bold.
  const means = methods.map((m) => results.summary[m].valMetric.mean).filter((v): v is number => v !== null);
  const best = means.length > 1 ? (higherIsBetter ? Math.max(...means) : Math.min(...means)) : null;
  const successHeader =
    successThreshold === undefined
      ? 'success rate'
      : `success rate (${name} ${higherIsBetter ? '≥' : '≤'} ${formatNumber(successThreshold)})`;
  const head = [
    'method',
    'runs',
    ...(hasSuccess ? [successHeader] : []),
    'diverged',
    `val ${name} mean ± std`,
    `val ${name} median`,
    ...(hasTest ? [`test ${name} mean ± std`, `test ${name} median`] : []),
  ];
  const rows = methods.map((m) => {
    const s = results.summary[m];
    const valMean = formatStats(s.valMetric, s.runs);
    const cells = [
      `<th scope="row">${escapeHtml(m)}</th>`,
      `<td>${s.runs}</td>`,
      ...(hasSuccess ? [`<td>${formatPercent(s.successRate)}</td>`] : []),
      `<td>${s.diverged}</td>`,
      `<td>${best !== null && s.valMetric.mean === best ? `<strong>${escapeHtml(valMean)}</strong>` : escapeHtml(valMean)}</td>`,
      `<td>${formatNumber(s.valMetric.median)}</td>`,
      ...(hasTest
        ? [`<td>${escapeHtml(formatStats(s.testMetric, s.runs))}</td>`, `<td>${formatNumber(s.testMetric.median)}</td>`]
        : []),
    ];
    return `<tr>${cells.join('')}</tr>`;
  });
  return `<table><thead><tr>${head.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

/** How many seeds `method` beats `baseline` on, comparing final metrics of the same seed. */
function pairedWins(
  results: Results,
  method: string,
  baseline: string,
  pick: (run: RunRecord) => number | null,
): { wins: number; ties: number; n: number } {
  const bySeed = (name: string) =>
    new Map(results.runs.filter((r) => r.method === name).map((r) => [r.seed, pick(r)] as const));
  const subject = bySeed(method);
  const reference = bySeed(baseline);
  let wins = 0;
  let ties = 0;
  let n = 0;
  for (const [seed, p] of subject) {
    const r = reference.get(seed);
    if (p === null || r === null || r === undefined || !Number.isFinite(p) || !Number.isFinite(r)) continue;
    n++;
    if (p === r) ties++;
    else if (results.metric.higherIsBetter ? p > r : p < r) wins++;
  }
  return { wins, ties, n };
}

interface Comparison {
  method: string;
  baseline: string;
  split: 'validation' | 'test';
  s: PairedStats;
}

function pairedReading(results: Results, { method, baseline, split, s }: Comparison): string {
  const { name, higherIsBetter } = results.metric;
  if (s.mean === null || s.n === 0) return `No seed has a finite ${split} ${name} for both ${method} and ${baseline}.`;
  const { wins, ties, n } = pairedWins(results, method, baseline, (r) =>
    split === 'validation' ? r.final.valMetric : r.final.testMetric,
  );
  const tally = n > 0 ? `; better on ${wins} of ${n} seeds${ties > 0 ? ` (${ties} ties)` : ''}` : '';
  const found = verdict(s, higherIsBetter);
  const what =
    found === 'too few seeds'
      ? `a mean difference of ${formatNumber(s.mean)}, from too few seeds for an interval`
      : found === 'no detectable difference'
        ? `no detectable difference (mean ${formatNumber(s.mean)}; the 95% interval ${formatInterval(s.ci95)} spans 0)`
        : `${found} by ${formatNumber(Math.abs(s.mean))} (95% interval ${formatInterval(s.ci95)}, p ${formatP(s.p)})`;
  return `${split} ${name}, ${method} against ${baseline}: ${what}${tally}.`;
}

/** Every persistent method's differences to reinit and standard-long; results from before scopes hold only `paired`. */
function comparisons(results: Results): Comparison[] {
  const baselines: [string, Record<string, Paired> | undefined][] = [
    ['reinit', results.pairedVsReinit ?? (results.paired ? { persistent: results.paired } : undefined)],
    ['standard-long', results.pairedVsStandardLong],
  ];
  return baselines.flatMap(([baseline, byMethod]) =>
    sortMethods(Object.keys(byMethod ?? {})).flatMap((method) => {
      const paired = (byMethod as Record<string, Paired>)[method];
      const splits = [
        ['validation', paired.valMetric],
        ['test', paired.testMetric],
      ] as const;
      return splits
        .filter(([split, s]) => split === 'validation' || s.n > 0)
        .map(([split, s]) => ({ method, baseline, split, s }));
    }),
  );
}

function pairedSection(results: Results): string {
  const { name, higherIsBetter } = results.metric;
  const intro =
    '<p class="note">Each persistent method (all layers, or a scope of them) − a baseline on the same seeds, of the final ' +
    "metric: mean ± std over seeds, the 95% confidence interval of the mean difference and the paired t-test's p-value, " +
    `also Holm-adjusted across this table's comparisons of the same split. ${higherIsBetter ? 'Higher' : 'Lower'} is better ` +
    `for ${escapeHtml(name)}.</p>`;
  const list = comparisons(results);
  if (!list.length)
    return `${intro}<p>Not available: this run does not have a persistent method and a baseline on common seeds.</p>`;
  const rows = list.map(
    ({ method, baseline, split, s }) =>
      `<tr><th scope="row">${escapeHtml(method)} − ${escapeHtml(baseline)}</th>` +
      `<td>${split === 'validation' ? 'val' : 'test'} ${escapeHtml(name)}</td><td>${escapeHtml(formatStats(s))}</td>` +
      `<td>${escapeHtml(formatInterval(s.ci95))}</td><td>${escapeHtml(formatP(s.p))}</td><td>${escapeHtml(formatP(s.pHolm))}</td>` +
      `<td>${s.n}</td><td>${verdict(s, higherIsBetter)}</td></tr>`,
  );
  const readings = list.map((comparison) => `<li>${escapeHtml(pairedReading(results, comparison))}</li>`);
  return (
    '<table><thead><tr><th>difference</th><th>metric</th><th>mean ± std</th><th>95% CI</th><th>p</th><th>p (Holm)</th>' +
    `<th>n</th><th>verdict</th></tr></thead><tbody>${rows.join('')}</tbody></table>${intro}<ul class="reading">${readings.join('')}</ul>`
  );
}

function runsTable(results: Results): string {
  const methods = sortMethods(results.runs.map((r) => r.method));
  const runs = [...results.runs].sort(
    (a, b) => methods.indexOf(a.method) - methods.indexOf(b.method) || a.seed - b.seed,
  );
  const rows = runs.map((r) => {
    const diverged = r.trajectories.filter((it) => it.diverged).length;
    return (
      `<tr><td>${escapeHtml(r.method)}</td><td>${r.seed}</td><td>${r.trajectories.length}</td><td>${r.selectedTrajectory}</td>` +
      `<td>${formatNumber(r.final.trainLoss)}</td><td>${formatNumber(r.final.valMetric)}</td><td>${formatNumber(r.final.testMetric)}</td>` +
      `<td>${diverged}</td><td>${r.success === undefined ? '—' : r.success ? 'yes' : 'no'}</td></tr>`
    );
  });
  const { name } = results.metric;
  return (
    `<details><summary>All ${results.runs.length} runs</summary><table><thead><tr><th>method</th><th>seed</th><th>trajectories</th>` +
    `<th>selected</th><th>train loss</th><th>val ${escapeHtml(name)}</th><th>test ${escapeHtml(name)}</th><th>diverged</th><th>success</th>` +
    `</tr></thead><tbody>${rows.join('')}</tbody></table></details>`
  );
}

function environmentTable(results: Results): string {
  const env = results.environment;
  const rows: [string, string][] = [
    ['backend', env.backend],
    ['threads', env.threads === null ? 'default' : String(env.threads)],
    ['node', env.node],
    ['tfjs', env.tfjs],
    ['platform', env.platform],
    ['cpus', `${env.cpus} × ${env.cpuModel}${env.isa ? ` (${env.isa})` : ''}`],
    ...(env.version ? [['version', env.version] as [string, string]] : []),
    ['started', results.startedAt],
    ['finished', results.finishedAt],
    ['duration', `${formatNumber(results.durationSeconds)} s`],
  ];
  return `<table class="kv"><tbody>${rows.map(([k, v]) => `<tr><th scope="row">${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`).join('')}</tbody></table>`;
}

/** The figures every run has: final metric per method, learning curves, validation metric per trajectory. */
function genericFigures(results: Results): Figure[] {
  const name = results.metric.name;
  return [
    {
      title: `Final ${name} per method`,
      caption:
        `Each point is one seed's final ${name} (validation, and test where measured); the black bar is the median. ` +
        `${results.metric.higherIsBetter ? 'Higher' : 'Lower'} is better. Runs whose metric is missing (diverged) are not shown.`,
      spec: metricPerMethodSpec(results),
    },
    {
      title: 'Learning curves',
      caption:
        `Validation ${name} and training loss (without the penalty) over the epochs of each method's run: trajectory k of E epochs ` +
        'covers epochs (k−1)·E+1 to k·E, and standard-long one trajectory of K·E. A faint line per seed and trajectory, a bold line ' +
        "per trajectory (the mean over seeds); a black ring marks where each seed's selected trajectory ends.",
      spec: learningCurvesSpec(results),
    },
    {
      title: `Validation ${name} per trajectory`,
      caption: 'Methods with more than one trajectory: a thin line per seed, the bold line is the mean over seeds.',
      spec: trajectoryCurvesSpec(results),
    },
  ];
}

const STYLE = `
body { font-family: system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif; margin: 2rem auto; max-width: 1200px; padding: 0 1.5rem; color: #1d1d1f; line-height: 1.45; }
h1 { font-size: 1.7rem; margin-bottom: 0.2rem; }
h2 { font-size: 1.25rem; margin-top: 2.2rem; border-bottom: 1px solid #ddd; padding-bottom: 0.2rem; }
h3 { font-size: 1.05rem; margin: 0 0 0.5rem; }
.meta { color: #666; margin-top: 0; }
.note { color: #555; }
table { border-collapse: collapse; margin: 0.6rem 0; font-size: 0.92rem; }
th, td { border: 1px solid #ddd; padding: 0.3rem 0.6rem; text-align: right; font-variant-numeric: tabular-nums; }
thead th { background: #f4f4f6; text-align: center; }
tbody th, table.kv th { text-align: left; font-weight: 600; }
table.kv td { text-align: left; }
ul.reading { padding-left: 1.2rem; }
figure { margin: 1.5rem 0; }
figcaption { color: #555; font-size: 0.9rem; max-width: 70rem; }
.plot { overflow-x: auto; }
.plot svg { width: 100%; max-width: 1150px; height: auto; }
.error { color: #b00020; }
pre { background: #f6f8fa; border: 1px solid #e1e4e8; padding: 0.8rem; overflow-x: auto; font-size: 0.85rem; }
details summary { cursor: pointer; margin: 0.5rem 0; }
`;

/** A link to where `npm run explore` serves the interactive explorer (packages/explorer/vite.config.ts). */
function explorerLink(panel = ''): string {
  return (
    `<p class="meta">Watch persistent training live in the browser: <a href="http://127.0.0.1:4173/${escapeHtml(panel)}">the explorer</a> ` +
    '(start it with <code>npm run explore</code>).</p>'
  );
}

export interface ReportExtras {
  /** The experiment's own figures, after the generic ones. */
  figures?: readonly Figure[];
  /** The explorer panel showing this experiment live (a URL fragment such as `#landscape`). */
  explorerPanel?: string;
  /** A remark shown under the title (e.g. why the experiment's figures are missing). */
  note?: string;
}

/** A self-contained HTML page (inline CSS, nothing loaded from elsewhere) with a title, a meta line and a body. */
export function htmlDocument(title: string, meta: string, body: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<h1>${escapeHtml(title)}</h1>
<p class="meta">${escapeHtml(meta)}</p>
${body}
</body>
</html>
`;
}

/** The whole report of a run as one self-contained HTML document (inline CSS and SVG, nothing loaded from elsewhere). */
export async function renderReport(results: Results, extras: ReportExtras = {}): Promise<string> {
  const title = `Persistent Neurons — ${results.experiment} (${results.preset})`;
  const figs = [...genericFigures(results), ...(extras.figures ?? [])];
  const rendered: string[] = [];
  for (const [i, fig] of figs.entries()) rendered.push(await renderFigure(fig, i));
  const methods = sortMethods(results.runs.map((r) => r.method));
  const seeds = results.seeds.length;
  const meta =
    `Methods: ${methods.join(', ') || 'none'} · ${seeds} seed${seeds === 1 ? '' : 's'} · ` +
    `metric: ${results.metric.name} (${results.metric.higherIsBetter ? 'higher' : 'lower'} is better) · ` +
    `${formatNumber(results.durationSeconds)} s`;
  return htmlDocument(
    title,
    meta,
    `${explorerLink(extras.explorerPanel)}${extras.note ? `\n<p class="note">${escapeHtml(extras.note)}</p>` : ''}
<h2>Summary</h2>
${summaryTable(results)}
${runsTable(results)}
<h2>Persistent against the baselines</h2>
${pairedSection(results)}
<h2>Plots</h2>
${rendered.filter((f) => f !== '').join('\n') || '<p>No data to plot.</p>'}
<h2>Configuration</h2>
<pre>${escapeHtml(JSON.stringify(results.config, null, 2) ?? '{}')}</pre>
<h2>Environment</h2>
${environmentTable(results)}
`,
  );
}
