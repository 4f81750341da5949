/** `fpswitch compare`: a candidate run's results against a baseline's, with intervals. */

import {
  compareResults,
  comparisonMarkdown,
  failures,
  FIGURES,
  type Figure,
  fmtChange,
  fmtFlag,
  fmtInterval,
  fmtValue,
  loadResults,
  shownRows,
  tallyLine,
} from '../report/compare.js';
import { UserError } from '../util/errors.js';
import { table } from '../util/format.js';
import { listFlag, parse } from './args.js';

export const COMPARE_HELP = `Usage: fpswitch compare <base> <candidate> [--markdown] [--all] [--json]
                        [--fail-on-regression <pct>] [--figure <name>,...]

Compares two runs of the suite, each a results.json or a report folder holding one
(reports/latest, reports/<stamp>): every workload x policy x CPU cell's cycles per exit,
FP traps per 1,000 exits and skip rate, and the headline figures (the claim's skip
rates, each design's mean cycles per exit, simulator throughput), each change with
Welch's 95% interval over the seeds of both runs. A change is flagged when its interval
excludes zero. Results of different schema versions cannot be compared (exit 2).

  --markdown            a table to paste into a review (as bench writes to summary.md)
  --all                 every cell, not only the ones that changed significantly
  --fail-on-regression  exit 1 when a chosen figure worsens significantly by more than
                        this many percent (for CI)
  --figure              figures that count: ${FIGURES.join(', ')} (default cycles;
                        checks: a clean verdict that became a violation)
  --json                one JSON object

Exit status: 0, 1 when a regression was found, 2 for bad input.

Examples:
  fpswitch compare reports/2026-12-01T10-00-00Z reports/latest
  fpswitch compare base/results.json reports/latest --markdown > change.md
  fpswitch compare main-report/ reports/latest --fail-on-regression 5 --figure cycles,checks`;

function parseThreshold(text: string | undefined): number | null {
  if (text === undefined) return null;
  const v = Number(text.replace(/%$/, ''));
  if (text.trim() === '' || !Number.isFinite(v) || v < 0)
    throw new UserError(`--fail-on-regression ${text}: expected a percentage (0 or more)`);
  return v;
}

function parseFigures(values: string[] | undefined): Figure[] {
  const list = listFlag(values);
  if (list.length === 0) return ['cycles'];
  for (const f of list)
    if (!(FIGURES as readonly string[]).includes(f))
      throw new UserError(`--figure ${f}: expected one of ${FIGURES.join(', ')}`);
  return list as Figure[];
}

export function compareCommand(argv: readonly string[]): Promise<number> {
  return Promise.resolve(compare(argv));
}

function compare(argv: readonly string[]): number {
  const { values, positionals } = parse(
    'compare',
    argv,
    {
      markdown: { type: 'boolean' },
      all: { type: 'boolean' },
      json: { type: 'boolean' },
      'fail-on-regression': { type: 'string' },
      figure: { type: 'string', multiple: true },
      help: { type: 'boolean', short: 'h' },
    },
    true,
  );
  if (values.help) {
    console.log(COMPARE_HELP);
    return 0;
  }
  if (positionals.length !== 2)
    throw new UserError(
      `expected two results (base and candidate), got ${positionals.length} (see fpswitch compare --help)`,
    );
  const [basePath, candPath] = positionals;
  const threshold = parseThreshold(values['fail-on-regression']);
  const figures = parseFigures(values.figure);
  const c = compareResults(
    loadResults(basePath),
    loadResults(candPath),
    { base: basePath, candidate: candPath },
    threshold,
    figures,
  );
  const failed = failures(c);
  if (values.json) console.log(JSON.stringify({ ...c, failures: failed }, null, 2));
  else if (values.markdown) console.log(comparisonMarkdown(c, values.all === true));
  else {
    const rows = shownRows(c, values.all === true).map((x) => [
      x.key,
      x.figure,
      fmtValue(x, x.base),
      fmtValue(x, x.candidate),
      fmtChange(x),
      fmtInterval(x),
      fmtFlag(c, x),
    ]);
    for (const v of c.verdicts)
      rows.push([v.key, 'checks', v.base, v.candidate, '', '', v.worse ? 'REGRESSION' : 'changed']);
    console.log(`${basePath} -> ${candPath}`);
    console.log(table(['figure', 'kind', 'base', 'candidate', 'change', '95% interval', ''], rows));
    console.log(tallyLine(c));
  }
  return threshold !== null && failed.length > 0 ? 1 : 0;
}
