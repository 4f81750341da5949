/**
 * Hash keys of semantic-machine states. Two states get the same key exactly when every
 * field is equal, whatever order the policy built its own state's objects in.
 *
 * The fixed fields are packed one character each. The policy's state, which the engine
 * knows nothing about, is interned: its canonical JSON (sorted object keys) gets a small
 * number. The search builds a key for every transition it explores, and most transitions
 * leave the policy's state as it was, so the keyer first compares it with the state it
 * came from (no allocation) before serialising anything.
 */

import { MAX_VCPUS } from './config.js';
import type { SemState, Tag } from '../machine/semantic-machine.js';

/** Tag code: owners run from -2 (nobody) upwards; the low bit is `latest`. */
function tag(t: Tag): number {
  return (t.owner + 2) * 2 + (t.latest ? 1 : 0);
}

/** JSON with object keys sorted, so equal plain data gives equal text. */
function canonicalJson(x: unknown): string {
  if (x === null || typeof x !== 'object')
    return x === undefined || typeof x === 'function' || typeof x === 'symbol'
      ? 'null'
      : JSON.stringify(x);
  if (Array.isArray(x)) return `[${x.map(canonicalJson).join(',')}]`;
  const o = x as Record<string, unknown>;
  return `{${Object.keys(o)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`)
    .join(',')}}`;
}

/** Deep equality of plain data (what policies keep as state). */
function plainEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!plainEqual(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  // for-in over plain objects visits own keys only; count instead of allocating key lists.
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  let n = 0;
  for (const k in ao) {
    if (!Object.prototype.hasOwnProperty.call(bo, k) || !plainEqual(ao[k], bo[k])) return false;
    n++;
  }
  for (const _k in bo) n--;
  return n === 0;
}

/** Scratch buffer of 16-bit codes for `packKey` (reused: one key per transition). */
const codes: number[] = [];

/**
 * Packs the fixed fields of a state (everything but the policy's own state) and a policy
 * state id into a short string of 16-bit characters, built in one `String.fromCharCode`
 * call: short flat strings hash fast, and the search hashes one per transition.
 * Layout: four 4-bit fields per character (tags, flags split in two nibbles, loaded,
 * bound, per-vCPU saved FPEXC/CPACR/FPEXC.EN), then the policy id in 15-bit digits.
 */
let acc = 0;
let nib = 0;

function put(v: number): void {
  acc |= v << (4 * nib);
  if (++nib === 4) {
    codes.push(acc);
    acc = 0;
    nib = 0;
  }
}

function packKey(s: SemState, policyId: number): string {
  // 4-bit tag codes: owners must stay below 6 or distinct states would share a key.
  if (s.vcpuFp.length > MAX_VCPUS)
    throw new Error(`state keys pack at most ${MAX_VCPUS} vCPUs, got ${s.vcpuFp.length}`);
  codes.length = 0;
  acc = 0;
  nib = 0;
  put(tag(s.regs));
  put(tag(s.hostCtxt));
  put(tag(s.hostTask));
  const flags =
    (s.fpexcHw ? 1 : 0) | (s.tfpWritten ? 2 : 0) | (s.tfpEffective ? 4 : 0) | (s.running ? 8 : 0);
  put(flags);
  put(s.foreign ? 1 : 0);
  put(s.loaded + 2);
  put(s.bound + 2);
  for (let i = 0; i < s.vcpuFp.length; i++) {
    const g = s.guests[i];
    put(tag(s.vcpuFp[i]));
    put((s.fpexcSaved[i] ? 1 : 0) | (g.cpacr ? 2 : 0) | (g.fpexcEn ? 4 : 0));
  }
  if (nib > 0) codes.push(acc);
  // Policy id: 15-bit digits, the last one marked with bit 15, so the key is unambiguous.
  let id = policyId;
  while (id >= 0x8000) {
    codes.push(id & 0x7fff);
    id = Math.floor(id / 0x8000);
  }
  codes.push(0x8000 | id);
  return String.fromCharCode.apply(null, codes);
}

/**
 * The fixed fields of a state as text (everything but the policy's state). Tag codes fit
 * in 4 bits while owners stay below 6, i.e. up to `MAX_VCPUS` = 5 vCPUs.
 */
export function machineKey(s: SemState): string {
  return packKey(s, 0);
}

/** Interns policy states and builds state keys. One per search. */
export class StateKeyer {
  /** Interned policy states, by id. */
  private readonly values: unknown[] = [];
  private readonly idOfCanonical = new Map<string, number>();
  /** Plain `JSON.stringify` text to id: equal data written in another key order maps to the same id. */
  private readonly idOfRaw = new Map<string, number>();

  /**
   * The id of a policy state. `hint` is the id of a state this one may equal (the state
   * a transition started from): checked first, without serialising.
   */
  policyId(x: unknown, hint = -1): number {
    if (hint >= 0 && plainEqual(x, this.values[hint])) return hint;
    // Native JSON first; the canonical form only for a text not seen before.
    const raw = (JSON.stringify(x) as string | undefined) ?? 'undefined';
    let id = this.idOfRaw.get(raw);
    if (id !== undefined) return id;
    const c = canonicalJson(x);
    id = this.idOfCanonical.get(c);
    if (id === undefined) {
      id = this.values.length;
      this.values.push(structuredClone(x));
      this.idOfCanonical.set(c, id);
    }
    this.idOfRaw.set(raw, id);
    return id;
  }

  /** How many distinct policy states have been interned. */
  get policyStates(): number {
    return this.values.length;
  }

  /** The interned policy state with this id: shared, so it must never be mutated. */
  value(policyId: number): unknown {
    return this.values[policyId];
  }

  /** The key of a state whose policy state has id `policyId`. */
  key(s: SemState, policyId: number): string {
    return packKey(s, policyId);
  }
}

/** A self-contained canonical key (no interning), for occasional comparisons. */
export function stateKey(s: SemState): string {
  return `${machineKey(s)}|${canonicalJson(s.policy)}`;
}
