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
