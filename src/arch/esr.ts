/**
 * ESR_ELx exception classes (EC, bits [31:26]) with the names the kernel's
 * `arch/arm64/include/asm/esr.h` gives them (`kvm_exit` names a subset: docs/domain.md §6;
 * Arm ARM D19.2 "ESR_EL2").
 */

export const EC = {
  UNKNOWN: 0x00,
  WFx: 0x01,
  CP15_32: 0x03,
  CP15_64: 0x04,
  CP14_MR: 0x05,
  CP14_LS: 0x06,
  FP_ASIMD: 0x07,
  CP10_ID: 0x08,
  PAC: 0x09,
  CP14_64: 0x0c,
  ILL: 0x0e,
  SVC32: 0x11,
  HVC32: 0x12,
  SMC32: 0x13,
  SVC64: 0x15,
  HVC64: 0x16,
  SMC64: 0x17,
  SYS64: 0x18,
  SVE: 0x19,
  ERET: 0x1a,
  IMP_DEF: 0x1f,
  IABT_LOW: 0x20,
  IABT_CUR: 0x21,
  PC_ALIGN: 0x22,
  DABT_LOW: 0x24,
  DABT_CUR: 0x25,
  SP_ALIGN: 0x26,
  FP_EXC32: 0x28,
  FP_EXC64: 0x2c,
  SERROR: 0x2f,
  BREAKPT_LOW: 0x30,
  BREAKPT_CUR: 0x31,
  SOFTSTP_LOW: 0x32,
  SOFTSTP_CUR: 0x33,
  WATCHPT_LOW: 0x34,
  WATCHPT_CUR: 0x35,
  BKPT32: 0x38,
  VECTOR32: 0x3a,
  BRK64: 0x3c,
} as const;

type EcName = keyof typeof EC;

const EC_NAME_BY_CODE: ReadonlyMap<number, EcName> = new Map(
  (Object.entries(EC) as [EcName, number][]).map(([name, code]) => [code, name]),
);

/** The kernel's name for an EC value, or undefined when its table has none. */
export function ecName(code: number): EcName | undefined {
  return EC_NAME_BY_CODE.get(code);
}

/** Whether `name` is an EC name of the table. */
export function isEcName(name: string): name is EcName {
  return Object.prototype.hasOwnProperty.call(EC, name);
}

/**
 * Exit classes as fpswitch counts them: one per `kvm_exit` exception type, and for TRAP
 * exits one per EC. Codes 0x00-0x3f are TRAP exits keyed by EC; the other exception types
 * `kvm_exit` prints (docs/domain.md §6: IRQ, SERROR, HYP_GONE) take codes above the EC range.
 */
export const EXIT_TYPE = {
  IRQ: 0x40,
  SERROR: 0x41,
  HYP_GONE: 0x42,
} as const;

/** Number of distinct exit class codes (TRAP ECs, then the other exception types). */
export const EXIT_CLASS_COUNT = 0x43;

/**
 * The label of an exit class code, as `perf kvm stat report` keys arm64 exits: the EC name
 * for TRAP exits (hex when the kernel's table lacks one), the type otherwise.
 */
export function exitClassName(code: number): string {
  if (code === EXIT_TYPE.IRQ) return 'IRQ';
  if (code === EXIT_TYPE.SERROR) return 'SERROR';
  if (code === EXIT_TYPE.HYP_GONE) return 'HYP_GONE';
  return ecName(code) ?? `0x${code.toString(16).padStart(2, '0')}`;
}

/** The exit class code for an exit class label (EC name, hex EC, or exception type). */
export function exitClassCode(label: string): number | undefined {
  if (label === 'IRQ' || label === 'SERROR' || label === 'HYP_GONE') return EXIT_TYPE[label];
  if (isEcName(label)) return EC[label];
  const hex = /^0x([0-9a-fA-F]{1,2})$/.exec(label);
  if (hex) {
    const code = parseInt(hex[1], 16);
    if (code < 0x40) return code;
  }
  return undefined;
}
