/**
 * The cost machine: runs a policy's hooks and counts every primitive they execute (FP
 * saves and restores, traps, ISBs, system register accesses). Cycles are a linear function
 * of these counts with a CPU profile's prices (`price` in sim/simulate.ts), so one run of
 * the machine serves every CPU profile and FP state size. It keeps only the state that
 * changes what the hooks do (CPTR_EL2.TFP, the loaded vCPU, whether the guest context is
 * live, TIF_FOREIGN_FPSTATE, the policy's own state), so a policy compiles to a small
 * table. CPTR_EL2 writes take effect at once here: the timing of synchronisation is the
 * semantic machine's business, not a cost.
 */

import { fpSlotProblem } from '../policy/types.js';
import type { FpSlot, Policy, PolicyHooks, VcpuDesc, VcpuId } from '../policy/types.js';
import { FP_EL0, FP_EL1, FPEXC_ACCESS, type RunClassFields } from './run-class.js';
import { thrownText, UserError, userText } from '../util/errors.js';
import {
  enterGuest,
  exitGuest,
  kernelNeon,
  takeFpTrap,
  vcpuLoad,
  vcpuPut,
  type WorldMachine,
} from './lifecycle.js';

/** Indices of the per-run counts a cost machine accumulates. */
export const METRIC = {
  fpSaves: 0,
  fpRestores: 1,
  fpTraps: 2,
  isbs: 3,
  sysregWrites: 4,
  sysregReads: 5,
  fpexc32Accesses: 6,
  /** FP traps in runs whose only FP access was to FPEXC (AArch32 guest kernel toggling EN). */
  fpexcOnlyTraps: 7,
  /** Runs during which some FP/SIMD state was saved or restored. */
  switchedRuns: 8,
} as const;
export const METRIC_COUNT = 9;

/** A snapshot of everything the cost of the next run depends on. */
export interface CostState {
  readonly tfp: boolean;
  readonly loaded: number;
  readonly running: boolean;
  readonly foreign: boolean;
  /** JSON of the policy's state. */
  readonly policy: string;
}

/**
 * The key of a cost state's machine part (TFP, loaded context, running, foreign FP state):
 * the one definition both table compilers intern their states by, each appending its own
 * policy part. Cost: O(1).
 */
export function machinePartKey(m: CostState): string {
  return `${m.tfp ? 1 : 0}|${m.loaded}|${m.running ? 1 : 0}|${m.foreign ? 1 : 0}`;
}

/** JSON of a policy's state; `undefined` (JSON.stringify's answer for it) becomes 'null'. */
function stateJson(state: unknown): string {
  // JSON.stringify's declared type omits the undefined it returns for undefined or a function.
  const stringify: (value: unknown) => string | undefined = JSON.stringify;
  return stringify(state) ?? 'null';
}

export class CostMachine implements WorldMachine {
  readonly hooks: PolicyHooks;
  readonly vcpus: readonly VcpuDesc[];
  policyState: unknown;
  /** The loaded vCPU, or -1. */
  loaded: VcpuId = -1;
  running = false;
  private tfp = false;
  private foreign = false;
  /** Accumulated metrics (see METRIC). */
  readonly acc = new Float64Array(METRIC_COUNT);
  private readonly aarch32: readonly boolean[];

  constructor(
    readonly policy: Policy,
    vcpus: readonly VcpuDesc[],
  ) {
    this.hooks = policy.hooks;
    this.vcpus = vcpus;
    this.aarch32 = vcpus.map((v) => v.aarch32);
    this.policyState = policy.hooks.init(vcpus);
  }

  // --- state -------------------------------------------------------------------------

  snapshot(): CostState {
    return {
      tfp: this.tfp,
      loaded: this.loaded,
      running: this.running,
      foreign: this.foreign,
      policy: this.policyJson(),
    };
  }

  /** The policy state as JSON; a user's state that JSON cannot hold is a UserError. */
  private policyJson(): string {
    if (this.policy.source === undefined) return stateJson(this.policyState);
    try {
      return stateJson(this.policyState);
    } catch (e) {
      throw new UserError(
        `${this.policy.source}: policy ${userText(this.policy.id)}: its state must be plain data (numbers, booleans, strings, arrays, objects): ${thrownText(e)}`,
      );
    }
  }

  restore(s: CostState): void {
    this.tfp = s.tfp;
    this.loaded = s.loaded;
    this.running = s.running;
    this.foreign = s.foreign;
    this.policyState = JSON.parse(s.policy);
  }

  // --- one run of a stream -----------------------------------------------------------

  /**
   * Runs one stream entry through the world switch: vcpu_put/vcpu_load when the vCPU
   * changes, entry unless the previous exit was handled at EL2, the guest's FP accesses
   * (each traps while TFP is set), the exit, host FP use, and a vcpu_put if the host
   * preempts the thread. Charges everything to `acc`.
   */
  run(rc: RunClassFields): void {
    const acc = this.acc;
    const before = acc[METRIC.fpSaves] + acc[METRIC.fpRestores];
    if (this.loaded !== rc.vcpu) {
      if (this.loaded >= 0) {
        if (this.running)
          throw new UserError(
            'stream: a new vCPU runs right after an exit handled at EL2 (the guest context was still live): such a stream is impossible',
          );
        vcpuPut(this);
      }
      vcpuLoad(this, rc.vcpu);
    }
    if (!this.running) enterGuest(this);
    const fpAccesses =
      (rc.fp & FP_EL0 ? 1 : 0) + (rc.fp & FP_EL1 ? 1 : 0) + (rc.fp & FPEXC_ACCESS ? 1 : 0);
    if (fpAccesses > 0 && this.tfp) {
      takeFpTrap(this);
      if (rc.fp === FPEXC_ACCESS) acc[METRIC.fpexcOnlyTraps] += 1;
    }
    exitGuest(this, rc.handled);
    if (rc.hostFp) {
      // After an exit to userspace the VMM's FP use finds its state restored on return to
      // user; after an exit handled in the kernel, host FP use is kernel-mode NEON.
      if (this.loaded >= 0) kernelNeon(this);
    }
    if (rc.put) vcpuPut(this);
    if (acc[METRIC.fpSaves] + acc[METRIC.fpRestores] !== before) acc[METRIC.switchedRuns] += 1;
  }

  // --- WorldMachine ------------------------------------------------------------------

  exceptionEntry(reason: 'exit' | 'fp-trap'): void {
    if (reason === 'fp-trap') this.acc[METRIC.fpTraps] += 1;
  }

  exceptionReturn(): void {}

  restoreCurrentState(): void {
    if (this.foreign) {
      this.chargeRestore();
      this.foreign = false;
    }
  }

  clobberFp(): void {}

  tfpWritten(): boolean {
    return this.tfp;
  }

  policyFault(message: string): never {
    throw new UserError(
      `${this.policy.source ? `${this.policy.source}: ` : ''}policy ${userText(this.policy.id)}: ${userText(message)}`,
    );
  }

  // --- Hyp primitives ----------------------------------------------------------------

  isAArch32(vcpu: VcpuId): boolean {
    return this.aarch32.at(vcpu) ?? false;
  }

  writeCptrTfp(set: boolean): void {
    this.tfp = set;
    this.chargeWrite();
  }

  fpEnabled(): boolean {
    this.chargeRead();
    return !this.tfp;
  }

  isb(): void {
    this.acc[METRIC.isbs] += 1;
  }

  saveFp(to: FpSlot): void {
    this.checkSlot(to);
    this.chargeSave();
  }

  restoreFp(from: FpSlot): void {
    this.checkSlot(from);
    this.chargeRestore();
  }

  private checkSlot(slot: FpSlot): void {
    const problem = fpSlotProblem(slot, this.vcpus.length);
    if (problem) this.policyFault(problem);
  }

  saveFpexc32(): void {
    this.acc[METRIC.fpexc32Accesses] += 1;
    this.chargeRead();
  }

  restoreFpexc32(): void {
    this.acc[METRIC.fpexc32Accesses] += 1;
    this.chargeWrite();
  }

  writeFpexc32En(): void {
    this.acc[METRIC.fpexc32Accesses] += 1;
    this.chargeWrite();
  }

  fpsimdSave(): void {
    if (!this.foreign) this.chargeSave();
  }

  bindToCpu(): void {
    this.foreign = false;
  }

  flushCpuState(): void {
    this.foreign = true;
  }

  foreignFpstate(): boolean {
    return this.foreign;
  }

  // --- counting ----------------------------------------------------------------------

  private chargeSave(): void {
    this.acc[METRIC.fpSaves] += 1;
  }

  private chargeRestore(): void {
    this.acc[METRIC.fpRestores] += 1;
  }

  private chargeWrite(): void {
    this.acc[METRIC.sysregWrites] += 1;
  }

  private chargeRead(): void {
    this.acc[METRIC.sysregReads] += 1;
  }
}
