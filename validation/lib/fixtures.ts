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
export interface FixtureBoot {
  readonly id: string;
  readonly mode: 'vhe' | 'nvhe';
  readonly icount: boolean;
  readonly kvmLine?: string;
}

// eslint-disable-next-line max-lines-per-function -- not split yet (README, Layout: functions kept long)
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
      if (!c?.trace) continue;
      const all = readFileSync(join(REPO_DIR, c.trace.file), 'utf8').split('\n');
      const header = all.filter((l, i) => l.startsWith('#') && i < 20);
      let start: number;
      let end: number;
      if (pick.lines === undefined) {
        // the window with its two trace_marker lines (the importer ignores them)
        const begin = all.findIndex((l) => /tracing_mark_write: fpswitch-begin/.test(l));
        const close = all.findIndex((l) => /tracing_mark_write: fpswitch-end/.test(l));
        if (begin < 0 || close < 0) continue;
        start = begin;
        end = close + 1;
      } else {
        // a few lines before the measurement window, to show what precedes it
        start = Math.max(header.length, c.trace.firstLine - 1 - 3);
        end = start + pick.lines;
      }
      const body = all.slice(start, end).filter((l) => l.length > 0);
      const text = `${[...header, ...body].join('\n')}\n`;
      const name = `${b.mode}-${pick.program.replace(/\//g, '-')}.trace`;
      writeFileSync(join(dir, name), text);
      const parsed = parseTrace(text);
      const s = countEvents(parsed.events);
      const p = SCRIPTED.find((x) => x.name === pick.program);
      const scripted: ScriptedFixture | undefined =
        p && c.fpTraps
          ? {
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
            }
          : undefined;
      manifest[name] = {
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
