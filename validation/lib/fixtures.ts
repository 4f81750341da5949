// Small excerpts of the real traces, kept in validation/fixtures/ so that the importer's
// tests run on real kernel output (tracefs header, flag columns, hex EC names, other kvm
// events and trace_marker lines interleaved). Written only with --update-fixtures.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BootResult } from './boot.js';
import type { Cell } from './results.js';
import { countEvents, parseTrace } from './trace.js';
import { REPO_DIR, VALIDATION_DIR, ensureDir, progress } from './util.js';

const PICK: Array<{ program: string; lines: number }> = [
  { program: 'a64/fp-hvc', lines: 300 },
  { program: 'a64/fp-mmio', lines: 300 },
  { program: 'a32/fp-hvc', lines: 300 },
  { program: 'a32/fpexc-fp-mmio', lines: 300 },
  { program: 'hackbench', lines: 400 },
];

export function writeFixtures(boots: BootResult[], cells: Cell[]): void {
  const dir = ensureDir(join(VALIDATION_DIR, 'fixtures'));
  const manifest: Record<string, unknown> = {};
  for (const b of boots.filter((x) => !x.icount)) {
    for (const pick of PICK) {
      const c = cells.find((x) => x.boot === b.id && x.program === pick.program);
      if (!c?.trace) continue;
      const all = readFileSync(join(REPO_DIR, c.trace.file), 'utf8').split('\n');
      const header = all.filter((l, i) => l.startsWith('#') && i < 20);
      // start a few lines before the measurement window so the excerpt shows what precedes it
      const start = Math.max(header.length, c.trace.firstLine - 1 - 3);
      const body = all.slice(start, start + pick.lines).filter((l) => l.length > 0);
      const text = `${[...header, ...body].join('\n')}\n`;
      const name = `${b.mode}-${pick.program.replace(/\//g, '-')}.trace`;
      writeFileSync(join(dir, name), text);
      const parsed = parseTrace(text);
      const s = countEvents(parsed.events);
      manifest[name] = {
        source: { boot: b.id, program: pick.program, el1: c.el1, mode: b.mode, kvmLine: b.kvmLine, traceLines: [start + 1, start + body.length] },
        headerLines: parsed.headerLines,
        eventLines: parsed.events.length,
        unparsedLines: parsed.badLines,
        kvmEntry: s.entries,
        kvmExit: s.exits,
        exitsByType: s.exitsByType,
        exitsByClass: s.exitsByClass,
        kvmUserspaceExit: s.userspaceExits,
        otherEvents: countOthers(parsed.events.map((e) => e.event)),
      };
    }
  }
  writeFileSync(join(dir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  progress(`fixtures: ${Object.keys(manifest).length} trace excerpts in validation/fixtures/`);
}

function countOthers(events: string[]): Record<string, number> {
  const o: Record<string, number> = {};
  for (const e of events) if (!['kvm_entry', 'kvm_exit', 'kvm_userspace_exit'].includes(e)) o[e] = (o[e] ?? 0) + 1;
  return o;
}
