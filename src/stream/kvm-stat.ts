/**
 * The exit mix of a trace as `perf kvm stat report` prints it. perf pairs a begin and an
 * end event per vCPU and keys the pair by the exit: on arm64 (tools/perf/arch/arm64/util/
 * kvm-stat.c, since v6.4) the begin event is kvm_entry and the end event kvm_exit, so its
 * event time is the guest's run time, keyed by the exit that ended the run (the EC name
 * for TRAP exits, the exception type otherwise); on x86 (tools/perf/builtin-kvm.c
 * exit_event_begin/exit_event_end) the pair is kvm_exit .. kvm_entry, the host's handling
 * time. `run` is arm64 perf's meaning; `handled` is x86's, kvm_exit to the next kvm_entry
 * of the same vCPU thread (an exit the trace never re-enters from has no handling time).
 *
 * Columns and order as perf's: VM-EXIT, Samples, Samples%, Time%, Min Time, Max Time,
 * Avg time with the relative standard error of the mean (tools/perf/util/stat.c
 * stddev_stats: sqrt(M2 / (n - 1) / n)); perf's sort keys sample (the default) and time,
 * plus max, min and avg. Exits completed in host userspace (a kvm_userspace_exit followed
 * them) are kept apart from those handled in the kernel; perf folds them together.
 */

import { num, para, table } from '../util/format.js';

export type StatTime = 'run' | 'handled';
export const STAT_KEYS = ['sample', 'time', 'max', 'min', 'avg'] as const;
export type StatKey = (typeof STAT_KEYS)[number];

interface Acc {
  n: number;
  sum: number;
  min: number;
  max: number;
  mean: number;
  m2: number;
}

export interface KvmStatRow {
  readonly exit: string;
  readonly samples: number;
  readonly samplesPct: number;
  readonly timePct: number;
  /** Microseconds. */
  readonly minUs: number;
  readonly maxUs: number;
  readonly avgUs: number;
  /** Relative standard error of the mean, in percent. */
  readonly stderrPct: number;
  /** Completed in host userspace (a kvm_userspace_exit followed the exit). */
  readonly user: boolean;
}

/** Which events a table covers: one vCPU (thread index) or all, sorted by `key`. */
export interface StatView {
  readonly vcpu?: number;
  readonly key?: StatKey;
}

const fresh = (): Acc => ({ n: 0, sum: 0, min: Infinity, max: -Infinity, mean: 0, m2: 0 });

/** Welford's online update (Welford, Technometrics 4, 1962). */
function addTo(a: Acc, ns: number): void {
  a.n++;
  a.sum += ns;
  if (ns < a.min) a.min = ns;
  if (ns > a.max) a.max = ns;
  const d = ns - a.mean;
  a.mean += d / a.n;
  a.m2 += d * (ns - a.mean);
}

/** Chan et al.'s pairwise merge of two accumulators (for tables over several vCPUs). */
function merge(a: Acc, b: Acc): Acc {
  if (a.n === 0) return { ...b };
  if (b.n === 0) return { ...a };
  const n = a.n + b.n;
  const d = b.mean - a.mean;
  return {
    n,
    sum: a.sum + b.sum,
    min: Math.min(a.min, b.min),
    max: Math.max(a.max, b.max),
    mean: a.mean + (d * b.n) / n,
    m2: a.m2 + b.m2 + (d * d * a.n * b.n) / n,
  };
}

const SORT: Record<StatKey, (r: KvmStatRow) => number> = {
  sample: (r) => r.samples,
  time: (r) => r.timePct,
  max: (r) => r.maxUs,
  min: (r) => r.minUs,
  avg: (r) => r.avgUs,
};

export class KvmStat {
  /** Keyed by `vcpu \0 user \0 exit`. */
  private readonly acc = new Map<string, { vcpu: number; user: boolean; exit: string; a: Acc }>();
  /** The same accumulators by vcpu * 2 + user, then exit: no key string made per exit. */
  private readonly byVcpu = new Map<number, Map<string, Acc>>();
  constructor(readonly time: StatTime) {}

  /** Adds one exit with its time in ns, on vCPU thread `vcpu`, completed in userspace or not. */
  add(exit: string, ns: number, vcpu = 0, user = false): void {
    const v = vcpu * 2 + (user ? 1 : 0);
    let exits = this.byVcpu.get(v);
    if (!exits) this.byVcpu.set(v, (exits = new Map<string, Acc>()));
    let a = exits.get(exit);
    if (!a) {
      a = fresh();
      exits.set(exit, a);
      this.acc.set(`${vcpu}\0${user ? 1 : 0}\0${exit}`, { vcpu, user, exit, a });
    }
    addTo(a, ns);
  }

  /** vCPU thread indices seen, in order. */
  get vcpus(): number[] {
    return [...new Set([...this.acc.values()].map((e) => e.vcpu))].sort((a, b) => a - b);
  }

  private merged(vcpu: number | undefined): Map<string, { user: boolean; exit: string; a: Acc }> {
    const out = new Map<string, { user: boolean; exit: string; a: Acc }>();
    for (const e of this.acc.values()) {
      if (vcpu !== undefined && e.vcpu !== vcpu) continue;
      const k = `${e.user ? 1 : 0}\0${e.exit}`;
      const cur = out.get(k);
      out.set(k, { user: e.user, exit: e.exit, a: cur ? merge(cur.a, e.a) : { ...e.a } });
    }
    return out;
  }

  /** Samples in the view (all vCPUs by default). */
  samplesOf(vcpu?: number): number {
    let n = 0;
    for (const e of this.merged(vcpu).values()) n += e.a.n;
    return n;
  }

  get samples(): number {
    return this.samplesOf();
  }

  /** Total event time in microseconds in the view. */
  totalUsOf(vcpu?: number): number {
    let t = 0;
    for (const e of this.merged(vcpu).values()) t += e.a.sum;
    return t / 1000;
  }

  get totalUs(): number {
    return this.totalUsOf();
  }

  /**
   * Rows of the view, sorted by the key (descending, as perf; then by name). Samples% and
   * Time% are shares of the view's total, kernel and userspace rows together.
   */
  rows(view: StatView = {}): KvmStatRow[] {
    const m = [...this.merged(view.vcpu).values()];
    const totalN = m.reduce((s, e) => s + e.a.n, 0);
    const totalT = m.reduce((s, e) => s + e.a.sum, 0);
    const by = SORT[view.key ?? 'sample'];
    return m
      .map(({ exit, user, a }) => ({
        exit,
        user,
        samples: a.n,
        samplesPct: totalN ? (100 * a.n) / totalN : 0,
        timePct: totalT ? (100 * a.sum) / totalT : 0,
        minUs: a.min / 1000,
        maxUs: a.max / 1000,
        avgUs: a.mean / 1000,
        stderrPct: a.n > 1 && a.mean > 0 ? (100 * Math.sqrt(a.m2 / (a.n - 1) / a.n)) / a.mean : 0,
      }))
      .sort((x, y) => by(y) - by(x) || x.exit.localeCompare(y.exit));
  }

  /** What the event time is, in words. */
  get meaning(): string {
    return this.time === 'run'
      ? 'guest run time, kvm_entry to kvm_exit (perf kvm stat on arm64)'
      : 'exit handling time, kvm_exit to the next kvm_entry (perf kvm stat on x86)';
  }

  /**
   * The report in perf kvm stat's layout: the exits handled in the kernel, those completed
   * in userspace apart, perf's total line, and one line per vCPU thread. `names` labels
   * the vCPU threads (e.g. `CPU 0/KVM-1234`).
   */
  format(view: StatView = {}, names: readonly string[] = []): string {
    const scope = view.vcpu === undefined ? 'all VCPUs' : `VCPU ${view.vcpu}`;
    const rows = this.rows(view);
    const cells = (r: KvmStatRow) => [
      r.exit,
      num(r.samples),
      `${r.samplesPct.toFixed(2)}%`,
      `${r.timePct.toFixed(2)}%`,
      `${num(r.minUs, 2)}us`,
      `${num(r.maxUs, 2)}us`,
      `${num(r.avgUs, 2)}us`,
      `( +- ${r.stderrPct.toFixed(2)}% )`,
    ];
    const header = [
      'VM-EXIT',
      'Samples',
      'Samples%',
      'Time%',
      'Min Time',
      'Max Time',
      'Avg time',
      '',
    ];
    const align = ['r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'] as const;
    const kernel = rows.filter((r) => !r.user);
    const user = rows.filter((r) => r.user);
    const out = [
      `Analyze events for all VMs, ${scope}:`,
      para(`Event time: ${this.meaning}; sorted by ${view.key ?? 'sample'}.`),
      '',
      'Exits handled in the kernel:',
      table(header, kernel.map(cells), { align }),
    ];
    if (user.length > 0)
      out.push(
        '',
        'Exits completed in host userspace (a kvm_userspace_exit followed):',
        table(header, user.map(cells), { align }),
      );
    out.push(
      '',
      `Total Samples:${num(this.samplesOf(view.vcpu))}, Total events handled time:${num(this.totalUsOf(view.vcpu), 2)}us.`,
    );
    if (view.vcpu === undefined && this.vcpus.length > 0) out.push('', this.formatVcpus(names));
    return out.join('\n');
  }

  /** One line per vCPU thread: its samples and time, and their shares of the whole trace. */
  formatVcpus(names: readonly string[] = []): string {
    const totalN = this.samples;
    const totalT = this.totalUs;
    const rows = this.vcpus.map((v) => {
      const n = this.samplesOf(v);
      const t = this.totalUsOf(v);
      return [
        String(v),
        names[v] ?? '-',
        num(n),
        `${totalN ? ((100 * n) / totalN).toFixed(2) : '0.00'}%`,
        `${totalT ? ((100 * t) / totalT).toFixed(2) : '0.00'}%`,
        `${num(n ? t / n : 0, 2)}us`,
      ];
    });
    return `Per vCPU thread (one VM: a trace's lines name threads, not VMs):\n${table(['VCPU', 'thread', 'Samples', 'Samples%', 'Time%', 'Avg time'], rows, { align: ['r', 'l', 'r', 'r', 'r', 'r'] })}`;
  }
}
