/** Number and table formatting for readable output (commands, the report's prose). */

/** 12,345 / 12,345.6 style. */
export function num(x: number, digits = 0): string {
  return x.toLocaleString('en-US', {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
}

/** At most `digits` significant digits with thousands separators: 101,500 / 31,900 / 0.0123. */
export function sig(x: number, digits = 4): string {
  if (!Number.isFinite(x)) return String(x);
  return x.toLocaleString('en-US', { maximumSignificantDigits: digits });
}

/** 37.0% style. */
export function pct(x: number, digits = 1): string {
  return `${(x * 100).toFixed(digits)}%`;
}

/** A left/right aligned text table. Numbers (and % values) are right-aligned. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const right = header.map(
    (_, i) =>
      rows.length > 0 &&
      rows.every((r) => /^[-+]?[\d,.]+(%| B| s| ms| ns| us)?$|^-$/.test(r[i] ?? '')),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (right[i] ? c.padStart(widths[i]) : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** Every line of `text` with `prefix` in front: a table nested under a heading. */
export function indent(text: string, prefix: string): string {
  return text
    .split('\n')
    .map((l) => `${prefix}${l}`)
    .join('\n');
}
