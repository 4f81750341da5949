/**
 * Sourced numbers in workload files: every numeric parameter of a `guest` workload is an
 * object `{ "value": ..., "source": "..." }` or `{ "value": ..., "rationale": "..." }`, so
 * that a reader can see where each number comes from. An estimate says so
 * (`"estimate": true`) and must say what would change it (`"wouldChange"`); a value
 * fitted to reproduce a published figure says so in `"fitted"`, naming the independent
 * fact that supports it.
 */

import { z } from 'zod';

export interface SourcedValue {
  readonly value: number;
  readonly source?: string;
  readonly rationale?: string;
  readonly estimate?: boolean;
  readonly wouldChange?: string;
  readonly fitted?: string;
}

const SHAPE_HINT = 'expected { "value": <number>, "source" or "rationale": "<text>" }';

/** A schema for a sourced number whose `value` satisfies `value`. */
export function sourced(value: z.ZodNumber) {
  return z
    .strictObject(
      {
        value,
        source: z.string().min(1).optional(),
        rationale: z.string().min(1).optional(),
        estimate: z.boolean().optional(),
        wouldChange: z.string().min(1).optional(),
        fitted: z.string().min(1).optional(),
      },
      {
        error: (iss) =>
          iss.code === 'invalid_type'
            ? iss.input === undefined
              ? `missing: ${SHAPE_HINT}`
              : SHAPE_HINT
            : undefined,
      },
    )
    .superRefine((p, ctx) => {
      if (p.source === undefined && p.rationale === undefined) {
        ctx.addIssue({ code: 'custom', message: 'needs a "source" or a "rationale"' });
      }
      if (p.estimate === true && p.wouldChange === undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['wouldChange'],
          message: 'an estimate must say what would change it',
        });
      }
    });
}

/** A non-negative rate (events per second). */
export const rateParam = sourced(z.number().min(0).max(1e10));
/** A probability or share in [0, 1]. */
export const probabilityParam = sourced(z.number().min(0).max(1));
/** A positive duration in microseconds. */
export const microsParam = sourced(z.number().positive().max(1e10));

/** Every sourced number in a parsed object, with its dotted path (`vms[0].hz`). */
export function sourcedLeaves(obj: unknown, path = ''): { path: string; param: SourcedValue }[] {
  const out: { path: string; param: SourcedValue }[] = [];
  if (Array.isArray(obj)) {
    obj.forEach((v, i) => out.push(...sourcedLeaves(v, `${path}[${i}]`)));
  } else if (obj !== null && typeof obj === 'object') {
    const rec = obj as Record<string, unknown>;
    if (typeof rec.value === 'number' && ('source' in rec || 'rationale' in rec)) {
      out.push({ path, param: rec as unknown as SourcedValue });
      return out;
    }
    for (const [k, v] of Object.entries(rec))
      out.push(...sourcedLeaves(v, path === '' ? k : `${path}.${k}`));
  }
  return out;
}
