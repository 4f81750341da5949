/*
 * Scripted AArch64 EL1 guest for the fpswitch validation VMM (vmm.c).
 * Runs with the MMU off at GPA 0x40000000. The VMM sets:
 *   x19 = variant bits: bit0 = FP instruction before the exit,
 *                       bit1 = exit by MMIO store (to host userspace) instead of HVC
 *   x20 = iteration count, x21 = MMIO data address, x22 = "done" MMIO address
 * The labels loop, fp_iter and done are read from the object file (lib/build.ts) by the
 * FP model of the comparison (lib/program-fp.ts): they say which PCs touch FP.
 * The nop before the FP instruction keeps it from starting a TCG translation block: TCG
 * takes interrupts only between blocks, so an IRQ exit whose PC is the FP instruction can
 * only follow the FP trap (its ERET starts a new block there). Without it the trace could
 * not tell an IRQ just before the FP instruction from one just after its trap.
 */
	.text
	.globl _start
_start:
	mov	x0, #(3 << 20)		// CPACR_EL1.FPEN = 0b11: no EL1/EL0 FP trap to EL1
	msr	cpacr_el1, x0
	isb
loop:
	cbz	x20, done
	sub	x20, x20, #1
	tbz	x19, #0, 1f
	nop				// see the header: fp_iter must not start a TB
fp_iter:
	fadd	d0, d0, d1		// the FP/SIMD instruction: traps to EL2 (EC 0x07) if CPTR_EL2.TFP
1:	tbnz	x19, #1, 2f
	mov	x0, #0x80000000		// SMCCC_ARCH_VERSION: handled by the host kernel (kvm_hvc_call_handler)
	hvc	#0
	b	loop
2:	str	w20, [x21]		// unbacked IPA: KVM_EXIT_MMIO to the VMM (host userspace)
	b	loop
done:
	str	wzr, [x22]
	b	done
