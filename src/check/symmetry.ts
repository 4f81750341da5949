/**
 * Symmetry reduction over interchangeable vCPUs. Two vCPUs are interchangeable when they
 * have the same width (AArch32 or AArch64 EL1) and renaming them maps the VM partition
 * onto itself. For a policy whose hooks treat vCPUs alike (`vcpuSymmetric`: they see a
 * vCPU only through `isAArch32`, and keep null or one entry per vCPU), renaming
 * interchangeable vCPUs maps every history to a history, event for event (the alphabet is
 * the same for interchangeable vCPUs: `load vcpuN` and the guest events of the loaded
 * one), and every invariant to itself. So a state and its renamings have the same
 * futures, up to the renaming, and the same distance from the initial state (which every
 * renaming leaves unchanged: each vCPU owns its own context). The search keys each state
 * by the least key over its renamings and explores one state per orbit: the verdict and
 * the length of the shortest counterexample are unchanged, and a counterexample is still
 * a real history, because the search stores the states it reached, not their renamings.
 *
 * Cost: one key per renaming per transition (2 in the default configuration, 6 with three
 * AArch32 vCPUs); the states visited shrink by up to the group's size.
 */

import { type SemState, type Tag, vcpuOwner } from '../machine/semantic-machine.js';
import type { VcpuDesc } from '../policy/types.js';
import type { StateKeyer } from './state-key.js';

/** Every permutation of 0..n-1, identity first. */
function permutations(n: number): number[][] {
  if (n === 0) return [[]];
  const out: number[][] = [];
  for (const rest of permutations(n - 1)) {
    for (let at = rest.length; at >= 0; at--)
      out.push([...rest.slice(0, at), n - 1, ...rest.slice(at)]);
  }
  return out;
}

/** `p` maps vCPU i to p[i]: same width, and the same VM exactly when the originals share one. */
function preserves(vcpus: readonly VcpuDesc[], p: readonly number[]): boolean {
  for (let i = 0; i < vcpus.length; i++) {
    if (vcpus[i].aarch32 !== vcpus[p[i]].aarch32) return false;
    for (let j = 0; j < vcpus.length; j++) {
      if ((vcpus[i].vm === vcpus[j].vm) !== (vcpus[p[i]].vm === vcpus[p[j]].vm)) return false;
    }
  }
  return true;
}

/** The renamings of interchangeable vCPUs, identity excluded (empty: no symmetry). */
export function vcpuRenamings(vcpus: readonly VcpuDesc[]): number[][] {
  return permutations(vcpus.length)
    .filter((p) => p.some((v, i) => v !== i))
    .filter((p) => preserves(vcpus, p));
}

function renameTag(t: Tag, p: readonly number[]): Tag {
  return t.owner >= 0 ? { owner: vcpuOwner(p[t.owner]), latest: t.latest } : t;
}

/** Moves element i of `a` to position p[i], mapping it with `f`. */
function permuteArray<T>(a: readonly T[], p: readonly number[], f: (x: T) => T = (x) => x): T[] {
  const out = new Array<T>(a.length);
  for (let i = 0; i < a.length; i++) out[p[i]] = f(a[i]);
  return out;
}

/** The state with every vCPU i renamed p[i] (owners, loaded, bound and per-vCPU fields). */
export function renameState(s: SemState, p: readonly number[]): SemState {
  return {
    regs: renameTag(s.regs, p),
    hostCtxt: renameTag(s.hostCtxt, p),
    hostTask: renameTag(s.hostTask, p),
    vcpuFp: permuteArray(s.vcpuFp, p, (t) => renameTag(t, p)),
    fpexcHw: s.fpexcHw,
    fpexcSaved: permuteArray(s.fpexcSaved, p),
    tfpWritten: s.tfpWritten,
    tfpEffective: s.tfpEffective,
    loaded: s.loaded >= 0 ? vcpuOwner(p[s.loaded]) : s.loaded,
    running: s.running,
    foreign: s.foreign,
    bound: s.bound >= 0 ? vcpuOwner(p[s.bound]) : s.bound,
    guests: permuteArray(s.guests, p),
    policy: Array.isArray(s.policy) ? permuteArray(s.policy as unknown[], p) : s.policy,
  };
}

/** Canonical state keys under vCPU renaming: the least key of a state's orbit. */
export class SymmetricKeyer {
  /** The interned id of each renaming of each policy state: `renamedPid[perm][pid]`. */
  private readonly renamedPid: (number | undefined)[][];

  constructor(
    private readonly keyer: StateKeyer,
    private readonly renamings: readonly number[][],
  ) {
    this.renamedPid = renamings.map(() => []);
  }

  /** The canonical key of `s`, whose own policy state has interned id `pid`. */
  key(s: SemState, pid: number): string {
    let best = this.keyer.key(s, pid);
    for (let i = 0; i < this.renamings.length; i++) {
      const r = renameState(s, this.renamings[i]);
      // Policy states are few: intern each renaming once, not once per transition.
      let rp = this.renamedPid[i][pid];
      if (rp === undefined) rp = this.renamedPid[i][pid] = this.keyer.policyId(r.policy, pid);
      const k = this.keyer.key(r, rp);
      if (k < best) best = k;
    }
    return best;
  }
}
