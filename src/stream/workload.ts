/**
 * Workloads: JSON files that describe a guest (or a parametric stream), validated with a
 * schema; built-in ones live in the top-level `workloads/` folder. A workload becomes an
 * ExitStream for a run count and a seed.
 */

import { existsSync, readdirSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { UserError, userText } from '../util/errors.js';
import { packageRoot } from '../util/package-root.js';
import { readJsonFile } from '../util/json-file.js';
import type { ExitStream } from './exit-stream.js';
import { guestStream } from './guest.js';
import { type GuestWorkload, GuestWorkloadSchema, validateGuest } from './guest-schema.js';
import {
  type MarkovWorkload,
  MarkovWorkloadSchema,
  markovStream,
  validateMarkov,
} from './markov.js';
import {
  type ModelConstants,
  modelConstants,
  WORKLOAD_TEMPLATES,
  workloadTemplate,
} from './guest-configs.js';
import { schemaError } from './schema-errors.js';
import { parseSpec, resolveSpecParams } from '../util/spec.js';

/** The folder of built-in workloads. */
export const WORKLOADS_DIR = resolve(packageRoot(), 'workloads');

/**
 * A validated workload (the type says it passed the schema and the extra checks): the
 * parametric `markov` kind or the mechanistic `guest` kind (guest-schema.ts).
 */
export type Workload = (MarkovWorkload | GuestWorkload) & { readonly __validated?: true };

export interface LoadedWorkload {
  readonly workload: Workload;
  /** The file it came from. */
  readonly file: string;
  readonly builtin: boolean;
}

const KINDS = ['guest', 'markov'] as const;

/**
 * Validates parsed JSON as a workload. `file` names the source in messages.
 * Throws a UserError listing every bad field with its path.
 */
export function parseWorkload(raw: unknown, file: string): Workload {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new UserError(`${userText(file)}: a workload must be a JSON object`);
  }
  const kind = (raw as Record<string, unknown>).kind;
  switch (kind) {
    case 'markov': {
      const r = MarkovWorkloadSchema.safeParse(raw);
      if (!r.success) throw schemaError(file, r.error);
      validateMarkov(r.data, file);
      return r.data;
    }
    case 'guest': {
      const r = GuestWorkloadSchema.safeParse(raw);
      if (!r.success) throw schemaError(file, r.error);
      validateGuest(r.data, file);
      return r.data;
    }
    case undefined:
      throw new UserError(`${userText(file)}: kind: missing (one of: ${KINDS.join(', ')})`);
    default:
      throw new UserError(
        `${userText(file)}: kind: unknown workload kind ${JSON.stringify(kind)} (one of: ${KINDS.join(', ')})`,
      );
  }
}

/** Reads and validates a workload file as written (no derivation). */
function readWorkloadFile(path: string): Workload {
  return parseWorkload(readJsonFile(path, 'workload file'), path);
}

/**
 * A built-in template's own file (workloads/hackbench.json, ...) stands for the template at
 * its defaults: the derived workload (guest-configs.ts), so that `hackbench` means the
 * same wherever it is read. Any other workload is returned as it is.
 */
export function applyBuiltinTemplate(w: Workload, file: string): Workload {
  const name = basename(file, '.json');
  if (w.kind !== 'guest' || resolve(file) !== join(WORKLOADS_DIR, `${name}.json`)) return w;
  const template = workloadTemplate(name);
  if (!template) return w;
  const d = template.derive(
    w,
    resolveSpecParams(template.params, {}, name, 'workload'),
    modelConstants(),
  );
  validateGuest(d, file);
  return d;
}

/** Reads and validates a workload file; a built-in template's file gives its defaults (applyBuiltinTemplate). */
export function loadWorkloadFile(path: string): Workload {
  return applyBuiltinTemplate(readWorkloadFile(path), path);
}

/** Names of the built-in workloads (files in `workloads/`), sorted. */
export function builtinWorkloadNames(): string[] {
  if (!existsSync(WORKLOADS_DIR)) return [];
  return readdirSync(WORKLOADS_DIR)
    .filter((f) => f.endsWith('.json'))
    .map((f) => basename(f, '.json'))
    .sort();
}

/**
 * Resolves a built-in workload name, a parametrised built-in (`hackbench:vcpus=2,groups=2`:
 * src/stream/guest-configs.ts derives its rates from the configuration; without parameters
 * at their defaults) or a path to a validated workload.
 */
export function resolveWorkload(spec: string, constants?: ModelConstants): LoadedWorkload {
  const { target, params } = parseSpec(spec, 'workload');
  const template = workloadTemplate(target);
  if (template && !target.includes('/') && !target.endsWith('.json')) {
    const file = join(WORKLOADS_DIR, `${target}.json`);
    const base = readWorkloadFile(file);
    if (base.kind !== 'guest')
      throw new Error(`${file}: a template's base must be a guest workload`);
    const values = resolveSpecParams(template.params, params, spec, 'workload');
    const w = template.derive(base, values, constants ?? modelConstants());
    const given = Object.keys(template.params).filter((k) => k in params);
    w.name = given.length ? `${target}:${given.map((k) => `${k}=${values[k]}`).join(',')}` : target;
    validateGuest(w, spec);
    return { workload: w, file, builtin: true };
  }
  if (Object.keys(params).length > 0) {
    throw new UserError(
      `workload "${spec}": ${target} takes no parameters (parametrised: ${WORKLOAD_TEMPLATES.map((t) => t.name).join(', ')})`,
    );
  }
  return resolvePlain(target);
}

function resolvePlain(nameOrPath: string): LoadedWorkload {
  const builtin = join(WORKLOADS_DIR, `${nameOrPath}.json`);
  if (!nameOrPath.includes('/') && !nameOrPath.endsWith('.json') && existsSync(builtin)) {
    return { workload: loadWorkloadFile(builtin), file: builtin, builtin: true };
  }
  if (existsSync(nameOrPath))
    return { workload: loadWorkloadFile(nameOrPath), file: resolve(nameOrPath), builtin: false };
  throw new UserError(
    `unknown workload "${userText(nameOrPath)}" (built-in: ${builtinWorkloadNames().join(', ') || 'none'}; or a path to a JSON file)`,
  );
}

/** The stream of a workload. */
export function workloadStream(w: Workload, opts: { runs: number; seed: number }): ExitStream {
  switch (w.kind) {
    case 'markov':
      return markovStream(w, opts);
    case 'guest':
      return guestStream(w, opts);
  }
}
