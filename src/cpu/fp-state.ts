/**
 * The size of the FP/SIMD state a world switch saves and restores.
 *
 * FPSIMD: 32 x 128-bit V registers (512 B) + FPSR + FPCR (4 B each) = 520 B of
 * architectural state (docs/domain.md §5; `struct user_fpsimd_state` pads it to 528 B).
 * SVE: Z0-Z31 (32 x VL/8 B), P0-P15 (16 x VL/64 B) and FFR (VL/64 B) = 546 x VQ bytes
 * where VQ = VL/128, plus the 8 B of FPSR/FPCR (docs/domain.md §5: 554 B at VL 128,
 * 8,744 B at 2,048; arch/arm64/include/uapi/asm/sigcontext.h `__SVE_*_SIZE`).
 */

import { UserError, userText } from '../util/errors.js';

/** FPSIMD state bytes: V0-V31 + FPSR + FPCR. */
export const FPSIMD_BYTES = 32 * 16 + 4 + 4;

/** Bytes of SVE state per VQ (128 bits of vector length): Z 512 + P 32 + FFR 2. */
const SVE_BYTES_PER_VQ = 512 + 32 + 2;

/** The FP state a switch moves: plain FPSIMD, or SVE at a vector length in bits. */
export type FpStateSize =
  { readonly kind: 'fpsimd' } | { readonly kind: 'sve'; readonly vl: number };

export const FPSIMD: FpStateSize = { kind: 'fpsimd' };

/** Bytes moved by one save (or one restore) of the state. Cost: O(1). */
export function fpStateBytes(size: FpStateSize): number {
  if (size.kind === 'fpsimd') return FPSIMD_BYTES;
  return SVE_BYTES_PER_VQ * (size.vl / 128) + 8;
}

/**
 * Parses `--vl`: absent or `0` is FPSIMD; otherwise an SVE vector length in bits, a
 * multiple of 128 from 128 to 2048 (Arm ARM: ZCR_ELx.LEN, VL = (LEN + 1) x 128).
 */
export function parseVectorLength(text: string | undefined): FpStateSize {
  if (text === undefined || text === '0' || text === 'fpsimd') return FPSIMD;
  const vl = Number(text);
  if (!Number.isInteger(vl) || vl < 128 || vl > 2048 || vl % 128 !== 0) {
    throw new UserError(
      `--vl ${userText(text)}: an SVE vector length must be a multiple of 128 from 128 to 2048 bits (or 0 for FPSIMD)`,
    );
  }
  return { kind: 'sve', vl };
}

/** A short label: `fpsimd` or `sve-512`. */
export function fpStateLabel(size: FpStateSize): string {
  return size.kind === 'fpsimd' ? 'fpsimd' : `sve-${size.vl}`;
}
