/**
 * The exit mix of a trace as `perf kvm stat report` prints it on arm64 (tools/perf
 * arch/arm64/util/kvm-stat.c keys exits by the EC name for TRAP exits and by the
 * exception type otherwise): per exit, Samples, Samples%, Time%, Min Time, Max Time and
 * Avg time with the relative standard error of the mean (tools/perf/util/stat.c
 * stddev_stats: sqrt(M2 / (n - 1) / n)), sorted by samples.
 *
 * Which time is measured is the caller's choice: `run` is the guest run time from
 * kvm_entry to the next kvm_exit (what a world-switch model needs); `handled` is perf's
 * own meaning, from kvm_exit to the next kvm_entry (the time the host spent on the exit).
 */

export type StatTime = 'run' | 'handled';

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
}

export class KvmStat {
  private readonly acc = new Map<string, Acc>();
  constructor(readonly time: StatTime) {}

  /** Adds one exit with its time in ns (Welford's online mean and variance). */
  add(exit: string, ns: number): void {
    let a = this.acc.get(exit);
    if (!a)
      this.acc.set(exit, (a = { n: 0, sum: 0, min: Infinity, max: -Infinity, mean: 0, m2: 0 }));
    a.n++;
    a.sum += ns;
    if (ns < a.min) a.min = ns;
    if (ns > a.max) a.max = ns;
    const d = ns - a.mean;
    a.mean += d / a.n;
    a.m2 += d * (ns - a.mean);
  }

  get samples(): number {
    let n = 0;
    for (const a of this.acc.values()) n += a.n;
    return n;
  }

  /** Rows sorted by samples (then name), as perf's default `--key sample`. */
  rows(): KvmStatRow[] {
    const totalN = this.samples;
    let totalT = 0;
    for (const a of this.acc.values()) totalT += a.sum;
    return [...this.acc.entries()]
      .map(([exit, a]) => ({
        exit,
        samples: a.n,
        samplesPct: totalN ? (100 * a.n) / totalN : 0,
        timePct: totalT ? (100 * a.sum) / totalT : 0,
        minUs: a.min / 1000,
        maxUs: a.max / 1000,
        avgUs: a.mean / 1000,
        stderrPct: a.n > 1 && a.mean > 0 ? (100 * Math.sqrt(a.m2 / (a.n - 1) / a.n)) / a.mean : 0,
      }))
      .sort((x, y) => y.samples - x.samples || x.exit.localeCompare(y.exit));
  }

  /** Total time in microseconds. */
  get totalUs(): number {
    let t = 0;
    for (const a of this.acc.values()) t += a.sum;
    return t / 1000;
  }

  /** The report in perf kvm stat's layout. */
  format(): string {
    const what =
      this.time === 'run'
        ? 'guest run time, kvm_entry to kvm_exit'
        : 'exit handling time, kvm_exit to the next kvm_entry';
    const lines = [
      `Analyze events for all VMs, all VCPUs (Time: ${what}):`,
      '',
      `${'VM-EXIT'.padStart(20)} ${'Samples'.padStart(10)} ${'Samples%'.padStart(9)} ${'Time%'.padStart(9)} ${'Min Time'.padStart(11)} ${'Max Time'.padStart(11)} ${'Avg time'.padStart(16)}`,
      '',
    ];
    for (const r of this.rows()) {
      lines.push(
        `${r.exit.padStart(20)} ${String(r.samples).padStart(10)} ${`${r.samplesPct.toFixed(2)}%`.padStart(9)} ${`${r.timePct.toFixed(2)}%`.padStart(9)} ${`${r.minUs.toFixed(2)}us`.padStart(11)} ${`${r.maxUs.toFixed(2)}us`.padStart(11)} ${`${r.avgUs.toFixed(2)}us`.padStart(12)} ( +- ${r.stderrPct.toFixed(2).padStart(6)}% )`,
      );
    }
    lines.push(
      '',
      `Total Samples:${this.samples}, Total events handled time:${this.totalUs.toFixed(2)}us.`,
    );
    return lines.join('\n');
  }
}
