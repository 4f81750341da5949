// Per-run ground truth (issue 11): one line per guest run (kvm_entry..kvm_exit) of a real
// Linux guest, kept compressed under validation/fixtures/runs/<cell>.runs.tsv.gz so tests
// and the workload model can use real runs without booting anything.
//
// Format (gzip of UTF-8 text):
//   # fpswitch-runs v1
//   # {"cell": ..., "workload": ..., "guest": {...}, "mode": ..., "icount": ..., ...}
//   insns	ns	exit	fp_el0	fp_el1	switches	injected
//   2004113	2004113	IRQ	0	1	31	1
//   ...
// insns: guest instructions of the run; ns: guest time of the run in ns; exit: the class of
// the exit that ended it, named as the importer names kvm_exit classes (IRQ, WFx, HVC64,
// DABT_LOW, SYS64, ...); fp_el0 / fp_el1: the guest executed FP/SIMD at EL0 / EL1 in the
// run (0/1); switches: the guest kernel's task switches in the run; injected: 1 when KVM
// had an interrupt in the vGIC list registers at the entry that started the run, 0 if not,
// `-` when unknown.
import { readFileSync, writeFileSync } from 'node:fs';
import { gunzipSync, gzipSync } from 'node:zlib';

export const RUNS_MAGIC = '# fpswitch-runs v1';
export const RUNS_HEADER = 'insns\tns\texit\tfp_el0\tfp_el1\tswitches\tinjected';

/** One guest run (kvm_entry..kvm_exit). */
export interface RunRecord {
  insns: number;
  ns: number;
  exit: string;
  fpEl0: 0 | 1;
  fpEl1: 0 | 1;
  switches: number;
  /** null: not known for this cell */
  injected: 0 | 1 | null;
}

/** The JSON object on a fixture's second line: where the runs come from and what ran. */
export interface RunMeta {
  cell: string;
  workload: string;
  /** the guest configuration (lib/plan.ts GuestConfig) plus, per-vCPU files, `vcpu` */
  guest: Record<string, unknown>;
  mode: string;
  icount: boolean;
  kernel: string;
  source: Record<string, unknown>;
  [key: string]: unknown;
}

interface RunFile {
  meta: RunMeta;
  runs: RunRecord[];
}

function bit(s: string, where: string): 0 | 1 {
  if (s === '0') return 0;
  if (s === '1') return 1;
  throw new Error(`${where}: expected 0 or 1, got "${s}"`);
}

function count(s: string, where: string): number {
  const n = Number(s);
  if (!/^\d+$/.test(s) || !Number.isSafeInteger(n))
    throw new Error(`${where}: expected a non-negative integer, got "${s}"`);
  return n;
}

function parseRun(line: string, where: string): RunRecord {
  const f = line.split('\t');
  if (f.length !== 7) throw new Error(`${where}: expected 7 tab-separated fields, got ${f.length}`);
  if (!/^[A-Za-z0-9_()x]+$/.test(f[2])) throw new Error(`${where}: bad exit class "${f[2]}"`);
  return {
    insns: count(f[0], `${where} insns`),
    ns: count(f[1], `${where} ns`),
    exit: f[2],
    fpEl0: bit(f[3], `${where} fp_el0`),
    fpEl1: bit(f[4], `${where} fp_el1`),
    switches: count(f[5], `${where} switches`),
    injected: f[6] === '-' ? null : bit(f[6], `${where} injected`),
  };
}

/** Parse the (uncompressed) text of a per-run file; errors name `name` and the line. */
export function parseRunRecords(text: string, name: string): RunFile {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  if (lines[0] !== RUNS_MAGIC) throw new Error(`${name}:1: not a "${RUNS_MAGIC}" file`);
  if (!lines[1]?.startsWith('# ')) throw new Error(`${name}:2: expected "# {metadata JSON}"`);
  let meta: RunMeta;
  try {
    meta = JSON.parse(lines[1].slice(2)) as RunMeta;
  } catch (e) {
    throw new Error(`${name}:2: metadata is not JSON: ${(e as Error).message}`, { cause: e });
  }
  if (typeof meta.cell !== 'string' || typeof meta.guest !== 'object')
    throw new Error(`${name}:2: metadata needs "cell" and "guest"`);
  if (lines[2] !== RUNS_HEADER) throw new Error(`${name}:3: expected the header "${RUNS_HEADER}"`);
  const runs = lines.slice(3).map((l, i) => parseRun(l, `${name}:${i + 4}`));
  return { meta, runs };
}

/**
 * Read a per-run fixture (`validation/fixtures/runs/<cell>.runs.tsv.gz`, or the same text
 * uncompressed). Cost: one gunzip and one pass over the lines. Throws one line naming the
 * file and line on a malformed file.
 */
export function readRunRecords(path: string): RunFile {
  const raw = readFileSync(path);
  const text = raw[0] === 0x1f && raw[1] === 0x8b ? gunzipSync(raw) : raw;
  return parseRunRecords(text.toString('utf8'), path);
}

/** The text of a per-run file (the inverse of parseRunRecords). */
export function formatRunRecords(meta: RunMeta, runs: readonly RunRecord[]): string {
  const out = [RUNS_MAGIC, `# ${JSON.stringify(meta)}`, RUNS_HEADER];
  for (const r of runs) {
    const inj = r.injected === null ? '-' : String(r.injected);
    out.push(`${r.insns}\t${r.ns}\t${r.exit}\t${r.fpEl0}\t${r.fpEl1}\t${r.switches}\t${inj}`);
  }
  return `${out.join('\n')}\n`;
}

/** Write a per-run file, gzipped (level 9, no timestamp in the header: byte-identical reruns). */
export function writeRunRecords(path: string, meta: RunMeta, runs: readonly RunRecord[]): void {
  writeFileSync(path, gzipSync(formatRunRecords(meta, runs), { level: 9 }));
}
