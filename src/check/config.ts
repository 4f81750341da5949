/**
 * Checker configurations: which vCPUs share the one modelled physical CPU. Built-in ones
 * by name, a user's own as a JSON file validated with a schema.
 *
 * The default has two AArch32 vCPUs because the NOTAFIX bug (docs/domain.md §3, bug 3) needs
 * one 32-bit guest to leave FPEXC32_EL2.EN=0 behind for another; they sit in different
 * VMs, as on a host that runs several 32-bit guests. The AArch64 vCPU adds the other
 * check order (CPACR_EL1.FPEN, then CPTR_EL2.TFP) and a guest that never touches FPEXC.
 */

import { existsSync } from 'node:fs';
import { z } from 'zod';
import type { VcpuDesc } from '../policy/types.js';
import { schemaError } from '../stream/schema-errors.js';
import { UserError, userText } from '../util/errors.js';
import { readJsonFile } from '../util/json-file.js';

export interface CheckConfig {
  readonly name: string;
  readonly description: string;
  readonly vcpus: readonly VcpuDesc[];
  /** The file a user's configuration came from. */
  readonly file?: string;
}

/**
 * At most this many vCPUs: every extra vCPU multiplies the reachable states (its FP
 * context, its saved FPEXC, its guest's CPACR and FPEXC.EN), and the 2015 bugs need three.
 */
export const MAX_VCPUS = 5;

export const DEFAULT_CONFIG: CheckConfig = {
  name: 'default',
  description: 'host + two AArch32 vCPUs (different VMs) + one AArch64 vCPU on one physical CPU',
  vcpus: [
    { id: 0, vm: 0, aarch32: true },
    { id: 1, vm: 1, aarch32: true },
    { id: 2, vm: 2, aarch32: false },
  ],
};

export const THREE_AARCH32_CONFIG: CheckConfig = {
  name: 'three-aarch32',
  description: 'host + three AArch32 vCPUs (different VMs) on one physical CPU',
  vcpus: [
    { id: 0, vm: 0, aarch32: true },
    { id: 1, vm: 1, aarch32: true },
    { id: 2, vm: 2, aarch32: true },
  ],
};

export const BUILTIN_CONFIGS: readonly CheckConfig[] = [DEFAULT_CONFIG, THREE_AARCH32_CONFIG];

export const CheckConfigSchema = z.strictObject({
  name: z.string().min(1),
  description: z.string().optional(),
  vcpus: z
    .array(
      z.strictObject({
        /** Width of the guest's EL1 (HCR_EL2.RW). */
        el1: z.enum(['aarch32', 'aarch64']),
        /** The VM the vCPU belongs to; defaults to a VM of its own. */
        vm: z.number().int().min(0).optional(),
      }),
    )
    .min(1)
    .max(MAX_VCPUS),
});

/** Validates parsed JSON as a configuration; `file` names the source in messages. */
function parseCheckConfig(raw: unknown, file: string): CheckConfig {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new UserError(
      `${userText(file)}: a checker configuration must be a JSON object with "name" and "vcpus"`,
    );
  }
  const r = CheckConfigSchema.safeParse(raw);
  if (!r.success) throw schemaError(file, r.error);
  const c = r.data;
  return {
    name: c.name,
    description:
      c.description ??
      `host + ${c.vcpus.map((v) => (v.el1 === 'aarch32' ? 'AArch32' : 'AArch64')).join(' + ')} vCPUs`,
    vcpus: c.vcpus.map((v, id) => ({ id, vm: v.vm ?? id, aarch32: v.el1 === 'aarch32' })),
    file,
  };
}

/** A built-in configuration by name, or a user's configuration file by path. */
export function resolveCheckConfig(spec: string): CheckConfig {
  const builtin = BUILTIN_CONFIGS.find((c) => c.name === spec);
  if (builtin) return builtin;
  if (/[/\\]|\.json$/i.test(spec) || existsSync(spec)) {
    if (!existsSync(spec)) throw new UserError(`${userText(spec)}: no such configuration file`);
    return parseCheckConfig(readJsonFile(spec, 'configuration file'), spec);
  }
  throw new UserError(
    `unknown configuration "${userText(spec)}" (built-in: ${BUILTIN_CONFIGS.map((c) => c.name).join(', ')}; or a path to a JSON file)`,
  );
}

/** `v0 AArch32 (VM 0), ...` */
export function describeVcpus(vcpus: readonly VcpuDesc[]): string {
  return vcpus
    .map((v) => `vcpu${v.id} ${v.aarch32 ? 'AArch32' : 'AArch64'} (VM ${v.vm})`)
    .join(', ');
}
