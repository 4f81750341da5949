/**
 * The generator's hot-loop tables (guest.ts `fastRuns`): every slot's compiled model
 * (guest-model.ts; a slot is one vCPU in one scheduler phase, `v * phases + phase`)
 * flattened into shared typed arrays indexed by slot offsets, so that the
 * loop keeps one vCPU index live instead of a dozen per-vCPU array references (fewer live
 * values, fewer register spills in the compiled loop), plus tables of the idle-entry and
 * wake-up effects so that they are lookups.
 */

import {
  COMBOS,
  EN_BIT,
  GUIDE,
  idleEntryEffect,
  INHW_BIT,
  NEVER,
  SIMD_BIT,
  SOURCE_KIND,
  type VcpuModel,
  wakeEffect,
} from './guest-model.js';

/**
 * The flattened tables, indexed by slot where the comments say "per vCPU". Exit sources are
 * numbered globally: slot v's source j is `v * srcStride + j`, and its outcome code is
 * COMBOS + that.
 */
export interface FlatTables {
  readonly stride: number;
  readonly srcStride: number;
  /** Per vCPU: reachable FP bits, busy exit rate per ns and its inverse, EL1 is AArch32. */
  readonly reachable: Uint8Array;
  readonly busyRate: Float64Array;
  readonly invBusy: Float64Array;
  readonly aarch32: Uint8Array;
  /** Per vCPU: user context switch rate per ns and SIMD share of slices (for the AArch64 end state). */
  readonly switchRate: Float64Array;
  readonly simdShare: Float64Array;
  /** Per vCPU: SIMD use (in a SIMD slice), interlude and kernel-NEON rates per ns (for the AArch32 end state). */
  readonly useRate: Float64Array;
  readonly interludeRate: Float64Array;
  readonly neonRate: Float64Array;
  /** Per (vCPU, combo): 1 / total rate; outcome cumulative probabilities, codes, guide. */
  readonly invTotal: Float64Array;
  readonly outCum: Float64Array;
  readonly outCode: Uint8Array;
  /** Per outcome: the combo the run ends with when the outcome is an exit (VcpuModel.outNext). */
  readonly outNext: Uint8Array;
  /** Absolute index into outCum/outCode where a bucket's scan starts. */
  readonly outGuide: Int32Array;
  /** Per vCPU: exit-source-only cumulative probabilities (global source index) and guide. */
  readonly srcCum: Float64Array;
  readonly srcGuide: Int32Array;
  /** Per global exit source. */
  readonly srcKind: Uint8Array;
  readonly srcHandled: Uint8Array;
  readonly srcKey: Uint8Array;
  readonly srcPutP: Float64Array;
  readonly srcHostFpNoPut: Float64Array;
  readonly srcHostFpPut: Float64Array;
  /** FP bits the next run starts with (ExitSources.carry). */
  readonly srcCarry: Uint8Array;
  /** 1 when the exit does more than end the run (idle entry, vcpu_put or host FP possible). */
  readonly srcSpecial: Uint8Array;
  /** Per (vCPU, combo): the combo after the vCPU goes idle (idleEntryEffect). */
  readonly idleNext: Uint8Array;
  /** Per (vCPU, combo, same task?, new slice runs SIMD?): the combo after a user wake-up (wakeEffect), at ((v * COMBOS + c) * 2 + same) * 2 + simd. */
  readonly wakeNext: Uint8Array;
  /** Per vCPU: idle wake-ups: user wake share, same-task share, blip mean (ns), WFI put and host FP probabilities. */
  readonly userWakeShare: Float64Array;
  readonly sameTaskShare: Float64Array;
  readonly blipNs: Float64Array;
  readonly blipPutP: Float64Array;
  readonly blipHostFpNoPut: Float64Array;
  readonly blipHostFpPut: Float64Array;
  /** Per slot: rate per ns at which its scheduler phase ends (0: no phases). */
  readonly phaseEnd: Float64Array;
  /** Per slot: guest and host tick periods in ns (Infinity: none), their global source indices, the mean idle period in ns. */
  readonly guestTickNs: Float64Array;
  readonly hostTickNs: Float64Array;
  readonly guestTickSrc: Int32Array;
  readonly hostTickSrc: Int32Array;
  readonly meanIdleNs: Float64Array;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** Zeroed tables for `nv` slots. */
function allocTables(nv: number, stride: number, srcStride: number): Mutable<FlatTables> {
  const f64 = (n: number) => new Float64Array(n);
  const u8 = (n: number) => new Uint8Array(n);
  const ns = nv * srcStride;
  return {
    stride,
    srcStride,
    reachable: u8(nv),
    busyRate: f64(nv),
    invBusy: f64(nv),
    aarch32: u8(nv),
    switchRate: f64(nv),
    simdShare: f64(nv),
    useRate: f64(nv),
    interludeRate: f64(nv),
    neonRate: f64(nv),
    invTotal: f64(nv * COMBOS),
    outCum: f64(nv * COMBOS * stride),
    outCode: u8(nv * COMBOS * stride),
    outNext: u8(nv * COMBOS * stride),
    outGuide: new Int32Array(nv * COMBOS * GUIDE),
    srcCum: f64(ns),
    srcGuide: new Int32Array(nv * GUIDE),
    srcKind: u8(ns),
    srcHandled: u8(ns),
    srcKey: u8(ns),
    srcPutP: f64(ns),
    srcHostFpNoPut: f64(ns),
    srcHostFpPut: f64(ns),
    srcCarry: u8(ns),
    srcSpecial: u8(ns),
    idleNext: u8(nv * COMBOS),
    wakeNext: u8(nv * COMBOS * 4),
    userWakeShare: f64(nv),
    sameTaskShare: f64(nv),
    blipNs: f64(nv),
    blipPutP: f64(nv),
    blipHostFpNoPut: f64(nv),
    blipHostFpPut: f64(nv),
    phaseEnd: f64(nv),
    guestTickNs: f64(nv),
    hostTickNs: f64(nv),
    guestTickSrc: new Int32Array(nv),
    hostTickSrc: new Int32Array(nv),
    meanIdleNs: f64(nv),
  };
}

/** A slot's scalars: rates, shares and the idle figures. */
function fillScalars(t: Mutable<FlatTables>, m: VcpuModel, v: number): void {
  t.reachable[v] = m.reachable;
  t.busyRate[v] = m.busyRate;
  t.invBusy[v] = m.busyRate > 0 ? 1 / m.busyRate : NEVER; // nothing raced: a tick ends every run
  t.aarch32[v] = m.aarch32 ? 1 : 0;
  t.switchRate[v] = m.eventRates[0] + m.eventRates[1];
  t.simdShare[v] = m.simdShare;
  t.useRate[v] = m.eventRates[4];
  t.interludeRate[v] = m.eventRates[2];
  t.neonRate[v] = m.eventRates[3];
  t.userWakeShare[v] = m.userWakeShare;
  t.sameTaskShare[v] = m.sameTaskShare;
  t.blipNs[v] = m.blipNs;
  t.blipPutP[v] = m.blipPutP;
  t.blipHostFpNoPut[v] = m.blipHostFpNoPut;
  t.blipHostFpPut[v] = m.blipHostFpPut;
  t.phaseEnd[v] = m.phaseEndRate;
  t.guestTickNs[v] = m.guestTickNs;
  t.hostTickNs[v] = m.hostTickNs;
  t.guestTickSrc[v] = m.guestTickSrc < 0 ? -1 : v * t.srcStride + m.guestTickSrc;
  t.hostTickSrc[v] = m.hostTickSrc < 0 ? -1 : v * t.srcStride + m.hostTickSrc;
  t.meanIdleNs[v] = m.meanIdleNs;
}

/** A slot's idle-entry and wake-up effects as lookups. */
function fillEffects(t: Mutable<FlatTables>, m: VcpuModel, v: number): void {
  for (let c = 0; c < COMBOS; c++) {
    t.idleNext[v * COMBOS + c] = idleEntryEffect(m.aarch32, c);
    for (let same = 0; same < 2; same++) {
      for (let simd = 0; simd < 2; simd++) {
        t.wakeNext[((v * COMBOS + c) * 2 + same) * 2 + simd] = wakeEffect(
          m.aarch32,
          c & (SIMD_BIT | EN_BIT | INHW_BIT),
          same === 1,
          simd === 1,
        );
      }
    }
  }
}

/** A slot's exit sources at their global indices, and its source-only guide. */
function fillSources(t: Mutable<FlatTables>, m: VcpuModel, v: number): void {
  const s0 = v * t.srcStride;
  const src = m.sources;
  for (let j = 0; j < src.rates.length; j++) {
    t.srcCum[s0 + j] = src.cum[j];
    t.srcKind[s0 + j] = src.kind[j];
    t.srcHandled[s0 + j] = src.handled[j];
    t.srcKey[s0 + j] = src.exitKey[j];
    t.srcPutP[s0 + j] = src.putP[j];
    t.srcHostFpNoPut[s0 + j] = src.hostFpNoPut[j];
    t.srcHostFpPut[s0 + j] = src.hostFpPut[j];
    t.srcCarry[s0 + j] = src.carry[j];
    const special = src.kind[j] !== SOURCE_KIND.plain || src.putP[j] > 0 || src.hostFpNoPut[j] > 0;
    t.srcSpecial[s0 + j] = special ? 1 : 0;
  }
  for (let b = 0; b < GUIDE; b++) t.srcGuide[v * GUIDE + b] = s0 + m.srcGuide[b];
}

/** A slot's per-combo outcome tables, source codes made global. */
function fillOutcomes(t: Mutable<FlatTables>, m: VcpuModel, v: number): void {
  const s0 = v * t.srcStride;
  const stride = t.stride;
  for (let c = 0; c < COMBOS; c++) {
    const vc = v * COMBOS + c;
    t.invTotal[vc] = m.invTotal[c];
    for (let j = 0; j < m.outStride; j++) {
      t.outCum[vc * stride + j] = m.outCum[c * m.outStride + j];
      const code = m.outCode[c * m.outStride + j];
      t.outCode[vc * stride + j] = code >= COMBOS ? COMBOS + s0 + (code - COMBOS) : code;
      t.outNext[vc * stride + j] = m.outNext[c * m.outStride + j];
    }
    for (let b = 0; b < GUIDE; b++)
      t.outGuide[vc * GUIDE + b] = vc * stride + m.outGuide[c * GUIDE + b];
  }
}

/**
 * Flattens per-slot tables (see FlatTables). `models` are the slots (GuestModel.slots).
 * Cost: O(slots x combos x (outcomes + GUIDE)).
 */
export function flattenGuest(models: readonly VcpuModel[]): FlatTables {
  const nv = models.length;
  const stride = Math.max(...models.map((m) => m.outStride));
  const srcStride = Math.max(...models.map((m) => m.sources.rates.length));
  if (COMBOS + nv * srcStride > 255)
    throw new Error(
      `${nv} vCPU slots x ${srcStride} exit sources do not fit the 8-bit outcome codes`,
    );
  const t = allocTables(nv, stride, srcStride);
  models.forEach((m, v) => {
    fillScalars(t, m, v);
    fillEffects(t, m, v);
    fillSources(t, m, v);
    fillOutcomes(t, m, v);
  });
  return t;
}
