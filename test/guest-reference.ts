/**
 * A slow, literal simulation of the `guest` mechanism for tests: every guest event type
 * and every exit source is its own exponential clock, redrawn after every event, with
 * no thinning, no jump-chain tables, no guide tables and no backward end state. The fast
 * generator (src/stream/guest.ts) must produce the same distributions.
 * It shares only the mechanism's definitions (comboEffect, idleEntryEffect, wakeEffect)
 * and the compiled rates with the generator.
 */

import { exitKey, HANDLED } from '../src/cpu/profile.js';
import { EC } from '../src/arch/esr.js';
import {
  comboEffect,
  compileGuest,
  EVENT_COUNT,
  idleEntryEffect,
  SIMD_BIT,
  SOURCE_KIND,
  vfpIdRead,
  VFP_ID_LOAD,
  VFP_ID_NONE,
  wakeEffect,
  EN_BIT,
  INHW_BIT,
} from '../src/stream/guest-model.js';
import type { GuestWorkload } from '../src/stream/guest-schema.js';
import { Prng } from '../src/stream/prng.js';
import { CLASSES_PER_VCPU, FP_EL0, FP_EL1 } from '../src/machine/run-class.js';

interface RefRuns {
  cls: Uint16Array;
  key: Uint8Array;
  ns: Float64Array;
  /** Whether each run's exit was an idle entry or an interrupt-only wake-up's WFI. */
  wfx: Uint8Array;
  vcpu: Uint8Array;
}

export function referenceRuns(w: GuestWorkload, runs: number, seed: number): RefRuns {
  const model = compileGuest(w);
  const rng = new Prng(seed);
  const exp = () => -Math.log(1 - rng.next());
  const nv = model.models.length;
  const phase = new Uint8Array(nv);
  const state = new Uint8Array(nv);
  const schedPhase = new Uint8Array(nv); // every vCPU starts in churn (phase 0)
  for (let v = 0; v < nv; v++) state[v] = rng.next() < model.models[v].simdShare ? SIMD_BIT : 0;
  // Periodic ticks: this CPU's time, each vCPU's next guest tick, the next host tick.
  let now = 0;
  const gPhase = rng.next(); // one guest tick grid for every vCPU
  const nextG = Float64Array.from(model.models, (m) =>
    Number.isFinite(m.guestTickNs) ? gPhase * m.guestTickNs : Infinity,
  );
  const m0 = model.models[0];
  let nextH = Infinity;
  if (Number.isFinite(m0.hostTickNs)) {
    const off = model.tickOffsetNs ?? rng.next() * m0.hostTickNs;
    const lastG = Number.isFinite(m0.guestTickNs) ? nextG[0] - m0.guestTickNs : 0;
    nextH = lastG + off;
    while (nextH <= 0) nextH += m0.hostTickNs;
  }
  /** The first grid point after `now` (ticks that passed while not running do not exit). */
  const roll = (at: number, P: number) => {
    let x = at;
    while (x <= now) x += P;
    return x;
  };
  const out: RefRuns = {
    cls: new Uint16Array(runs),
    key: new Uint8Array(runs),
    ns: new Float64Array(runs),
    wfx: new Uint8Array(runs),
    vcpu: new Uint8Array(runs),
  };
  const bern = (p: number) => (p <= 0 ? false : p >= 1 ? true : rng.next() < p);
  let v = 0;
  for (let i = 0; i < runs; i++) {
    const m = model.slots[v * model.phases + schedPhase[v]];
    let c = state[v];
    out.vcpu[i] = v;
    let put: boolean;
    let hostFp: boolean;
    if (phase[v] === 1) {
      if (nv === 1) now += exp() * m.meanIdleNs;
      if (rng.next() < m.userWakeShare) {
        const same = bern(m.sameTaskShare);
        const simdNew = !same && bern(m.simdShare);
        c = wakeEffect(m.aarch32, c & (SIMD_BIT | EN_BIT | INHW_BIT), same, simdNew);
        phase[v] = 0;
      } else {
        out.ns[i] = exp() * m.blipNs;
        now += out.ns[i];
        put = bern(m.blipPutP);
        hostFp = bern(put ? m.blipHostFpPut : m.blipHostFpNoPut);
        out.cls[i] = v * CLASSES_PER_VCPU + HANDLED.kernel * 4 + (hostFp ? 2 : 0) + (put ? 1 : 0);
        out.key[i] = exitKey(EC.WFx, HANDLED.kernel);
        out.wfx[i] = 1;
        if (put && nv > 1) v = pickOther(rng, model.pickCum, v, nv);
        continue;
      }
    }
    let T = 0;
    let src: number; // set where the loop breaks
    let boundary = false;
    nextG[v] = roll(nextG[v], m.guestTickNs);
    nextH = roll(nextH, m.hostTickNs);
    const tickAt = Math.min(nextG[v], nextH);
    const tickSrc = nextG[v] <= nextH ? m.guestTickSrc : m.hostTickSrc;
    for (;;) {
      // Every clock, every step: exit sources and all guest events (whether or not they change anything).
      let best = Infinity;
      let what = -1;
      const srcs = m.sources;
      for (let j = 0; j < srcs.raced; j++) {
        const t = exp() / srcs.rates[j];
        if (t < best) {
          best = t;
          what = j;
        }
      }
      for (let e = 0; e < EVENT_COUNT; e++) {
        const r = e === 4 ? ((c & SIMD_BIT) !== 0 ? m.eventRates[e] : 0) : m.eventRates[e];
        if (r <= 0) continue;
        const t = exp() / r;
        if (t < best) {
          best = t;
          what = 100 + e;
        }
      }
      // The scheduler phase's own clock: a boundary changes nothing in the run, only the phase after its exit.
      if (m.phaseEndRate > 0) {
        const t = exp() / m.phaseEndRate;
        if (t < best) {
          best = t;
          what = 200;
        }
      }
      if (T + best >= tickAt - now) {
        T = tickAt - now; // the next tick comes first
        src = tickSrc;
        break;
      }
      T += best;
      if (what === 200) {
        boundary = true;
        continue;
      }
      if (what < 100) {
        src = what;
        break;
      }
      // A VFP save or load that reads MVFR0 exits there (when the sources say it traps).
      const id = vfpIdRead(m.aarch32, c, what - 100);
      c = comboEffect(m.aarch32, c, what - 100);
      const idSrc = m.sources.kind.findIndex(
        (k, j) =>
          k === SOURCE_KIND.vfpIdRead &&
          m.sources.carry[j] === (id === VFP_ID_LOAD ? FP_EL1 | FP_EL0 : FP_EL1),
      );
      if (id !== VFP_ID_NONE && idSrc >= 0) {
        src = idSrc;
        break;
      }
    }
    const srcs = m.sources;
    now = src === tickSrc ? tickAt : now + T;
    // The guest's tick ends a stream phase (check_preempt_tick); else a boundary flips it.
    if (m.phaseEndRate > 0 && src === m.guestTickSrc) schedPhase[v] = 0;
    else if (boundary) schedPhase[v] ^= 1;
    if (srcs.kind[src] === SOURCE_KIND.idleEntry) {
      c = idleEntryEffect(m.aarch32, c);
      phase[v] = 1;
      out.wfx[i] = 1;
    }
    put = bern(srcs.putP[src]);
    hostFp = bern(put ? srcs.hostFpPut[src] : srcs.hostFpNoPut[src]);
    out.cls[i] =
      v * CLASSES_PER_VCPU +
      (c & 7) * 12 +
      srcs.handled[src] * 4 +
      (hostFp ? 2 : 0) +
      (put ? 1 : 0);
    out.key[i] = srcs.exitKey[src];
    out.ns[i] = T;
    state[v] = (c & (SIMD_BIT | EN_BIT | INHW_BIT)) | srcs.carry[src]; // the rest of a cut save/load
    if (put && nv > 1) v = pickOther(rng, model.pickCum, v, nv);
  }
  return out;
}

function pickOther(rng: Prng, cum: Float64Array, v: number, nv: number): number {
  const u = rng.next();
  let k = v * nv;
  while (u >= cum[k]) k++;
  return k - v * nv;
}
