/*
 * Scripted AArch32 EL1 (SVC mode) guest for the fpswitch validation VMM (vmm.c),
 * started with KVM_ARM_VCPU_EL1_32BIT. MMU off, at GPA 0x40000000. The VMM sets:
 *   r4 = variant bits: bit0 = FP instruction before the exit,
 *                      bit1 = exit by MMIO store instead of HVC,
 *                      bit2 = FPEXC.EN=0 then EN=1 (VMSR) before the FP instruction,
 *                             as a 32-bit Linux guest does around its lazy VFP switch
 *   r5 = iteration count, r6 = MMIO data address, r7 = "done" MMIO address
 * The labels fpexc_pro, loop, fpexc_t0..2, fp_iter and done are read from the object
 * file (lib/build.ts) by the FP model of the comparison (lib/program-fp.ts): they say
 * which PCs touch FP or FPEXC.
 * A nop before each FP/FPEXC access that follows a branch keeps the access from starting
 * a TCG translation block: TCG takes interrupts only between blocks, so an IRQ exit whose
 * PC is the access can only follow its FP trap (the trap's ERET starts a block there).
 */
	.syntax unified
	.arch armv7-a
	.arch_extension virt
	.fpu vfpv3-d16
	.arm
	.text
	.globl _start
_start:
	mov	r0, #(0xf << 20)	// CPACR: cp10 and cp11 full access
	mcr	p15, 0, r0, c1, c0, 2
	isb
	mov	r0, #0x40000000		// FPEXC.EN = 1 (VMSR FPEXC at PL1: trapped by CPTR_EL2.TFP)
fpexc_pro:
	vmsr	fpexc, r0
loop:
	cmp	r5, #0
	beq	done
	sub	r5, r5, #1
	tst	r4, #4
	beq	1f
	nop				@ see the header: fpexc_t0 must not start a TB
fpexc_t0:
	vmrs	r0, fpexc
	bic	r0, r0, #0x40000000	// FPEXC.EN = 0
fpexc_t1:
	vmsr	fpexc, r0
	orr	r0, r0, #0x40000000	// FPEXC.EN = 1
fpexc_t2:
	vmsr	fpexc, r0
1:	tst	r4, #1
	beq	2f
	nop				@ see the header: fp_iter must not start a TB
fp_iter:
	vadd.f64 d0, d0, d1		// the FP instruction
2:	tst	r4, #2
	bne	3f
	mov	r0, #0x80000000		// SMCCC_ARCH_VERSION, handled in the host kernel
	hvc	#0
	b	loop
3:	str	r5, [r6]		// unbacked IPA: KVM_EXIT_MMIO to the VMM
	b	loop
done:
	str	r0, [r7]
	b	done
