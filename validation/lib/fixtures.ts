// Real traces kept in validation/fixtures/ so that `npm test` runs the importer on real
// kernel output (tracefs header, flag columns, hex EC names, other kvm events, sched_switch
// and trace_marker lines interleaved) and checks the model against the kernel on them:
// - scripted programs: the WHOLE measurement window (from the VMM's fpswitch-begin marker
//   to its fpswitch-end marker), with the real FP trap count of that window, the program's
//   FP use and the guests' layout in the manifest: test/ground-truth.test.ts imports each
//   one and asserts lazy-vcpu predicts exactly the real count;
// - the Linux guest: an excerpt (its windows are thousands of lines).
// Written only with --update-fixtures.
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SCRIPTED } from './plan.js';
import type { GuestLayout } from './program-fp.js';
import type { Cell } from './results.js';
import { countEvents, parseTrace } from './trace.js';
import { REPO_DIR, VALIDATION_DIR, ensureDir, progress } from './util.js';

/** Which cells become fixtures: whole windows for scripted programs, `lines` of an excerpt otherwise. */
const PICK: Array<{ program: string; lines?: number }> = [
  { program: 'a64/fp-hvc' },
  { program: 'a64/fp-mmio' },
  { program: 'a32/fpexc-fp-hvc' },
  { program: 'hackbench', lines: 400 },
];

/** A scripted fixture's entry: what the test needs to predict its FP traps. */
export interface ScriptedFixture {
  readonly program: {
    name: string;
    el1: 'aarch64' | 'aarch32';
    fp: boolean;
    exit: 'hvc' | 'mmio';
    fpexcToggle: boolean;
    iterations: number;
  };
  readonly layout: GuestLayout;
  /** real FP/SIMD traps to EL2 in the window (QEMU's exception log) */
  readonly realFpTraps: number;
}

/** What the fixtures need of a boot. */
interface FixtureBoot {
  readonly id: string;
  readonly mode: 'vhe' | 'nvhe';
  readonly icount: boolean;
  readonly kvmLine?: string;
}

type Pick = (typeof PICK)[number];

/** The fixture's lines [start, end) of a trace file (0-based), or null without a window. */
function fixtureRange(
  all: readonly string[],
  headerLength: number,
  pick: Pick,
  firstLine: number,
): { start: number; end: number } | null {
  if (pick.lines === undefined) {
    // the window with its two trace_marker lines (the importer ignores them)
    const begin = all.findIndex((l) => /tracing_mark_write: fpswitch-begin/.test(l));
    const close = all.findIndex((l) => /tracing_mark_write: fpswitch-end/.test(l));
    if (begin < 0 || close < 0) return null;
    return { start: begin, end: close + 1 };
  }
  // a few lines before the measurement window, to show what precedes it
  const start = Math.max(headerLength, firstLine - 1 - 3);
  return { start, end: start + pick.lines };
}

/** What the test needs to predict a scripted program's FP traps; undefined for Linux. */
function scriptedFixture(c: Cell, pick: Pick, layout: GuestLayout): ScriptedFixture | undefined {
  const p = SCRIPTED.find((x) => x.name === pick.program);
  if (!p || !c.fpTraps) return undefined;
  return {
    program: {
      name: p.name,
      el1: p.el1,
      fp: p.fp,
      exit: p.exit,
      fpexcToggle: p.fpexcToggle,
      iterations: Number(c.params.iterations),
    },
    layout,
    realFpTraps: c.fpTraps.total,
  };
}

/** Writes one cell's fixture trace; returns its file name and manifest entry, or null. */
function writeFixture(
  dir: string,
  b: FixtureBoot,
  c: Cell,
  pick: Pick,
  layout: GuestLayout,
  generatedAt: string,
): { name: string; entry: Record<string, unknown> } | null {
  if (!c.trace) return null;
  const all = readFileSync(join(REPO_DIR, c.trace.file), 'utf8').split('\n');
  const header = all.filter((l, i) => l.startsWith('#') && i < 20);
  const range = fixtureRange(all, header.length, pick, c.trace.firstLine);
  if (!range) return null;
  const { start, end } = range;
  const body = all.slice(start, end).filter((l) => l.length > 0);
  const text = `${[...header, ...body].join('\n')}\n`;
  const name = `${b.mode}-${pick.program.replace(/\//g, '-')}.trace`;
  writeFileSync(join(dir, name), text);
  const parsed = parseTrace(text);
  const s = countEvents(parsed.events);
  const scripted = scriptedFixture(c, pick, layout);
  const entry = {
    source: {
      run: generatedAt,
      boot: b.id,
      program: pick.program,
      el1: c.el1,
      mode: b.mode,
      kvmLine: b.kvmLine,
      traceLines: [start + 1, start + body.length],
      whole: pick.lines === undefined,
    },
    headerLines: parsed.headerLines,
    eventLines: parsed.events.length,
    unparsedLines: parsed.badLines,
    kvmEntry: s.entries,
    kvmExit: s.exits,
    exitsByType: s.exitsByType,
    exitsByClass: s.exitsByClass,
    kvmUserspaceExit: s.userspaceExits,
    otherEvents: countOthers(parsed.events.map((e) => e.event)),
    ...(scripted ? { scripted } : {}),
  };
  return { name, entry };
}

/** Writes validation/fixtures/: the picked cells' traces of the boots without -icount and
 * manifest.json describing each; traces no longer picked are removed. */
export function writeFixtures(
  boots: readonly FixtureBoot[],
  cells: readonly Cell[],
  layout: GuestLayout,
  generatedAt: string,
): void {
  const dir = ensureDir(join(VALIDATION_DIR, 'fixtures'));
  const manifest: Record<string, unknown> = {};
  for (const b of boots.filter((x) => !x.icount)) {
    for (const pick of PICK) {
      const c = cells.find((x) => x.boot === b.id && x.program === pick.program);
      const f = c && writeFixture(dir, b, c, pick, layout, generatedAt);
      if (f) manifest[f.name] = f.entry;
    }
  }
  // traces no longer picked go, so the folder holds exactly what the manifest describes
  for (const f of readdirSync(dir))
    if (f.endsWith('.trace') && !(f in manifest)) rmSync(join(dir, f));
  writeFileSync(join(dir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  progress(`fixtures: ${Object.keys(manifest).length} traces in validation/fixtures/`);
}

function countOthers(events: string[]): Record<string, number> {
  const o: Record<string, number> = {};
  for (const e of events)
    if (!['kvm_entry', 'kvm_exit', 'kvm_userspace_exit'].includes(e)) o[e] = (o[e] ?? 0) + 1;
  return o;
}
