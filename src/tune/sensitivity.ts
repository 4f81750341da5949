/**
 * Sensitivity of a policy's skip rate to a guest workload's parameters: which parameters
 * move it most (each varied around its own value, with common random numbers), the skip
 * rate along one or two swept parameters with 95% intervals over seeds, where it crosses
 * the claimed 30-50% band, and the built-in workloads placed on the same axes (their own
 * parameter values and skip rates).
 *
 * Parameter paths are the dotted paths of the workload file (`vms[0].tasks.simdShare`) or,
 * without the `vms[i].` prefix, the same field in every VM (`tasks.simdShare`).
 */

import { cpuProfile } from '../cpu/profiles.js';
import { resolvePolicy } from '../policy/registry.js';
import type { Policy } from '../policy/types.js';
import { simulate } from '../sim/simulate.js';
import { UserError, userText } from '../util/errors.js';
import { type Estimate, estimate, SHARE } from '../util/stats.js';
import { CLAIM, type ClaimPosition, claimPosition } from '../stream/claim.js';
import { vmFigures } from '../stream/guest-model.js';
import type { GuestWorkload } from '../stream/guest-schema.js';
import { deriveSeed } from '../stream/prng.js';
import { type SourcedValue, sourcedLeaves } from '../stream/sourced-param.js';
import {
  builtinWorkloadNames,
  type LoadedWorkload,
  parseWorkload,
  resolveWorkload,
  workloadStream,
} from '../stream/workload.js';

interface SweepSpec {
  readonly path: string;
  readonly from: number;
  readonly to: number;
  readonly steps: number;
  readonly scale: 'log' | 'linear';
}

interface SensitivityOptions {
  readonly workload: LoadedWorkload;
  /** Parameters to sweep (one: a curve; two: a grid). Default: the two that move the skip rate most, each on its own. */
  readonly params?: readonly SweepSpec[];
  readonly policy?: string;
  readonly cpu?: string;
  /** Runs per simulated point and seed. */
  readonly runs?: number;
  readonly seeds?: number;
  readonly seed?: number;
  /** Runs per point of the ranking (one seed, common random numbers). */
  readonly rankRuns?: number;
  /** Mark the built-in guest workloads (default true). */
  readonly markers?: boolean;
}

interface RankedParam {
  readonly path: string;
  readonly value: number;
  readonly low: number;
  readonly high: number;
  readonly skipLow: number;
  readonly skipHigh: number;
  /** |skip(high) - skip(low)|. */
  readonly effect: number;
}

/** The skip rate at one workload configuration, with what drives it and where it lies
 * against the claim band. */
interface SkipAt {
  readonly switchesPerExit: number;
  readonly simdShare: number;
  readonly skip: Estimate;
  readonly position: ClaimPosition;
}

export interface SweepPoint extends SkipAt {
  readonly values: readonly number[];
}

export interface Sweep {
  readonly params: readonly SweepSpec[];
  readonly points: readonly SweepPoint[];
  /** 1-D sweeps: parameter values where the mean skip rate crosses 30% and 50% (linear interpolation between points). */
  readonly crossings: readonly { readonly level: number; readonly value: number }[];
}

interface Marker extends SkipAt {
  readonly workload: string;
  /** The marker workload's value of each swept parameter (null when it has no such field). */
  readonly values: readonly (number | null)[];
}

export interface SensitivityResult {
  readonly workload: string;
  readonly policy: string;
  readonly runs: number;
  readonly seeds: number;
  readonly base: SkipAt;
  readonly ranking: readonly RankedParam[];
  readonly sweeps: readonly Sweep[];
  readonly markers: readonly Marker[];
}

/** Fields that describe the VM's shape rather than behaviour: never ranked. */
const STRUCTURAL = /(^|\.)(vcpus|vcpusOnThisCpu|hostWeight)$/;

/** Parses `path=from..to[:steps][:log|:lin]`. */
export function parseSweepSpec(text: string): SweepSpec {
  const m = /^([\w.[\]]+)=([-+\d.eE]+)\.\.([-+\d.eE]+)(?::(\d+))?(?::(log|lin|linear))?$/.exec(
    text.trim(),
  );
  if (!m)
    throw new UserError(
      `--param ${userText(text)}: expected path=from..to[:steps][:log|:lin] (e.g. scheduler.switchesPerSec=1e3..1e6:13)`,
    );
  const from = Number(m[2]);
  const to = Number(m[3]);
  const steps = Number(m.at(4) ?? 11);
  if (!Number.isFinite(from) || !Number.isFinite(to) || from === to)
    throw new UserError(`--param ${userText(text)}: from and to must be two different numbers`);
  if (steps < 2 || steps > 101)
    throw new UserError(`--param ${userText(text)}: steps must be from 2 to 101`);
  const scale =
    m[5] === 'log'
      ? 'log'
      : m.at(5) === undefined && from > 0 && to > 0 && Math.max(from, to) / Math.min(from, to) >= 20
        ? 'log'
        : 'linear';
  if (scale === 'log' && (from <= 0 || to <= 0))
    throw new UserError(`--param ${userText(text)}: a log sweep needs positive bounds`);
  return { path: m[1], from, to, steps, scale };
}

/** The values of a sweep. */
export function sweepValues(s: SweepSpec): number[] {
  return Array.from({ length: s.steps }, (_, i) => {
    const f = i / (s.steps - 1);
    return s.scale === 'log' ? s.from * (s.to / s.from) ** f : s.from + (s.to - s.from) * f;
  });
}

/** The sourced parameter objects a path names (one, or one per VM for a VM-relative path). */
function paramsAt(w: GuestWorkload, path: string): SourcedValue[] {
  const leaves = sourcedLeaves(w);
  const exact = leaves.filter((l) => l.path === path);
  if (exact.length > 0) return exact.map((l) => l.param);
  return leaves
    .filter((l) => /^vms\[\d+\]\./.test(l.path) && l.path.replace(/^vms\[\d+\]\./, '') === path)
    .map((l) => l.param);
}

/** A copy of `w` with the parameter(s) at `path` set to `value`, validated. */
export function withParam(
  w: GuestWorkload,
  path: string,
  value: number,
  file: string,
): GuestWorkload {
  const copy = structuredClone(w);
  const targets = paramsAt(copy, path);
  if (targets.length === 0) {
    const known = sourcedLeaves(w)
      .map((l) => l.path)
      .slice(0, 6)
      .join(', ');
    throw new UserError(
      `--param ${userText(path)}: no such parameter in ${userText(w.name)} (paths look like ${known}, ...; or without the vms[i]. prefix for every VM)`,
    );
  }
  for (const t of targets) (t as { value: number }).value = value;
  return parseWorkload(copy, `${file} with ${path}=${value}`) as GuestWorkload;
}

function isProbability(path: string): boolean {
  return /(Share|PerExit|fpWhileDescheduled)$/.test(path);
}

function guestOf(loaded: LoadedWorkload): GuestWorkload {
  if (loaded.workload.kind !== 'guest') {
    throw new UserError(
      `${userText(loaded.file)}: sensitivity needs a guest workload (kind "guest"), not kind "${loaded.workload.kind}"`,
    );
  }
  return loaded.workload;
}

/** Figures of a workload's first VM (the modelled CPU's first vCPU). */
function figures(w: GuestWorkload): { switchesPerExit: number; simdShare: number } {
  const f = vmFigures(w, 0);
  return { switchesPerExit: f.switchesPerExit, simdShare: f.simdShare };
}

class Evaluator {
  constructor(
    private readonly policy: Policy,
    private readonly cpu: ReturnType<typeof cpuProfile>,
    private readonly runs: number,
    private readonly seeds: number,
    private readonly seed: number,
  ) {}

  /** Skip rate over independent seeds (the same seeds for every point: common random numbers). */
  skip(w: GuestWorkload, seeds = this.seeds, runs = this.runs): Estimate {
    const xs: number[] = [];
    for (let k = 0; k < seeds; k++) {
      const s = k === 0 ? this.seed : deriveSeed(this.seed, k);
      xs.push(
        simulate(this.policy, workloadStream(w, { runs, seed: s }), { cpu: this.cpu }).skipRate,
      );
    }
    return estimate(xs, SHARE);
  }
}

/** Ranks the workload's behavioural parameters by how much they move the skip rate. */
function rank(w: GuestWorkload, file: string, ev: Evaluator, runs: number): RankedParam[] {
  const out: RankedParam[] = [];
  for (const { path, param } of sourcedLeaves(w)) {
    if (STRUCTURAL.test(path) || param.value === 0) continue;
    const v = param.value;
    const prob = isProbability(path);
    const low = v / 2;
    const high = prob ? v + (1 - v) / 2 : v * 2;
    if (high === low) continue;
    let wl: GuestWorkload;
    let wh: GuestWorkload;
    try {
      wl = withParam(w, path, low, file);
      wh = withParam(w, path, high, file);
    } catch {
      continue; // a value the schema rejects (e.g. above a bound): not a direction to explore
    }
    const skipLow = ev.skip(wl, 1, runs).mean;
    const skipHigh = ev.skip(wh, 1, runs).mean;
    out.push({
      path,
      value: v,
      low,
      high,
      skipLow,
      skipHigh,
      effect: Math.abs(skipHigh - skipLow),
    });
  }
  return out.sort((a, b) => b.effect - a.effect || a.path.localeCompare(b.path));
}

/** A default sweep around a parameter's own value. */
function defaultSweep(p: RankedParam): SweepSpec {
  if (isProbability(p.path)) return { path: p.path, from: 0, to: 1, steps: 11, scale: 'linear' };
  return { path: p.path, from: p.value / 10, to: p.value * 10, steps: 9, scale: 'log' };
}

function crossings(
  spec: SweepSpec,
  points: readonly SweepPoint[],
): { level: number; value: number }[] {
  const out: { level: number; value: number }[] = [];
  for (const level of [CLAIM.lo, CLAIM.hi]) {
    for (let i = 1; i < points.length; i++) {
      const a = points[i - 1];
      const b = points[i];
      const ya = a.skip.mean - level;
      const yb = b.skip.mean - level;
      if (ya === 0 || ya * yb < 0) {
        const f = ya === 0 ? 0 : ya / (ya - yb);
        const xa = a.values[0];
        const xb = b.values[0];
        const value = spec.scale === 'log' ? xa * (xb / xa) ** f : xa + (xb - xa) * f;
        out.push({ level, value });
      }
    }
  }
  return out;
}

/** One sweep: a curve over one parameter or a grid over two. Cost: points x seeds x runs. */
function runSweep(w: GuestWorkload, group: SweepSpec[], ev: Evaluator, file: string): Sweep {
  const axes = group.map(sweepValues);
  const combos: number[][] =
    axes.length === 1
      ? axes[0].map((x) => [x])
      : axes[0].flatMap((x) => axes[1].map((y) => [x, y]));
  const points: SweepPoint[] = combos.map((values) => {
    let wx = w;
    group.forEach((s, i) => (wx = withParam(wx, s.path, values[i], file)));
    const skip = ev.skip(wx);
    return { values, ...figures(wx), skip, position: claimPosition(skip.lo, skip.hi).position };
  });
  return {
    params: group,
    points,
    crossings: group.length === 1 ? crossings(group[0], points) : [],
  };
}

/** The built-in guest workloads placed on the sweeps' axes, each with its own skip rate. */
function builtinMarkers(
  specs: SweepSpec[][],
  ev: Evaluator,
  skipOf: (name: string, w: GuestWorkload) => ReturnType<Evaluator['skip']>,
): Marker[] {
  const markers: Marker[] = [];
  const paths = specs.flat().map((s) => s.path.replace(/^vms\[\d+\]\./, ''));
  for (const name of builtinWorkloadNames()) {
    const loaded = resolveWorkload(name);
    if (loaded.workload.kind !== 'guest') continue;
    const mw = loaded.workload;
    const skip = skipOf(name, mw);
    markers.push({
      workload: name,
      values: paths.map((p) => paramsAt(mw, p)[0]?.value ?? null),
      ...figures(mw),
      skip,
      position: claimPosition(skip.lo, skip.hi).position,
    });
  }
  return markers;
}

/** Runs the sensitivity analysis. Cost: O((ranked params x 2 + sweep points x seeds + markers x seeds) x runs). */
export async function sensitivity(opts: SensitivityOptions): Promise<SensitivityResult> {
  const w = guestOf(opts.workload);
  const file = opts.workload.file;
  const policy = await resolvePolicy(opts.policy ?? 'lazy-fixed');
  const cpu = cpuProfile(opts.cpu ?? 'seattle');
  const runs = opts.runs ?? 200_000;
  const seeds = opts.seeds ?? 3;
  const ev = new Evaluator(policy, cpu, runs, seeds, opts.seed ?? 1);
  const baseSkip = ev.skip(w);
  const ranking =
    opts.params && opts.params.length > 0
      ? []
      : rank(w, file, ev, opts.rankRuns ?? Math.min(runs, 100_000));
  const specs: SweepSpec[][] =
    opts.params && opts.params.length > 0
      ? [opts.params.slice(0, 2)]
      : ranking.slice(0, 2).map((p) => [defaultSweep(p)]);
  if (opts.params && opts.params.length > 2)
    throw new UserError('at most two parameters (a curve or a grid)');
  // Check both ends of every sweep first: a bad path or an out-of-range bound fails before any work.
  for (const group of specs) {
    for (const s of group) {
      withParam(w, s.path, s.from, file);
      withParam(w, s.path, s.to, file);
    }
  }

  const sweeps = specs.map((group) => runSweep(w, group, ev, file));
  const markers =
    opts.markers === false
      ? []
      : builtinMarkers(specs, ev, (name, mw) =>
          name === w.name && opts.workload.builtin ? baseSkip : ev.skip(mw),
        );
  return {
    workload: w.name,
    policy: policy.id,
    runs,
    seeds,
    base: {
      skip: baseSkip,
      position: claimPosition(baseSkip.lo, baseSkip.hi).position,
      ...figures(w),
    },
    ranking,
    sweeps,
    markers,
  };
}
