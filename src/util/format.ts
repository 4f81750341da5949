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

/**
 * The width output should fit: the terminal's columns when standard output is one, else
 * `COLUMNS` when set (a pipe from a script that knows its width), else 100.
 */
export function termWidth(): number {
  const cols = process.stdout.isTTY ? process.stdout.columns : 0;
  if (cols > 0) return cols;
  const env = Number(process.env.COLUMNS);
  return Number.isInteger(env) && env > 0 ? env : 100;
}

/**
 * Word-wraps `text` to lines of at most `width` characters (a word longer than the width
 * is cut). Cost: O(length).
 */
function wrap(text: string, width: number): string[] {
  const w = Math.max(1, width);
  const out: string[] = [];
  for (const para of text.split('\n')) {
    // A line that fits keeps its spacing (a text bar chart's columns mean something).
    if (para.length <= w) {
      out.push(para);
      continue;
    }
    let line = '';
    for (let word of para.split(/ +/)) {
      while (word.length > w) {
        if (line) out.push(line);
        out.push(word.slice(0, w));
        word = word.slice(w);
        line = '';
      }
      if (!line) line = word;
      else if (line.length + 1 + word.length <= w) line += ` ${word}`;
      else {
        out.push(line);
        line = word;
      }
    }
    out.push(line);
  }
  return out;
}

const NUMERIC =
  /^[-+]?[\d,.]+(e[-+]?\d+)?(%| ?B| ?s| ?ms| ?ns| ?us| ?x| pt| cycles| runs\/s)?$|^-$/;

interface TableOptions {
  /** Width to fit (default: `termWidth()`). */
  readonly width?: number;
  /** Per column: 'l' or 'r' (default: numbers right, text left). */
  readonly align?: readonly ('l' | 'r')[];
  /** Put in front of every line (a table nested under a heading); counts against the width. */
  readonly indent?: string;
}

/**
 * A text table that fits `width`: numbers (with their units) right-aligned, text left;
 * when the natural width is too wide, the widest text columns are narrowed and their
 * cells word-wrapped onto continuation lines (numbers are never wrapped). Cost: O(cells).
 */
export function table(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  opts: TableOptions = {},
): string {
  const pre = opts.indent ?? '';
  const width = (opts.width ?? termWidth()) - pre.length;
  const right = header.map(
    (_, i) =>
      opts.align?.[i] === 'r' ||
      (opts.align?.[i] === undefined &&
        rows.length > 0 &&
        rows.every((r) => NUMERIC.test(r[i] ?? ''))),
  );
  const data = header.map((_, i) => Math.max(0, ...rows.map((r) => (r[i] ?? '').length)));
  const widths = header.map((h, i) => Math.max(h.length, data[i]));
  // Narrowest a column may get: numbers keep their width (only their header wraps), text
  // its longest word or 12, whichever is less.
  const least = header.map((_, i) => {
    // Numbers, and preformatted text (runs of spaces: a text bar chart), keep their width.
    if (right[i] || rows.some((r) => / {2}/.test(r[i] ?? ''))) return Math.max(1, data[i]);
    const word = Math.max(1, ...rows.flatMap((r) => (r[i] ?? '').split(' ').map((w) => w.length)));
    return Math.min(widths[i], Math.max(Math.min(word, 12), 4));
  });
  const total = () => widths.reduce((a, b) => a + b, 0) + 2 * (widths.length - 1);
  // Narrow the widest column that can give, one character at a time.
  while (total() > width) {
    let k = -1;
    for (let i = 0; i < widths.length; i++)
      if (widths[i] > least[i] && (k < 0 || widths[i] > widths[k])) k = i;
    if (k < 0) break;
    widths[k]--;
  }
  const render = (cells: readonly string[], isHeader = false) => {
    const parts = cells.map((c, i) => (right[i] && !isHeader ? [c] : wrap(c, widths[i])));
    const height = Math.max(1, ...parts.map((p) => p.length));
    const lines: string[] = [];
    for (let l = 0; l < height; l++)
      lines.push(
        widths
          .map((w, i) => {
            const c = parts[i]?.[l] ?? '';
            return right[i] ? c.padStart(w) : c.padEnd(w);
          })
          .join('  ')
          .trimEnd(),
      );
    return lines;
  };
  return [
    ...render(header, true),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...rows.flatMap((r) => render(r)),
  ]
    .map((l) => pre + l)
    .join('\n');
}

/**
 * Every line of `text` that is wider than `width`, word-wrapped: continuation lines keep
 * the line's own indentation plus two spaces. Lines that fit are left alone. Cost: O(length).
 */
export function fit(text: string, width = termWidth()): string {
  return text
    .split('\n')
    .map((line) => {
      if (line.length <= width) return line;
      const lead = (/^ */.exec(line)?.[0] ?? '').slice(0, Math.floor(width / 3));
      const body = wrap(line.trimStart(), width - lead.length - 2);
      return body.map((l, i) => `${lead}${i === 0 ? '' : '  '}${l}`).join('\n');
    })
    .join('\n');
}

/** Prose wrapped to the terminal (`termWidth()`), each line after the first indented by `hang`. */
export function para(text: string, hang = 0, width = termWidth()): string {
  const lines = wrap(text, width - hang);
  return lines.map((l, i) => (i === 0 ? l : `${' '.repeat(hang)}${l}`)).join('\n');
}
