/**
 * Text output of the checker: verdicts, counterexamples and scenario replays, one step a
 * line with the registers a hypervisor engineer looks at.
 */

import { num, table } from '../util/format.js';
import type { CheckConfig } from './config.js';
import { describeVcpus } from './config.js';
import type { Verdict } from './explore.js';
import type { Replay } from './scenario.js';
import type { Step, StepState } from './trace.js';

/** `1`, or `1 (0 written, not yet synchronised)` while a CPTR_EL2 write is pending. */
function tfpCell(st: StepState): string {
  const eff = st.tfp ? 1 : 0;
  return st.tfpWritten === st.tfp ? `${eff}` : `${eff} (${st.tfpWritten ? 1 : 0} pending)`;
}

function whereCell(st: StepState): string {
  if (st.loaded === null) return st.at === 'hook' && st.hook ? `- (EL2 ${st.hook})` : '-';
  const v = `vcpu${st.loaded}`;
  if (st.at === 'hook') return `${v} (in ${st.hook})`;
  return `${v} (${st.at === 'guest' ? 'in guest' : 'host'})`;
}

function guestCell(st: StepState): string {
  if (!st.guest) return '-';
  const cpacr = `CPACR ${st.guest.cpacr ? 'on' : 'off'}`;
  return st.guest.fpexcEn === null ? cpacr : `${cpacr}, EN=${st.guest.fpexcEn ? 1 : 0}`;
}

/** Compact policy state: `[{count:0,eagerLeft:2},...]`. */
function policyCell(p: unknown): string {
  return ((JSON.stringify(p) as string | undefined) ?? '-').replace(/"(\w+)":/g, '$1:');
}

function noteCell(step: Step): string {
  const notes: string[] = [];
  if (step.hooks.includes('onFpTrap')) notes.push('FP trap to EL2 (onFpTrap)');
  notes.push(...step.choices.map((c) => `open: ${c}`));
  if (step.violation) notes.push(`<- ${step.violation.invariant}`);
  return notes.join('; ');
}

/**
 * The steps as a table: the vCPU loaded and where the CPU is, CPTR_EL2.TFP in effect
 * (and a pending write), FPEXC32_EL2.EN, whose state the FP registers hold, the loaded
 * guest's own view (CPACR and, AArch32, FPEXC.EN), TIF_FOREIGN_FPSTATE, and the policy's
 * state when it has one. A violating step shows the state at the moment it broke.
 */
function formatSteps(boot: Step, steps: readonly Step[], indent = '  '): string {
  const all = [boot, ...steps];
  const withPolicy = all.some((s) => s.state.policy !== null && s.state.policy !== undefined);
  const header = [
    '#',
    'event',
    'vCPU',
    'CPTR_EL2.TFP',
    'FPEXC32_EL2.EN',
    'FP regs hold',
    "guest's own view",
    'foreign',
  ];
  if (withPolicy) header.push('policy state');
  header.push('note');
  const rows = all.map((s) => {
    const st = s.state;
    const row = [
      String(s.n),
      s.event,
      whereCell(st),
      tfpCell(st),
      st.fpexc32En ? '1' : '0',
      st.fpRegs,
      guestCell(st),
      st.tifForeignFpstate ? 'yes' : 'no',
    ];
    if (withPolicy) row.push(policyCell(st.policy));
    row.push(noteCell(s));
    return row;
  });
  return table(header, rows, { indent });
}

/** The configuration and the state after boot, printed once before the verdicts. */
export function formatConfigHeader(config: CheckConfig, initialState: string): string {
  return [
    `configuration ${config.name}${config.file ? ` (${config.file})` : ''}: ${config.description}`,
    `  vCPUs: ${describeVcpus(config.vcpus)}`,
    'initial state:',
    ...initialState.split('\n').map((l) => `  ${l}`),
  ].join('\n');
}

function stats(v: Verdict, withStates = true): string {
  const parts = withStates ? [`${num(v.states)} states`] : [];
  parts.push(`${num(v.transitions)} transitions`);
  if (v.subsumed > 0) parts.push(`${num(v.subsumed)} subsumed`);
  parts.push(`${v.seconds.toFixed(3)} s`);
  return parts.join(', ');
}

/** What the verdict covers: its parameter values, and the vCPU renamings it reduced by. */
function coversLine(v: Verdict): string {
  const sym =
    v.symmetry > 1
      ? `; states identified up to ${v.symmetry} renamings of interchangeable vCPUs`
      : '';
  return `  covers: ${v.covers}${sym}`;
}

/** One policy's verdict: a line when clean, the counterexample when not, then what it covers. */
export function formatVerdict(v: Verdict): string {
  return `${verdictText(v)}\n${coversLine(v)}`;
}

function verdictText(v: Verdict): string {
  if (v.verdict === 'ok') {
    if (v.exhaustive) {
      return `${v.policy}: ok, no violation in any interleaving (fixpoint: ${num(v.states)} states, every one reached within ${v.depth} events; ${stats(v, false)})`;
    }
    const why = v.bound === 'max-states' ? `, stopped at the limit of ${num(v.states)} states` : '';
    return `${v.policy}: ok, no violation up to depth ${v.depth}${why} (not a fixpoint; ${stats(v)})`;
  }
  const boot: Step = { n: 0, event: '(boot)', choices: [], hooks: [], state: v.initial };
  return [
    `${v.policy}: VIOLATION of ${v.invariant}: shortest counterexample, ${v.steps.length} events`,
    `  diagnosis: ${v.diagnosis}`,
    formatSteps(boot, v.steps, '    '),
    `  (${stats(v)})`,
  ].join('\n');
}

/** A scenario replay on one policy. */
export function formatReplay(r: Replay): string {
  const boot: Step = { n: 0, event: '(boot)', choices: [], hooks: [], state: r.initial };
  const end =
    r.verdict === 'ok'
      ? `  ${r.policy}: ok`
      : `  ${r.policy}: VIOLATION of ${r.invariant} at step ${r.steps.length}\n  diagnosis: ${r.diagnosis}`;
  return [`scenario ${r.scenario} on ${r.policy}:`, formatSteps(boot, r.steps, '    '), end].join(
    '\n',
  );
}
