/** Helpers for the guest workload tests: loading workloads, collecting streams, comparing distributions. */

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { GuestWorkload } from '../src/stream/guest-schema.js';
import { guestStream } from '../src/stream/guest.js';
import { parseWorkload, WORKLOADS_DIR } from '../src/stream/workload.js';
import { CLASSES_PER_VCPU } from '../src/machine/run-class.js';

/** A built-in guest workload, parsed and validated. */
export function builtinGuest(name: string): GuestWorkload {
  const file = join(WORKLOADS_DIR, `${name}.json`);
  return parseWorkload(JSON.parse(readFileSync(file, 'utf8')), file) as GuestWorkload;
}

/** A deep copy of a workload with `edit` applied (for parameter sweeps in tests). */
export function edited(w: GuestWorkload, edit: (w: GuestWorkload) => void): GuestWorkload {
  const copy = structuredClone(w);
  edit(copy);
  return copy;
}

export interface Cols {
  cls: Uint16Array;
  key: Uint8Array;
  ns: Float64Array;
}

/** Generates `runs` runs of a guest workload into flat arrays. */
export function generate(w: GuestWorkload, runs: number, seed: number): Cols {
  const out: Cols = {
    cls: new Uint16Array(runs),
    key: new Uint8Array(runs),
    ns: new Float64Array(runs),
  };
  let at = 0;
  for (const chunk of guestStream(w, { runs, seed }).chunks()) {
    out.cls.set(chunk.cls.subarray(0, chunk.length), at);
    out.key.set(chunk.exitKey.subarray(0, chunk.length), at);
    out.ns.set(chunk.ns.subarray(0, chunk.length), at);
    at += chunk.length;
  }
  return out;
}

/** Batches for the method of batch means: consecutive runs are correlated (a time slice spans many runs). */
const BATCHES = 40;

interface Dist {
  n: number;
  /** Named category -> count per batch. */
  batches: Map<string, Float64Array>;
  /** Mean run length per batch, overall and per FP bits value. */
  nsBatches: Float64Array;
  nsByFp: Map<number, { sum: Float64Array; n: Float64Array }>;
  batchSize: number;
}

/** Distributions of a run sequence: FP bits, exit keys, host flags, FP bits of consecutive runs of a vCPU, run lengths. */
export function distribution(c: Cols): Dist {
  const n = c.cls.length;
  const batchSize = Math.floor(n / BATCHES);
  const batches = new Map<string, Float64Array>();
  const bump = (k: string, b: number) => {
    let arr = batches.get(k);
    if (!arr) batches.set(k, (arr = new Float64Array(BATCHES)));
    arr[b] += 1;
  };
  const nsBatches = new Float64Array(BATCHES);
  const nsByFp = new Map<number, { sum: Float64Array; n: Float64Array }>();
  const last = new Map<number, number>();
  for (let i = 0; i < batchSize * BATCHES; i++) {
    const b = Math.floor(i / batchSize);
    const code = c.cls[i];
    const v = Math.floor(code / CLASSES_PER_VCPU);
    const r = code % CLASSES_PER_VCPU;
    const fp = Math.floor(r / 12);
    bump(`fp${fp}`, b);
    bump(`v${v}`, b);
    bump(`key${c.key[i]}`, b);
    bump(`handled${Math.floor(r / 4) % 3}`, b);
    if (r & 2) bump('hostFp', b);
    if (r & 1) bump('put', b);
    const prev = last.get(v);
    if (prev !== undefined) bump(`pair${prev}-${fp}`, b);
    last.set(v, fp);
    nsBatches[b] += c.ns[i] / batchSize;
    let e = nsByFp.get(fp);
    if (!e) nsByFp.set(fp, (e = { sum: new Float64Array(BATCHES), n: new Float64Array(BATCHES) }));
    e.sum[b] += c.ns[i];
    e.n[b] += 1;
  }
  return { n: batchSize * BATCHES, batches, nsBatches, nsByFp, batchSize };
}

function meanVar(xs: ArrayLike<number>): { mean: number; variance: number } {
  let m = 0;
  for (let i = 0; i < xs.length; i++) m += xs[i] / xs.length;
  let v = 0;
  for (let i = 0; i < xs.length; i++) v += ((xs[i] - m) * (xs[i] - m)) / (xs.length - 1);
  return { mean: m, variance: v };
}

/**
 * Differences between two run sequences beyond `z` standard errors, by the method of
 * batch means (Law & Kelton, "Simulation Modeling and Analysis", s9.5.3): each sequence is
 * cut into 40 batches much longer than its correlation length, and the batch means are
 * compared with a two-sample test. Returns readable lines; empty when they agree.
 */
export function compareDistributions(a: Dist, b: Dist, z = 5): string[] {
  const bad: string[] = [];
  const zero = new Float64Array(BATCHES);
  const keys = new Set([...a.batches.keys(), ...b.batches.keys()]);
  const test = (label: string, xa: ArrayLike<number>, xb: ArrayLike<number>, floor: number) => {
    const A = meanVar(xa);
    const B = meanVar(xb);
    const se = Math.sqrt(A.variance / xa.length + B.variance / xb.length);
    if (Math.abs(A.mean - B.mean) > z * se + floor)
      bad.push(
        `${label}: ${A.mean.toPrecision(5)} vs ${B.mean.toPrecision(5)} (se ${se.toExponential(2)})`,
      );
  };
  for (const k of keys) {
    const pa = Array.from(a.batches.get(k) ?? zero, (x) => x / a.batchSize);
    const pb = Array.from(b.batches.get(k) ?? zero, (x) => x / b.batchSize);
    test(k, pa, pb, 2e-4);
  }
  test('mean ns', a.nsBatches, b.nsBatches, 0);
  for (const [fp, x] of a.nsByFp) {
    const y = b.nsByFp.get(fp);
    if (!y) continue;
    const ok = (e: { n: Float64Array }) => e.n.every((k) => k >= 30);
    if (!ok(x) || !ok(y)) continue;
    test(
      `mean ns of fp${fp} runs`,
      x.sum.map((s, i) => s / x.n[i]),
      y.sum.map((s, i) => s / y.n[i]),
      0,
    );
  }
  return bad;
}
