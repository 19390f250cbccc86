// Text formatting for tables and reports: no plotting library, so the CLI and the ablation can use it.

/** Escapes text for use in HTML element content and (quoted) attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A number to 4 significant digits ('—' for null, NaN or ±Infinity); exponent form below 1e-3 and from 1e5 on. */
export function formatNumber(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  if (value === 0) return '0';
  const a = Math.abs(value);
  if (a >= 1e-3 && a < 1e5) return String(Number(value.toPrecision(4)));
  const [mantissa, exponent] = value.toExponential(3).split('e');
  return `${String(Number(mantissa))}e${exponent.replace('+', '')}`;
}

/** A 95% interval as `[lo, hi]`, or '—'. */
export function formatInterval(ci: readonly [number, number] | null | undefined): string {
  return ci ? `[${formatNumber(ci[0])}, ${formatNumber(ci[1])}]` : '—';
}

/** A p-value to 2 significant digits; below 0.001 as `< 0.001`. */
export function formatP(p: number | null | undefined): string {
  if (p === null || p === undefined || !Number.isFinite(p)) return '—';
  return p < 0.001 ? '< 0.001' : String(Number(p.toPrecision(2)));
}

/**
 * What a paired difference's 95% interval says: which side is better, or "no detectable
 * difference" where it spans 0 (too few seeds: no interval, no verdict).
 */
export function verdict(
  difference: { ci95?: readonly [number, number] | null },
  higherIsBetter: boolean,
): 'better' | 'worse' | 'no detectable difference' | 'too few seeds' {
  const ci = difference.ci95;
  if (!ci) return 'too few seeds';
  if (ci[0] <= 0 && ci[1] >= 0) return 'no detectable difference';
  return ci[0] > 0 === higherIsBetter ? 'better' : 'worse';
}

/** A plain-text table: a header, a rule, one line per row; columns padded to their widest cell. */
export function textTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => cell.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}
