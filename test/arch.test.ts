import { describe, expect, it } from 'vitest';
import {
  AArch32_CheckAdvSIMDOrFPEnabled,
  AArch32_VMRS_VMSR,
  AArch64_CheckFPAdvSIMDEnabled,
  EL2_FPEXC32Access,
  EL2_FPSIMDAccess,
  guestFpAccess,
  type PeView,
} from '../src/arch/checks.js';
import { EC, exitClassCode, exitClassName } from '../src/arch/esr.js';
import { CPTR_EL2, FPEXC, HCR_EL2 } from '../src/arch/registers.js';

const a32: PeView = {
  el: 0,
  el1IsAArch32: true,
  cpacr: 0b11,
  asedis: false,
  fpexcEn: true,
  cptrTfp: false,
};
const a64: PeView = { ...a32, el1IsAArch32: false };

describe('register bits (docs/domain.md §2.1)', () => {
  it('places TFP, RW and EN where the Arm ARM does', () => {
    expect(CPTR_EL2.TFP).toBe(0x400);
    expect(HCR_EL2.RW).toBe(0x80000000);
    expect(FPEXC.EN).toBe(0x40000000);
    expect(FPEXC.EX).toBe(0x80000000);
  });
});

describe('AArch32 check order: CPACR, then FPEXC.EN, then CPTR_EL2.TFP', () => {
  it('executes when everything is enabled', () => {
    expect(guestFpAccess(a32)).toBe('executes');
  });
  it('traps to EL2 when only TFP is set', () => {
    expect(guestFpAccess({ ...a32, cptrTfp: true })).toBe('trap-el2');
  });
  it('UNDEFs at EL1 on FPEXC.EN=0 even with TFP set: the EL1 UNDEF wins (bug 3)', () => {
    expect(guestFpAccess({ ...a32, fpexcEn: false, cptrTfp: true })).toBe('undef-el1');
  });
  it('UNDEFs at EL1 when CPACR denies access, before FPEXC and TFP', () => {
    expect(guestFpAccess({ ...a32, cpacr: 0b00, fpexcEn: false, cptrTfp: true })).toBe('undef-el1');
    expect(guestFpAccess({ ...a32, cpacr: 0b01, el: 0 })).toBe('undef-el1');
    expect(guestFpAccess({ ...a32, cpacr: 0b01, el: 1 })).toBe('executes');
  });
  it('Advanced SIMD also honours ASEDIS', () => {
    expect(AArch32_CheckAdvSIMDOrFPEnabled({ ...a32, asedis: true }, true, true)).toBe('undef-el1');
    expect(AArch32_CheckAdvSIMDOrFPEnabled({ ...a32, asedis: true }, true, false)).toBe('executes');
  });
});

describe('VMRS/VMSR', () => {
  it('FPEXC at EL1 is not gated by FPEXC.EN but is trapped by TFP', () => {
    expect(AArch32_VMRS_VMSR({ ...a32, el: 1, fpexcEn: false }, 'FPEXC')).toBe('executes');
    expect(AArch32_VMRS_VMSR({ ...a32, el: 1, fpexcEn: false, cptrTfp: true }, 'FPEXC')).toBe(
      'trap-el2',
    );
  });
  it('FPEXC is UNDEFINED at EL0; FPSCR is gated by FPEXC.EN', () => {
    expect(AArch32_VMRS_VMSR({ ...a32, el: 0 }, 'FPEXC')).toBe('undef-el1');
    expect(AArch32_VMRS_VMSR({ ...a32, el: 0, fpexcEn: false }, 'FPSCR')).toBe('undef-el1');
  });
});

describe('AArch64', () => {
  it('CPACR_EL1.FPEN traps to EL1 before CPTR_EL2.TFP', () => {
    expect(AArch64_CheckFPAdvSIMDEnabled({ ...a64, cpacr: 0b00, cptrTfp: true })).toBe('trap-el1');
    expect(AArch64_CheckFPAdvSIMDEnabled({ ...a64, cptrTfp: true })).toBe('trap-el2');
    expect(AArch64_CheckFPAdvSIMDEnabled({ ...a64, cpacr: 0b01, el: 1 })).toBe('executes');
  });
  it('ignores FPEXC.EN', () => {
    expect(guestFpAccess({ ...a64, fpexcEn: false })).toBe('executes');
  });
  it('an AArch32 EL0 under an AArch64 EL1 follows the AArch64 controls', () => {
    expect(AArch32_CheckAdvSIMDOrFPEnabled({ ...a64, fpexcEn: false }, true, false)).toBe(
      'executes',
    );
  });
});

describe('EL2 own accesses (bugs 1 and 2)', () => {
  it('EL2 FP and FPEXC32_EL2 accesses trap to EL2 itself with TFP in effect', () => {
    expect(EL2_FPSIMDAccess({ ...a64, cptrTfp: true })).toBe('el2-self-trap');
    expect(EL2_FPEXC32Access({ ...a64, cptrTfp: true })).toBe('el2-self-trap');
    expect(EL2_FPSIMDAccess(a64)).toBe('executes');
    expect(EL2_FPEXC32Access(a64)).toBe('executes');
  });
});

describe('ESR EC table (docs/domain.md §6)', () => {
  it('maps names and codes both ways, hex for codes the table lacks', () => {
    expect(EC.FP_ASIMD).toBe(0x07);
    expect(EC.SYS64).toBe(0x18);
    expect(EC.DABT_LOW).toBe(0x24);
    expect(exitClassName(0x16)).toBe('HVC64');
    expect(exitClassName(0x3b)).toBe('0x3b');
    expect(exitClassCode('IRQ')).toBe(0x40);
    expect(exitClassCode('0x3b')).toBe(0x3b);
    expect(exitClassCode('NOPE')).toBeUndefined();
  });
});
