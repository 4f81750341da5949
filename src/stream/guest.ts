/**
 * The `guest` workload generator: runs on one physical CPU fall out of competing exit
 * processes, and whether a run touched FP/SIMD (and how) falls out of the guest events
 * inside it (guest-model.ts). The skip rate is an output of this mechanism, never an input.
 *
 * A busy vCPU's run is a continuous-time Markov chain over combos (FP bits so far | guest
 * state), raced against the exit sources (competing exponential clocks):
 * - `fill` (generation) walks the embedded jump chain: from combo c, the time to the next
 *   thing is Exp(exit rate + effective guest event rate) and a uniform says which it is,
 *   the exit (and its source) or a guest event. Guest events that would change nothing
 *   in c are left out (thinning: exact for Poisson processes).
 * - `traceRun` (trace import) has the run length T from the trace: it draws the guest
 *   events forward in [0, T) instead.
 * Both stop walking once the run has every FP bit it can get and draw the guest state at
 * the run's end backward: for a Poisson process the time from the end back to its last
 * event is exponential, and "no event in the window" is that time exceeding the window
 * (time reversal), so the end state costs O(1) draws however many switches the run holds.
 * Then the exit's own effect (WFI: the user task blocks, the vCPU goes idle) and the
 * host's activity before the next entry (vcpu_put, host FP use). An idle vCPU's next run
 * is a wake-up: with probability userWakeShare it runs a user task (wakeEffect, then a
 * busy run), otherwise it handles an interrupt and goes back to WFI (a short run that
 * touches no FP).
 *
 * The timer ticks are not raced: they are periodic (guest-model.ts sourceList). The runner
 * keeps this CPU's time (`now`: busy runs, and for a lone vCPU its idle periods) and each
 * tick's next due time; a busy run ends at the next tick unless its jump chain reaches
 * an exit first (the chain is memoryless, so cutting it at a fixed time is exact). A tick
 * that passed while the vCPU idled or was scheduled out does not exit (its interrupt is
 * pending at the next entry): its grid rolls forward.
 *
 * Cost: O(runs) with a handful of draws per run; memory O(chunk).
 */

import { EC } from '../arch/esr.js';
import { exitKey, HANDLED, type Handled } from '../cpu/profile.js';
import { allocChunk, CHUNK_RUNS, type ExitStream } from './exit-stream.js';
import {
  COMBOS as N_COMBOS,
  compileGuest,
  EN_BIT,
  EV_INTERLUDE,
  EV_KNEON,
  EV_SW_PLAIN,
  EV_SW_SIMD,
  EV_USE,
  EVENT_COUNT,
  GUIDE as N_GUIDE,
  type GuestModel,
  idleEntryEffect,
  INHW_BIT,
  SIMD_BIT,
  SOURCE_KIND,
  type VcpuModel,
  wakeEffect,
} from './guest-model.js';
import type { GuestWorkload } from './guest-schema.js';
import { type FlatTables, flattenGuest } from './guest-tables.js';
import { BLOCK as RS_BLOCK, RandomSource } from './random-source.js';
import { encodeRunClass } from '../machine/run-class.js';

const BUSY = 0;
const IDLE = 1;
/** Steps a busy run may take in the hot loop before the general method finishes it. */
const MAX_FAST_STEPS = 48;
/** Why the hot loop stopped. */
const STOP_NONE = 0;
const STOP_TOPUP = 1;
const STOP_PARTIAL = 2;
const STATE_MASK = SIMD_BIT | EN_BIT | INHW_BIT;
const WFX_KERNEL_KEY = exitKey(EC.WFx, HANDLED.kernel);

/**
 * The per-CPU generator state: every vCPU's phase and guest state, the running vCPU and
 * the random source. `fill` writes runs into chunk columns.
 */
export class GuestRunner {
  readonly model: GuestModel;
  private readonly rng: RandomSource;
  private readonly models: readonly VcpuModel[];
  private readonly phase: Uint8Array;
  private readonly state: Uint8Array;
  /** Per vCPU: its guest scheduler phase (guest-model.ts PHASE_CHURN / PHASE_STREAM). */
  private readonly schedPhase: Uint8Array;
  private vcpu = 0;
  /**
   * [0]: this CPU's time (ns); [1]: the next host tick (absolute ns; Infinity: none). In a
   * typed array, not fields or loop locals: V8 kept a loop-carried double local of the hot
   * loop tagged (a heap number per update: 16-32 bytes per run, 10-13% of the time in GC).
   */
  private readonly clock = new Float64Array([0, Infinity]);
  /** Each vCPU's next guest tick (absolute ns; Infinity: none). */
  private readonly nextG: Float64Array;
  /** The hot loop's flat tables, built on the first `fill` (trace-only models never need them). */
  private flatTables?: FlatTables;

  constructor(model: GuestModel, seed: number) {
    this.model = model;
    this.models = model.models;
    this.rng = new RandomSource(seed);
    const n = model.models.length;
    this.phase = new Uint8Array(n);
    this.state = new Uint8Array(n);
    this.schedPhase = new Uint8Array(n); // every vCPU starts in churn
    // Each vCPU starts busy in a user slice drawn from the slice distribution.
    for (let v = 0; v < n; v++) {
      this.state[v] = this.rng.uniform() < this.models[v].simdShare ? SIMD_BIT : 0;
    }
    this.nextG = new Float64Array(n);
    this.startTicks();
  }

  /**
   * The ticks' grids at time 0: the guest tick at a uniform phase; the host tick
   * `tickOffsetNs` after vCPU 0's last guest tick (drawn uniformly over its period when
   * the workload does not say).
   */
  private startTicks(): void {
    const rng = this.rng;
    // One grid for every vCPU: a kernel's CPUs tick together (tick_init_jiffy_update;
    // no skew_tick), and a CPU's vCPUs are taken as of one guest.
    const phase = rng.uniform();
    this.models.forEach((m, v) => {
      this.nextG[v] = Number.isFinite(m.guestTickNs) ? phase * m.guestTickNs : Infinity;
    });
    const m0 = this.models[0];
    const ph = m0.hostTickNs;
    if (!Number.isFinite(ph)) return;
    const off = this.model.tickOffsetNs ?? rng.uniform() * ph;
    const lastG = Number.isFinite(m0.guestTickNs) ? this.nextG[0] - m0.guestTickNs : 0;
    this.clock[1] = rollPast(lastG + off, ph, 0);
  }

  /**
   * Writes `n` runs into the columns. Cost: O(n), a few draws per run.
   *
   * `fastRuns` does the work in a loop without calls; it stops only when the variate
   * blocks run low (topped up here) or for a walk longer than MAX_FAST_STEPS, which the
   * general methods finish (`continueRun`, `endState`, `endRun`: the same mechanism). The
   * variate sequence depends only on the seed, so the split does not change determinism.
   */
  fill(cls: Uint16Array, key: Uint8Array, ns: Float64Array, n: number): void {
    let i = 0;
    while (i < n) {
      i = this.fastRuns(cls, key, ns, i, n);
      if (i >= n) break;
      if (this.stop === STOP_TOPUP) {
        this.rng.topUp();
      } else {
        this.continueRun(this.pendingC, this.pendingT);
        this.endRun(cls, key, ns, i);
        i++;
      }
    }
  }

  private get flat(): FlatTables {
    return (this.flatTables ??= flatTablesOf(this.model));
  }

  /** Why `fastRuns` stopped, and the run it left half done. */
  private stop = 0;
  private pendingC = 0;
  private pendingT = 0;
  private pendingSrc = 0;
  /** The pending run's next tick: ns from its start, its global source index, its absolute time. */
  private pendingDue = Infinity;
  private pendingTickSrc = -1;
  private pendingTickAt = Infinity;

  /**
   * The hot loop, from run `i`; returns the first run it did not finish (`stop` says
   * why; `pending*` hold a half-done busy run). Busy runs are walked as the embedded jump
   * chain over flat tables (see the header comment); idle wake-ups, exits, vcpu_put and
   * host FP use are table lookups and draws. No calls: V8 keeps the loop's values in
   * registers. Variates are read straight from the blocks: a run takes at most
   * MAX_FAST_STEPS + 12 of each kind, so checking the room once per run is enough.
   * Longer than 60 lines on purpose: the generator's hot loop, kept in one body for speed.
   */
  // eslint-disable-next-line max-lines-per-function -- the generator's hot loop, one body without calls for speed (README, layout)
  private fastRuns(
    cls: Uint16Array,
    key: Uint8Array,
    ns: Float64Array,
    i: number,
    n: number,
  ): number {
    // Module constants copied to locals: a module-level const read inside a function
    // carries a TDZ check on every access; locals do not.
    const LIMIT = RS_BLOCK - MAX_FAST_STEPS - 12;
    const MAX_STEPS = MAX_FAST_STEPS;
    const COMBOS = N_COMBOS;
    const GUIDE = N_GUIDE;
    const MASK = STATE_MASK;
    const SIMD = SIMD_BIT;
    const EN = EN_BIT;
    const INHW = INHW_BIT;
    const encode = encodeRunClass; // a local: no module-binding check per call in the loop
    const IDLE_ENTRY = SOURCE_KIND.idleEntry;
    const WFX_KERNEL = WFX_KERNEL_KEY;
    const BLIP_HANDLED = HANDLED.kernel;
    const rs = this.rng;
    const E = rs.E;
    const U = rs.U;
    let ei = rs.ei;
    let ui = rs.ui;
    const phase = this.phase;
    const state = this.state;
    const pickCum = this.model.pickCum;
    const nv = this.models.length;
    const t = this.flat;
    const reachable = t.reachable;
    const aarch32 = t.aarch32;
    const invBusy = t.invBusy;
    const switchRate = t.switchRate;
    const simdShare = t.simdShare;
    const useRate = t.useRate;
    const interludeRate = t.interludeRate;
    const neonRate = t.neonRate;
    const invTotal = t.invTotal;
    const outCum = t.outCum;
    const outCode = t.outCode;
    const outNext = t.outNext;
    const outGuide = t.outGuide;
    const srcCarry = t.srcCarry;
    const srcCum = t.srcCum;
    const srcGuide = t.srcGuide;
    const srcKind = t.srcKind;
    const srcPutP = t.srcPutP;
    const srcHfNo = t.srcHostFpNoPut;
    const srcHfPut = t.srcHostFpPut;
    const srcHandled = t.srcHandled;
    const srcKey = t.srcKey;
    const idleNext = t.idleNext;
    const wakeNext = t.wakeNext;
    const userWake = t.userWakeShare;
    const sameTask = t.sameTaskShare;
    const blipNs = t.blipNs;
    const blipPutP = t.blipPutP;
    const blipHfNo = t.blipHostFpNoPut;
    const blipHfPut = t.blipHostFpPut;
    const phaseEnd = t.phaseEnd;
    const guestTickNs = t.guestTickNs;
    const hostTickNs = t.hostTickNs;
    const guestTickSrc = t.guestTickSrc;
    const hostTickSrc = t.hostTickSrc;
    const meanIdleNs = t.meanIdleNs;
    const nextG = this.nextG;
    const clock = this.clock; // [0]: now, [1]: the next host tick
    const schedPhase = this.schedPhase;
    const P = this.model.phases;
    let v = this.vcpu;
    let stop = STOP_NONE;
    for (; i < n; i++) {
      if (ei > LIMIT || ui > LIMIT) {
        stop = STOP_TOPUP;
        break;
      }
      let c = state[v];
      const sl = v * P + schedPhase[v];
      let T = 0;
      let src = -1;
      let put = false;
      let hostFp = false;
      if (phase[v] !== 0 /* IDLE */) {
        // A lone vCPU's CPU idles until the wake-up; with others they run meanwhile.
        if (nv === 1) clock[0] += E[ei++] * meanIdleNs[sl];
        if (U[ui++] >= userWake[sl]) {
          // A wake-up that runs no user task (interrupt handlers, kernel threads), then WFI.
          const b = E[ei++] * blipNs[sl];
          ns[i] = b;
          clock[0] += b;
          const pp = blipPutP[sl];
          if (pp > 0) put = U[ui++] < pp;
          const hf = put ? blipHfPut[sl] : blipHfNo[sl];
          if (hf > 0) hostFp = U[ui++] < hf;
          cls[i] = encode(v, 0, BLIP_HANDLED, hostFp, put);
          key[i] = WFX_KERNEL;
          if (put && nv > 1) {
            const y = U[ui++];
            let k = v * nv;
            while (y >= pickCum[k]) k++;
            v = k - v * nv;
          }
          continue;
        }
        // A wake-up that runs a user task: the same one (its state still loaded) or another.
        const sp = sameTask[sl];
        const same = sp >= 1 ? 1 : sp <= 0 ? 0 : U[ui++] < sp ? 1 : 0;
        const s = simdShare[sl];
        const simdNew = same === 1 ? 0 : s >= 1 ? 1 : s <= 0 ? 0 : U[ui++] < s ? 1 : 0;
        c = wakeNext[((sl * COMBOS + c) * 2 + same) * 2 + simdNew];
        phase[v] = 0;
      }
      // The next tick: ticks that passed while this vCPU was not running roll forward.
      // rollPast's arithmetic inline (reached only with a due time at or before now, where
      // an infinite period gives Infinity as rollPast does): a call made V8 box doubles.
      const now = clock[0];
      let gAt = nextG[v];
      if (gAt <= now) {
        const p = guestTickNs[sl];
        const next = gAt + (Math.floor((now - gAt) / p) + 1) * p;
        nextG[v] = gAt = next > now ? next : next + p;
      }
      let hAt = clock[1];
      if (hAt <= now) {
        const p = hostTickNs[sl];
        const next = hAt + (Math.floor((now - hAt) / p) + 1) * p;
        clock[1] = hAt = next > now ? next : next + p;
      }
      const tickAt = gAt <= hAt ? gAt : hAt;
      const tickSrc = gAt <= hAt ? guestTickSrc[sl] : hostTickSrc[sl];
      const due = tickAt - now;
      const sat = reachable[sl];
      const vc = sl * COMBOS;
      let steps = 0;
      for (;;) {
        if ((c & sat) === sat && sat !== 0) {
          // Every reachable FP bit is set: the rest of the run (memoryless), its exit, and
          // the guest state at its end, found backward from the exit (`endState`, inlined).
          let W = E[ei++] * invBusy[sl];
          if (T + W >= due) {
            W = due - T;
            T = due;
            src = tickSrc;
          } else {
            T += W;
            const y = U[ui++];
            src = srcGuide[sl * GUIDE + ((y * GUIDE) | 0)];
            while (y >= srcCum[src]) src++;
          }
          const sw = switchRate[sl];
          const s = simdShare[sl];
          let simd = (c & SIMD) !== 0;
          if (aarch32[sl] === 0) {
            // AArch64: only the slice's SIMD flag can change, at the last user switch.
            if (sw > 0 && !((s <= 0 && !simd) || (s >= 1 && simd)) && E[ei++] < sw * W) {
              simd = s >= 1 ? true : s <= 0 ? false : U[ui++] < s;
            }
            c = (c & 7) | (simd ? SIMD : 0);
            break;
          }
          // AArch32: the last user switch, then the last VFP use / interlude / kernel NEON.
          let en = (c & EN) !== 0;
          let inHw = (c & INHW) !== 0;
          if (sw > 0) {
            const a1 = E[ei++];
            if (a1 < sw * W) {
              simd = s >= 1 ? true : s <= 0 ? false : U[ui++] < s;
              en = false;
              inHw = false;
              W = a1 / sw;
            }
          }
          const rUse = simd ? useRate[sl] : 0;
          const rNeon = neonRate[sl];
          const r2 = rUse + interludeRate[sl] + rNeon;
          if (r2 > 0) {
            const a2 = E[ei++];
            if (a2 < r2 * W) {
              const x = U[ui++] * r2;
              if (x < rUse) {
                en = true;
                inHw = true;
              } else if (x < rUse + rNeon) {
                en = false;
                inHw = false;
              } else {
                en = false;
                const r3 = rUse + rNeon;
                if (r3 > 0 && E[ei++] < r3 * (W - a2 / r2)) inHw = U[ui++] * r3 < rUse;
              }
            }
          }
          c = (c & 7) | (simd ? SIMD : 0) | (en ? EN : 0) | (inHw ? INHW : 0);
          break;
        }
        if (steps === MAX_STEPS) break;
        steps++;
        T += E[ei++] * invTotal[vc + c];
        if (T >= due) {
          T = due;
          src = tickSrc;
          break;
        }
        const y = U[ui++];
        let j = outGuide[(vc + c) * GUIDE + ((y * GUIDE) | 0)];
        while (y >= outCum[j]) j++;
        const o = outCode[j];
        if (o >= COMBOS) {
          src = o - COMBOS;
          c = outNext[j]; // an exit source's: c; an MVFR0 read's: the combo after its event
          break;
        }
        c = o;
      }
      if (src < 0) {
        this.pendingC = c;
        this.pendingT = T;
        this.pendingDue = due;
        this.pendingTickSrc = tickSrc;
        this.pendingTickAt = tickAt;
        stop = STOP_PARTIAL;
        break;
      }
      clock[0] = src === tickSrc ? tickAt : now + T;
      // A phase boundary in this run takes effect at its exit (guest-schema.ts
      // scheduler.phases); the guest's tick ends a stream (check_preempt_tick).
      const pe = phaseEnd[sl];
      if (pe > 0) {
        if (src === guestTickSrc[sl]) schedPhase[v] = 0;
        else if (E[ei++] < pe * T) schedPhase[v] ^= 1;
      }
      if (srcKind[src] === IDLE_ENTRY) {
        c = idleNext[vc + c];
        phase[v] = 1;
      }
      const pp = srcPutP[src];
      if (pp > 0) put = U[ui++] < pp;
      const hf = put ? srcHfPut[src] : srcHfNo[src];
      if (hf > 0) hostFp = U[ui++] < hf;
      cls[i] = encode(v, c & 7, srcHandled[src] as Handled, hostFp, put);
      key[i] = srcKey[src];
      ns[i] = T;
      state[v] = (c & MASK) | srcCarry[src];
      if (put && nv > 1) {
        const y = U[ui++];
        let k = v * nv;
        while (y >= pickCum[k]) k++;
        v = k - v * nv;
      }
    }
    rs.ei = ei;
    rs.ui = ui;
    this.vcpu = v;
    this.stop = stop;
    return i;
  }

  /**
   * Continues a busy run of the running vCPU from combo c after T ns (general method):
   * the same jump chain and end state as `fastRuns`, drawing through the random source's
   * methods. Leaves the result in pendingC, pendingT, pendingSrc.
   */
  private continueRun(c: number, T: number): void {
    const rs = this.rng;
    const t = this.flat;
    const v = this.slot();
    const m = this.model.slots[v];
    const sat = t.reachable[v];
    const vc = v * N_COMBOS;
    const due = this.pendingDue;
    for (;;) {
      if ((c & sat) === sat && sat !== 0) {
        let W = rs.exp() * t.invBusy[v];
        if (T + W >= due) {
          W = due - T;
          T = due;
          this.pendingSrc = this.pendingTickSrc;
        } else {
          T += W;
          const y = rs.uniform();
          let src = t.srcGuide[v * N_GUIDE + ((y * N_GUIDE) | 0)];
          while (y >= t.srcCum[src]) src++;
          this.pendingSrc = src;
        }
        c = this.endState(m, c, W);
        break;
      }
      T += rs.exp() * t.invTotal[vc + c];
      if (T >= due) {
        T = due;
        this.pendingSrc = this.pendingTickSrc;
        break;
      }
      const y = rs.uniform();
      let j = t.outGuide[(vc + c) * N_GUIDE + ((y * N_GUIDE) | 0)];
      while (y >= t.outCum[j]) j++;
      const o = t.outCode[j];
      if (o >= N_COMBOS) {
        this.pendingSrc = o - N_COMBOS;
        c = t.outNext[j];
        break;
      }
      c = o;
    }
    this.pendingC = c;
    this.pendingT = T;
  }

  /** Ends the pending busy run as run i: the exit's own effect, host activity, the columns. */
  private endRun(cls: Uint16Array, key: Uint8Array, ns: Float64Array, i: number): void {
    const t = this.flat;
    const v = this.vcpu;
    const src = this.pendingSrc;
    let c = this.pendingC;
    this.clock[0] =
      src === this.pendingTickSrc ? this.pendingTickAt : this.clock[0] + this.pendingT;
    this.endPhase(this.pendingT, this.vcpu, src === this.flat.guestTickSrc[this.slot()]);
    if (t.srcKind[src] === SOURCE_KIND.idleEntry) {
      c = idleEntryEffect(this.models[v].aarch32, c);
      this.phase[v] = IDLE;
    }
    const put = draw(this.rng, t.srcPutP[src]);
    const hostFp = draw(this.rng, put ? t.srcHostFpPut[src] : t.srcHostFpNoPut[src]);
    cls[i] = encodeRunClass(v, c & 7, t.srcHandled[src] as Handled, hostFp, put);
    key[i] = t.srcKey[src];
    ns[i] = this.pendingT;
    this.state[v] = (c & STATE_MASK) | t.srcCarry[src];
    if (put) this.afterPut();
  }

  /** The running vCPU's slot: its model in its current scheduler phase. */
  private slot(): number {
    return this.vcpu * this.model.phases + this.schedPhase[this.vcpu];
  }

  /**
   * At the exit of a busy run of T ns: a phase boundary inside it takes effect, and the
   * guest's tick ends a stream phase (as in fastRuns).
   */
  private endPhase(T: number, v = this.vcpu, guestTick = false): void {
    const pe = this.model.slots[v * this.model.phases + this.schedPhase[v]].phaseEndRate;
    if (pe <= 0) return;
    if (guestTick) this.schedPhase[v] = 0;
    else if (this.rng.exp() < pe * T) this.schedPhase[v] ^= 1;
  }

  /** After a vcpu_put the host runs another vCPU thread, picked by weight (one vCPU: the same). */
  private afterPut(): void {
    const nv = this.models.length;
    if (nv > 1) this.vcpu = pick(this.model.pickCum, this.vcpu * nv, this.rng.uniform());
  }

  /** The combo after a wake-up that runs a user task. */
  private wake(m: VcpuModel, combo: number): number {
    const rng = this.rng;
    const sameP = m.sameTaskShare;
    const same = sameP >= 1 ? true : sameP <= 0 ? false : rng.uniform() < sameP;
    let simdNew = false;
    if (!same)
      simdNew = m.simdShare >= 1 ? true : m.simdShare <= 0 ? false : rng.uniform() < m.simdShare;
    return wakeEffect(m.aarch32, combo & STATE_MASK, same, simdNew);
  }

  /**
   * The guest events of a busy run of length T from `combo`: forward over effective events
   * until every reachable FP bit is set, then the end state backward. Returns the combo
   * (FP bits of the run | guest state at T).
   */
  walk(m: VcpuModel, combo: number, T: number): number {
    const rng = this.rng;
    const sat = m.reachable;
    const rateOf = m.comboRate;
    const cumOf = m.comboCum;
    const nextOf = m.comboNext;
    let c = combo;
    let t = 0;
    for (;;) {
      if (sat !== 0 && (c & sat) === sat) return this.endState(m, c, T - t);
      const R = rateOf[c];
      if (R === 0) return c;
      t += rng.exp() / R;
      if (t >= T) return c;
      const x = rng.uniform() * R;
      let k = c * EVENT_COUNT;
      while (x >= cumOf[k]) k++;
      c = nextOf[k];
    }
  }

  /**
   * The guest state at the end of a window of length W in which no new FP bit can appear
   * (see the header comment: the last event of each kind is found backward from T).
   */
  private endState(m: VcpuModel, c: number, W: number): number {
    const rng = this.rng;
    const r = m.eventRates;
    const sw = r[EV_SW_SIMD] + r[EV_SW_PLAIN];
    const s = m.simdShare;
    let simd = (c & SIMD_BIT) !== 0;
    let en = (c & EN_BIT) !== 0;
    let inHw = (c & INHW_BIT) !== 0;
    if (!m.aarch32) {
      if (sw > 0 && !((s <= 0 && !simd) || (s >= 1 && simd))) {
        if (rng.exp() / sw < W) simd = s >= 1 ? true : s <= 0 ? false : rng.uniform() < s;
      }
      return (c & 7) | (simd ? SIMD_BIT : 0);
    }
    if (sw > 0) {
      const a1 = rng.exp() / sw;
      if (a1 < W) {
        // The last user switch: a fresh slice, EN cleared, the new task's state not loaded.
        simd = s >= 1 ? true : s <= 0 ? false : rng.uniform() < s;
        en = false;
        inHw = false;
        W = a1;
      }
    }
    const rUse = simd ? r[EV_USE] : 0;
    const rInt = r[EV_INTERLUDE];
    const rNeon = r[EV_KNEON];
    const r2 = rUse + rInt + rNeon;
    if (r2 > 0) {
      const a2 = rng.exp() / r2;
      if (a2 < W) {
        const x = rng.uniform() * r2;
        if (x < rUse) {
          en = true; // the last event was a VFP use: EN set, the task's state loaded
          inHw = true;
        } else if (x < rUse + rNeon) {
          en = false; // kernel-mode NEON: EN cleared, nobody's state in hardware
          inHw = false;
        } else {
          en = false; // an interlude: EN cleared, the task's state stays in hardware
          const r3 = rUse + rNeon;
          if (r3 > 0) {
            const a3 = rng.exp() / r3;
            if (a3 < W - a2) inHw = rng.uniform() * r3 < rUse;
          }
        }
      }
    }
    return (c & 7) | (simd ? SIMD_BIT : 0) | (en ? EN_BIT : 0) | (inHw ? INHW_BIT : 0);
  }

  /**
   * FP bits of a run whose length and exit come from elsewhere (a real trace): the same
   * mechanism as `fill`, conditioned on the run length `T` (ns) and on whether the exit was
   * a WFI. After a WFI the vCPU is idle and the next run starts with a wake-up: a run that
   * does not end in WFI must have run a user task; one that does was a user wake-up with
   * the posterior probability given its length (`userWakePosterior`).
   */
  traceRun(v: number, T: number, wfx: boolean): number {
    const m = this.model.slots[v * this.model.phases + this.schedPhase[v]];
    let combo = this.state[v];
    if (this.phase[v] === IDLE) {
      const user = !wfx || this.rng.uniform() < userWakePosterior(m, T);
      if (!user) {
        this.state[v] = combo & STATE_MASK;
        return 0; // interrupt handling only, back to WFI
      }
      combo = this.wake(m, combo);
      this.phase[v] = BUSY;
    }
    combo = this.walk(m, combo, T);
    this.endPhase(T, v);
    if (wfx) {
      combo = idleEntryEffect(m.aarch32, combo);
      this.phase[v] = IDLE;
    }
    this.state[v] = combo & STATE_MASK;
    return combo & 7;
  }
}

/**
 * P(the run after an idle period ran a user task | it lasted T ns and ended in WFI), by
 * Bayes: a user wake-up is followed by a busy run, Exp(busyRate) long, that ends in WFI
 * with probability idleRate / busyRate (density idleRate * e^(-busyRate T)); an
 * interrupt-only wake-up lasts Exp(1 / blipNs) and always ends in WFI.
 */
function userWakePosterior(m: VcpuModel, T: number): number {
  let idleRate = 0;
  for (let j = 0; j < m.sources.kind.length; j++) {
    if (m.sources.kind[j] === SOURCE_KIND.idleEntry) idleRate += m.sources.rates[j];
  }
  const wUser = m.userWakeShare * idleRate;
  const wBlip = (1 - m.userWakeShare) / m.blipNs;
  if (wUser <= 0) return 0;
  if (wBlip <= 0) return 1;
  // In log space: both densities underflow for long runs.
  const logRatio = Math.log(wBlip / wUser) - T / m.blipNs + m.busyRate * T;
  return 1 / (1 + Math.exp(logRatio));
}

/**
 * The first time on a periodic grid (period P, through `at`) after `now`: a tick that
 * passed while its vCPU was not running rolls forward without an exit. P = Infinity: never.
 */
function rollPast(at: number, P: number, now: number): number {
  if (!Number.isFinite(P)) return Infinity;
  if (at > now) return at;
  const next = at + (Math.floor((now - at) / P) + 1) * P;
  return next > now ? next : next + P; // rounding at an exact multiple
}

/** A Bernoulli draw with probability p, drawing only when the outcome is uncertain. */
function draw(rs: RandomSource, p: number): boolean {
  if (p <= 0) return false;
  if (p >= 1) return true;
  return rs.uniform() < p;
}

/** The next vCPU after a vcpu_put of the vCPU whose row starts at `row`. */
function pick(cum: Float64Array, row: number, u: number): number {
  let k = row;
  while (u >= cum[k]) k++;
  return k - row;
}

/**
 * Compiled models by workload, and flat tables by model: streams of one workload (seeds
 * of a sweep, the bench's samples) compile it once. Compiling and flattening take
 * 0.1-0.9 ms, 5-20% of generating 131,072 runs. Both are read-only once built; a
 * workload changed in place since (its JSON differs) is compiled again.
 */
const compiledModels = new WeakMap<GuestWorkload, { json: string; model: GuestModel }>();
const flatByModel = new WeakMap<GuestModel, FlatTables>();

/** The compiled model of `w` (compileGuest), from the cache when `w` did not change. */
function compiledModel(w: GuestWorkload): GuestModel {
  const json = JSON.stringify(w);
  const hit = compiledModels.get(w);
  if (hit?.json === json) return hit.model;
  const model = compileGuest(w);
  compiledModels.set(w, { json, model });
  return model;
}

/** The hot loop's flat tables of a model (flattenGuest), built once per model. */
function flatTablesOf(model: GuestModel): FlatTables {
  let t = flatByModel.get(model);
  if (t === undefined) {
    t = flattenGuest(model.slots);
    flatByModel.set(model, t);
  }
  return t;
}

/**
 * Chunk columns of finished streams, reused by the next stream: a fresh 720 KB chunk per
 * stream cost page faults, zeroing and GC (5-8% of generating 131,072 runs). A stream
 * takes a buffer for its whole life and gives it back when its consumer is done with it.
 */
type ChunkColumns = ReturnType<typeof allocChunk>;
const chunkPool: ChunkColumns[] = [];
const CHUNK_POOL_SIZE = 2;

/** Chunk columns for at least `capacity` runs, from the pool when it has some. */
function takeChunk(capacity: number): ChunkColumns {
  const pooled = chunkPool.pop();
  return pooled !== undefined && pooled.cls.length >= capacity ? pooled : allocChunk(capacity);
}

/** The stream of a guest workload. Cost: O(runs); memory O(chunk). */
export function guestStream(w: GuestWorkload, opts: { runs: number; seed: number }): ExitStream {
  const model = compiledModel(w);
  const { runs, seed } = opts;
  return {
    name: w.name,
    vcpus: model.vcpus,
    runs,
    *chunks() {
      const runner = new GuestRunner(model, seed);
      const buf = takeChunk(Math.min(CHUNK_RUNS, Math.max(1, runs)));
      try {
        for (let start = 0; start < runs; start += CHUNK_RUNS) {
          const len = Math.min(CHUNK_RUNS, runs - start);
          runner.fill(buf.cls, buf.exitKey, buf.ns, len);
          yield { length: len, ...buf };
        }
      } finally {
        // The consumer asked past the last chunk or stopped: by the StreamChunk contract
        // it holds none of these arrays any more.
        if (chunkPool.length < CHUNK_POOL_SIZE) chunkPool.push(buf);
      }
    },
  };
}
