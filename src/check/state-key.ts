/**
 * The hash key of a semantic-machine state. Two states get the same key exactly when
 * every field is equal, whatever order the policy built its own state's objects in.
 * The fixed fields are packed one character each (the search builds a key for every
 * transition it explores); the policy's state, which the engine knows nothing about, is
 * canonical JSON with sorted object keys.
 */

import type { SemState, Tag } from '../machine/semantic-machine.js';

/** One character per small integer; owners run from -2 (nobody) upwards. */
function ch(n: number): string {
  return String.fromCharCode(48 + n);
}

function tag(t: Tag): string {
  return ch((t.owner + 2) * 2 + (t.latest ? 1 : 0));
}

/** JSON with object keys sorted, so equal plain data gives equal text. */
export function canonicalJson(x: unknown): string {
  if (x === null || typeof x !== 'object') return JSON.stringify(x) ?? 'null';
  if (Array.isArray(x)) return `[${x.map(canonicalJson).join(',')}]`;
  const o = x as Record<string, unknown>;
  return `{${Object.keys(o)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`)
    .join(',')}}`;
}

export function stateKey(s: SemState): string {
  let k = tag(s.regs) + tag(s.hostCtxt) + tag(s.hostTask);
  for (const t of s.vcpuFp) k += tag(t);
  const flags =
    (s.fpexcHw ? 1 : 0) | (s.tfpWritten ? 2 : 0) | (s.tfpEffective ? 4 : 0) | (s.running ? 8 : 0) | (s.foreign ? 16 : 0);
  k += ch(flags) + ch(s.loaded + 2) + ch(s.bound + 2);
  for (let i = 0; i < s.guests.length; i++) {
    const g = s.guests[i];
    k += ch((s.fpexcSaved[i] ? 1 : 0) | (g.cpacr ? 2 : 0) | (g.fpexcEn ? 4 : 0));
  }
  return `${k}|${canonicalJson(s.policy)}`;
}
