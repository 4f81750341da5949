/**
 * The generator's hot-loop tables (guest.ts `fastRuns`): every vCPU's compiled model
 * (guest-model.ts) flattened into shared typed arrays indexed by vCPU offsets, so that the
 * loop keeps one vCPU index live instead of a dozen per-vCPU array references (fewer live
 * values, fewer register spills in the compiled loop), plus tables of the idle-entry and
 * wake-up effects so that they are lookups.
 */

import {
  COMBOS,
  EN_BIT,
  EV_INTERLUDE,
  EV_KNEON,
  EV_SW_PLAIN,
  EV_SW_SIMD,
  EV_USE,
  GUIDE,
  idleEntryEffect,
  INHW_BIT,
  SIMD_BIT,
  SOURCE_KIND,
  type VcpuModel,
  wakeEffect,
} from './guest-model.js';

/**
 * The flattened tables. Exit sources are numbered globally: vCPU v's source j is
 * `v * srcStride + j`, and its outcome code is COMBOS + that.
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
}

/** Flattens per-vCPU tables (see FlatTables). Cost: O(vCPUs x combos x (outcomes + GUIDE)). */
export function flattenGuest(models: readonly VcpuModel[]): FlatTables {
  const nv = models.length;
  const stride = Math.max(...models.map((m) => m.outStride));
  const srcStride = Math.max(...models.map((m) => m.sources.rates.length));
  if (COMBOS + nv * srcStride > 255)
    throw new Error(`${nv} vCPUs x ${srcStride} exit sources do not fit the 8-bit outcome codes`);
  const t = {
    stride,
    srcStride,
    reachable: new Uint8Array(nv),
    busyRate: new Float64Array(nv),
    invBusy: new Float64Array(nv),
    aarch32: new Uint8Array(nv),
    switchRate: new Float64Array(nv),
    simdShare: new Float64Array(nv),
    useRate: new Float64Array(nv),
    interludeRate: new Float64Array(nv),
    neonRate: new Float64Array(nv),
    invTotal: new Float64Array(nv * COMBOS),
    outCum: new Float64Array(nv * COMBOS * stride),
    outCode: new Uint8Array(nv * COMBOS * stride),
    outGuide: new Int32Array(nv * COMBOS * GUIDE),
    srcCum: new Float64Array(nv * srcStride),
    srcGuide: new Int32Array(nv * GUIDE),
    srcKind: new Uint8Array(nv * srcStride),
    srcHandled: new Uint8Array(nv * srcStride),
    srcKey: new Uint8Array(nv * srcStride),
    srcPutP: new Float64Array(nv * srcStride),
    srcHostFpNoPut: new Float64Array(nv * srcStride),
    srcHostFpPut: new Float64Array(nv * srcStride),
    srcSpecial: new Uint8Array(nv * srcStride),
    idleNext: new Uint8Array(nv * COMBOS),
    wakeNext: new Uint8Array(nv * COMBOS * 4),
    userWakeShare: new Float64Array(nv),
    sameTaskShare: new Float64Array(nv),
    blipNs: new Float64Array(nv),
    blipPutP: new Float64Array(nv),
    blipHostFpNoPut: new Float64Array(nv),
    blipHostFpPut: new Float64Array(nv),
  };
  models.forEach((m, v) => {
    t.reachable[v] = m.reachable;
    t.busyRate[v] = m.busyRate;
    t.invBusy[v] = 1 / m.busyRate;
    t.aarch32[v] = m.aarch32 ? 1 : 0;
    t.switchRate[v] = m.eventRates[EV_SW_SIMD] + m.eventRates[EV_SW_PLAIN];
    t.simdShare[v] = m.simdShare;
    t.useRate[v] = m.eventRates[EV_USE];
    t.interludeRate[v] = m.eventRates[EV_INTERLUDE];
    t.neonRate[v] = m.eventRates[EV_KNEON];
    t.userWakeShare[v] = m.userWakeShare;
    t.sameTaskShare[v] = m.sameTaskShare;
    t.blipNs[v] = m.blipNs;
    t.blipPutP[v] = m.blipPutP;
    t.blipHostFpNoPut[v] = m.blipHostFpNoPut;
    t.blipHostFpPut[v] = m.blipHostFpPut;
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
    const s0 = v * srcStride;
    const nSrc = m.sources.rates.length;
    for (let j = 0; j < nSrc; j++) {
      t.srcCum[s0 + j] = m.sources.cum[j];
      t.srcKind[s0 + j] = m.sources.kind[j];
      t.srcHandled[s0 + j] = m.sources.handled[j];
      t.srcKey[s0 + j] = m.sources.exitKey[j];
      t.srcPutP[s0 + j] = m.sources.putP[j];
      t.srcHostFpNoPut[s0 + j] = m.sources.hostFpNoPut[j];
      t.srcHostFpPut[s0 + j] = m.sources.hostFpPut[j];
      const special =
        m.sources.kind[j] !== SOURCE_KIND.plain ||
        m.sources.putP[j] > 0 ||
        m.sources.hostFpNoPut[j] > 0;
      t.srcSpecial[s0 + j] = special ? 1 : 0;
    }
    for (let b = 0; b < GUIDE; b++) t.srcGuide[v * GUIDE + b] = s0 + m.srcGuide[b];
    for (let c = 0; c < COMBOS; c++) {
      const vc = v * COMBOS + c;
      t.invTotal[vc] = m.invTotal[c];
      for (let j = 0; j < m.outStride; j++) {
        t.outCum[vc * stride + j] = m.outCum[c * m.outStride + j];
        const code = m.outCode[c * m.outStride + j];
        t.outCode[vc * stride + j] = code >= COMBOS ? COMBOS + s0 + (code - COMBOS) : code;
      }
      for (let b = 0; b < GUIDE; b++)
        t.outGuide[vc * GUIDE + b] = vc * stride + m.outGuide[c * GUIDE + b];
    }
  });
  return t;
}
