/**
 * `fpswitch import --stats` against times worked out from the fixture's own lines: the
 * handling time of every exit (kvm_exit to the same thread's next kvm_entry), with
 * --vcpu, --key, and exits completed in userspace kept apart.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';

const HACKBENCH = resolve(__dirname, '../validation/fixtures/vhe-hackbench.trace');
const MMIO = resolve(__dirname, '../validation/fixtures/vhe-a64-fp-mmio.trace');

/**
 * From the trace text alone: per exit label, every handling time in microseconds (tracefs
 * lines `comm-tid [cpu] flags secs.usecs: event: ...`; a TRAP exit is named by its EC).
 */
function handlingTimes(file: string): Map<string, number[]> {
  const open = new Map<string, { label: string; us: number }>();
  const out = new Map<string, number[]>();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^\s*(\S.*?-\d+)\s+\[\d+\]\s+\S+\s+(\d+)\.(\d{6}): (kvm_exit|kvm_entry): (.*)$/.exec(
      line,
    );
    if (!m) continue;
    const [, thread, secs, usecs, ev, body] = m;
    const us = Number(secs) * 1e6 + Number(usecs);
    if (ev === 'kvm_exit') {
      const trap = /^TRAP: HSR_EC: 0x[0-9a-f]+ \((\w+)\)/.exec(body);
      open.set(thread, { label: trap ? trap[1] : body.split(':')[0], us });
    } else {
      const x = open.get(thread);
      if (!x) continue;
      open.delete(thread);
      out.set(x.label, [...(out.get(x.label) ?? []), us - x.us]);
    }
  }
  return out;
}

async function statsJson(...args: string[]) {
  const r = await runCli(['import', ...args, '--stats', '--json']);
  expect(r.code, r.stderr).toBe(0);
  return (
    JSON.parse(r.stdout) as {
      stats: {
        rows: {
          exit: string;
          samples: number;
          minUs: number;
          maxUs: number;
          avgUs: number;
          user: boolean;
        }[];
      };
    }
  ).stats.rows;
}

describe('import --stats, as perf kvm stat report', () => {
  it('handling times match the ones computed from the trace lines', async () => {
    const want = handlingTimes(HACKBENCH).get('IRQ') ?? [];
    // Read straight off the fixture: the first two exits (42.951248 -> 42.951306 and
    // 42.953468 -> 42.953556) were handled in 58 and 88 us.
    expect(want.slice(0, 2).map((x) => Math.round(x))).toEqual([58, 88]);
    const rows = await statsJson(HACKBENCH, '--event-time', 'handled');
    expect(rows.map((r) => r.exit)).toEqual(['IRQ']);
    const [irq] = rows;
    expect(irq.samples).toBe(want.length);
    expect(irq.minUs).toBeCloseTo(Math.min(...want), 6);
    expect(irq.maxUs).toBeCloseTo(Math.max(...want), 6);
    expect(irq.avgUs).toBeCloseTo(want.reduce((a, b) => a + b, 0) / want.length, 6);
  });

  it('prints the handling times in perf layout, with the total line', async () => {
    const r = await runCli(['import', HACKBENCH, '--stats', '--event-time', 'handled']);
    const want = handlingTimes(HACKBENCH).get('IRQ') ?? [];
    const total = want.reduce((a, b) => a + b, 0);
    expect(r.stdout).toMatch(
      /VM-EXIT\s+Samples\s+Samples%\s+Time%\s+Min Time\s+Max Time\s+Avg time/,
    );
    expect(r.stdout).toContain(
      `${Math.max(...want).toLocaleString('en-US', { minimumFractionDigits: 2 })}us`,
    );
    expect(r.stdout).toContain(
      `Total Samples:${want.length}, Total events handled time:${total.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}us.`,
    );
  });

  it('keeps exits completed in userspace apart from those handled in the kernel', async () => {
    const rows = await statsJson(MMIO);
    const user = rows.filter((r) => r.user);
    const kernel = rows.filter((r) => !r.user);
    // 201 kvm_userspace_exit events follow DABT_LOW exits (MMIO to the VMM).
    expect(user.map((r) => [r.exit, r.samples])).toEqual([['DABT_LOW', 201]]);
    expect(kernel.every((r) => r.exit !== 'DABT_LOW' || r.samples < 201)).toBe(true);
    const r = await runCli(['import', MMIO, '--stats']);
    expect(r.stdout).toMatch(
      /Exits completed in host userspace[^\n]*\n[^\n]*\n[^\n]*\nDABT_LOW\s+201/,
    );
  });

  it('--key sorts by the chosen column; --vcpu picks one thread; bad values exit 2', async () => {
    const bySample = await statsJson(MMIO);
    const byMax = await statsJson(MMIO, '--key', 'max');
    const kernelMax = byMax.filter((r) => !r.user).map((r) => r.maxUs);
    expect(kernelMax).toEqual([...kernelMax].sort((a, b) => b - a));
    const kernelSamples = bySample.filter((r) => !r.user).map((r) => r.samples);
    expect(kernelSamples).toEqual([...kernelSamples].sort((a, b) => b - a));
    const one = await runCli(['import', HACKBENCH, '--stats', '--vcpu', '0']);
    expect(one.stdout).toContain('Analyze events for all VMs, VCPU 0:');
    const bad = await runCli(['import', HACKBENCH, '--stats', '--vcpu', '3']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--vcpu 3: the trace has vCPU threads 0/);
    expect((await runCli(['import', HACKBENCH, '--stats', '--key', 'mean'])).code).toBe(2);
  });

  it('states how many runs a simulated policy rests on, its interval, and warns below 1,000', async () => {
    const args = ['import', HACKBENCH, '--fp', 'markov:p=0.3,r=0.5', '-p', 'lazy-fixed'];
    const a = await runCli(args);
    expect(a.stdout).toMatch(
      /rests on 152 runs; 95% block-bootstrap interval \(200 resamples of 5-run blocks\): skip rate [\d.]+% \.\. [\d.]+%/,
    );
    expect(a.stdout).toMatch(/warning: only 152 runs \(under 1,000\)/);
    // Seeded: the same seed gives the same interval.
    expect((await runCli(args)).stdout).toBe(a.stdout);
  });
});
