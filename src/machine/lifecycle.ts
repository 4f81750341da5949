/**
 * The world-switch procedures every machine runs, in the order the kernel runs them:
 * vcpu_load, entry (ERET into the guest), FP trap, exit (handled at EL2, in the host
 * kernel or in host userspace), vcpu_put, return to userspace, kernel-mode NEON. A
 * policy's hooks are called from here and nowhere else, so the semantic machine (checker)
 * and the cost machine (simulator) execute the same policy code in the same order.
 */

import type { Handled } from '../cpu/profile.js';
import { HANDLED } from '../cpu/profile.js';
import type { Hyp, PolicyHooks, VcpuId } from '../policy/types.js';

/** A machine the procedures can drive: the policy primitives plus the architectural events. */
export interface WorldMachine extends Hyp {
  readonly hooks: PolicyHooks;
  /** The policy's software state. */
  readonly policyState: unknown;
  /** The loaded vCPU, or -1. */
  loaded: VcpuId;
  /** The guest context is live at EL1 (between entry and an exit that reaches the host). */
  running: boolean;
  /** An exception taken to EL2 (exit or FP trap): a context synchronisation event. */
  exceptionEntry(reason: 'exit' | 'fp-trap'): void;
  /** ERET from EL2 (to the guest, or to the non-VHE host): a context synchronisation event. */
  exceptionReturn(reason: 'exit' | 'fp-trap' | 'entry'): void;
  /** `fpsimd_restore_current_state()` on return to userspace: reload the host task's state if foreign. */
  restoreCurrentState(): void;
  /** The host's registers are clobbered by kernel-mode NEON code. */
  clobberFp(): void;
  /** A policy broke a rule the engine relies on (e.g. left TFP set after a trap). */
  policyFault(message: string): never;
  /** CPTR_EL2.TFP as last written: the engine's own check, not a primitive (costs nothing). */
  tfpWritten(): boolean;
}

/** `kvm_arch_vcpu_load()`: the vCPU thread is scheduled in or enters KVM_RUN. */
export function vcpuLoad(m: WorldMachine, vcpu: VcpuId): void {
  m.loaded = vcpu;
  m.hooks.onVcpuLoad?.(m, m.policyState, vcpu);
}

/** `kvm_arch_vcpu_put()`: the loaded vCPU is scheduled out or leaves KVM_RUN. */
export function vcpuPut(m: WorldMachine): void {
  const vcpu = m.loaded;
  if (vcpu < 0) return;
  m.hooks.onVcpuPut?.(m, m.policyState, vcpu);
  m.loaded = -1;
}

/** World-switch entry into the loaded vCPU, ending with the ERET into the guest. */
export function enterGuest(m: WorldMachine): void {
  const vcpu = m.loaded;
  m.hooks.onEntry(m, m.policyState, vcpu);
  m.exceptionReturn('entry');
  m.running = true;
}

/**
 * The guest's FP/SIMD access trapped to EL2 (EC 0x07): the policy's handler runs and
 * ERETs back to the faulting instruction. Never visible as a `kvm_exit` (docs/domain.md §1).
 */
export function takeFpTrap(m: WorldMachine): void {
  const vcpu = m.loaded;
  m.exceptionEntry('fp-trap');
  if (!m.hooks.onFpTrap)
    m.policyFault('the guest trapped on FP (CPTR_EL2.TFP set) but the policy has no onFpTrap hook');
  m.hooks.onFpTrap(m, m.policyState, vcpu);
  m.exceptionReturn('fp-trap');
  if (m.tfpWritten())
    m.policyFault('onFpTrap returned with CPTR_EL2.TFP still set: the guest would trap forever');
}

/**
 * The guest exits. Handled at EL2 (`fixup_guest_exit`): straight back into the guest.
 * Otherwise the exit half of the world switch runs and the host handles it; an exit to
 * userspace ends the KVM_RUN ioctl, so the vCPU is put and the thread returns to user.
 */
export function exitGuest(m: WorldMachine, handled: Handled): void {
  const vcpu = m.loaded;
  m.exceptionEntry('exit');
  if (handled === HANDLED.hyp) {
    m.exceptionReturn('entry');
    return;
  }
  m.hooks.onExit(m, m.policyState, vcpu);
  m.running = false;
  m.exceptionReturn('exit');
  if (handled === HANDLED.user) {
    vcpuPut(m);
    returnToUser(m, vcpu);
  }
}

/** The vCPU thread returns to host userspace (the VMM). */
function returnToUser(m: WorldMachine, vcpu: VcpuId): void {
  m.hooks.onReturnToUser?.(m, m.policyState, vcpu);
  m.restoreCurrentState();
}

/** `kernel_neon_begin()` ... `kernel_neon_end()` in the host: save whatever is live, then clobber. */
export function kernelNeon(m: WorldMachine): void {
  m.fpsimdSave();
  m.flushCpuState();
  m.clobberFp();
}
