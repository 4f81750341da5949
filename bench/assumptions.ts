/**
 * The assumptions table: every parameter the suite used, with its source. CPU profile
 * entries carry `source`/`confidence`; workload files carry `source` or `rationale`
 * next to each value; policy parameters carry their description.
 */

import type { CpuProfile, Sourced } from '../src/cpu/profile.js';
import type { PolicyDefinition } from '../src/policy/types.js';
import type { Assumption } from '../src/report/results.js';

function isSourced(x: unknown): x is Sourced {
  return typeof x === 'object' && x !== null && 'value' in x && 'source' in x;
}

export function cpuAssumptions(cpu: CpuProfile): Assumption[] {
  const rows: Assumption[] = [];
  for (const [key, value] of Object.entries(cpu)) {
    if (isSourced(value)) {
      rows.push({
        scope: `cpu ${cpu.name}`,
        parameter: key,
        value: String(value.value),
        source: value.source + (value.note ? ` (${value.note})` : ''),
        confidence: value.confidence,
      });
    }
  }
  for (const [kind, value] of Object.entries(cpu.exitBase)) {
    rows.push({
      scope: `cpu ${cpu.name}`,
      parameter: `exitBase.${kind}`,
      value: String(value.value),
      source: value.source + (value.note ? ` (${value.note})` : ''),
      confidence: value.fitted ? `${value.confidence}, fitted` : value.confidence,
    });
  }
  return rows;
}

/**
 * Walks a workload file's JSON: an object with `value` and `source`/`rationale` is one
 * sourced parameter; other leaves are listed with the nearest `source`/`rationale`/
 * `description` found on the way down.
 */
export function workloadAssumptions(name: string, raw: unknown): Assumption[] {
  const rows: Assumption[] = [];
  const visit = (x: unknown, path: string, inherited: string): void => {
    if (Array.isArray(x)) {
      x.forEach((item, i) => visit(item, `${path}[${i}]`, inherited));
      return;
    }
    if (x !== null && typeof x === 'object') {
      const o = x as Record<string, unknown>;
      const here = [o.source, o.rationale].filter((s) => typeof s === 'string').join('; ');
      if ('value' in o && here) {
        rows.push({
          scope: `workload ${name}`,
          parameter: path,
          value: JSON.stringify(o.value),
          source: here,
        });
        return;
      }
      for (const [k, v] of Object.entries(o)) {
        if (['source', 'rationale', 'description', 'name', 'kind', 'note', 'estimate'].includes(k))
          continue;
        visit(v, path ? `${path}.${k}` : k, here || inherited);
      }
      return;
    }
    rows.push({
      scope: `workload ${name}`,
      parameter: path,
      value: JSON.stringify(x),
      source: inherited || '(workload file; no source given)',
    });
  };
  visit(raw, '', '');
  return rows;
}

export function policyAssumptions(
  def: PolicyDefinition,
  params: Readonly<Record<string, number>>,
): Assumption[] {
  return Object.entries(def.params ?? {}).map(([k, spec]) => ({
    scope: `policy ${def.name}`,
    parameter: k,
    value: String(params[k] ?? spec.default),
    source: spec.description,
  }));
}
