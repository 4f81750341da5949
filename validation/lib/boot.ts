// One boot of the L1 KVM host under the outer QEMU (TCG, EL2 emulated), with the console
// parsed as it streams and the `-d int,plugin` exception log piped (fd 3) into the counter.
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, rmSync, writeFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { join } from 'node:path';
import { IntLogCounter } from './intlog.js';
import { ValidationError, ensureDir, progress, run } from './util.js';

export type KvmMode = 'vhe' | 'nvhe';

interface BootOptions {
  id: string;
  mode: KvmMode;
  icount: boolean;
  kernelImage: string;
  initrd: string;
  /** the TCG plugin and its args; without it there is no -d int log either */
  plugin?: { path: string; args: Record<string, string | number> };
  timeoutSec: number;
  outDir: string;
  /** names for trace files, by step tag */
  stepNames: Map<number, string>;
  /** L1's CPUs (default 1); more than one only with -icount (round-robin TCG keeps the
   * exception log's lines of one exception together) */
  smp?: number;
}

interface StepOutcome {
  tag: number;
  name: string;
  rc?: number;
  startUptime?: number;
  endUptime?: number;
  traceFile?: string;
  traceLines: number;
  /** lines the step printed (VMM-RESULT / VMM-ERROR, L2 output) */
  output: string[];
}

export interface BootResult {
  id: string;
  mode: KvmMode;
  icount: boolean;
  qemuArgs: string[];
  wallSec: number;
  l1UpSec?: number;
  kvmLine?: string;
  consoleFile: string;
  symbols: string[];
  steps: Map<number, StepOutcome>;
  l2: {
    upUptime?: number;
    doneUptime?: number;
    runs: Map<number, { rc?: number; output: string[] }>;
  };
  intlog?: IntLogCounter;
  errors: string[];
}

/** the tag of the step whose console output an L1 line belongs to */
const STEP_RESULT = /^(VMM-RESULT|VMM-ERROR)/;

function qemuArgs(o: BootOptions): string[] {
  const append = ['console=ttyAMA0', 'rdinit=/init', 'nokaslr', 'quiet'];
  if (o.mode === 'nvhe') append.push('kvm-arm.mode=nvhe');
  const args = [
    '-machine',
    'virt,virtualization=on,gic-version=3',
    '-cpu',
    'max',
    '-smp',
    String(o.smp ?? 1),
    '-m',
    '1024',
    '-nographic',
    '-nic',
    'none',
    '-kernel',
    o.kernelImage,
    '-initrd',
    o.initrd,
    '-append',
    append.join(' '),
  ];
  // -icount: guest time follows instructions executed (shift=0: 1 ns per instruction, a
  // 1 GHz IPC-1 CPU); sleep=off: an idle guest's time jumps to the next timer at once.
  if (o.icount) args.push('-icount', 'shift=0,sleep=off');
  if (o.plugin) {
    const pa = Object.entries(o.plugin.args).map(([k, v]) => `${k}=${v}`);
    args.push('-plugin', [o.plugin.path, ...pa].join(','), '-d', 'int,plugin', '-D', intFifo(o));
  }
  return args;
}

/** the FIFO the exception log streams through (never a file: it reaches GBs) */
function intFifo(o: BootOptions): string {
  return join(o.outDir, `${o.id}.int.fifo`);
}

/** A boot's console, parsed line by line as it streams: the protocol of lib/plan.ts. */
class ConsoleParser {
  done = false;
  lastLine = '';
  private current: StepOutcome | undefined;
  private traceB64: string[] | undefined;
  private traceStep: StepOutcome | undefined;
  private readonly started = Date.now();

  constructor(
    private readonly o: BootOptions,
    private readonly res: BootResult,
    private readonly out: { write(s: string): unknown },
  ) {}

  /** one console line (\r\r\n after two ttys: L2 console -> L1 console) */
  line(raw: string): void {
    const l = raw.replace(/\r+$/, '');
    this.out.write(`${l}\n`);
    if (this.traceB64) {
      this.traceLine(l);
      return;
    }
    if (l.trim()) this.lastLine = l.trim();
    if (l.startsWith('@@FPSW ')) this.l1Line(l);
    else if (l.startsWith('@@L2 ')) this.l2Line(l);
    else if (this.current && STEP_RESULT.test(l)) this.current.output.push(l);
  }

  /** inside TRACE-BEGIN .. TRACE-END: base64 of the gzipped tracefs text */
  private traceLine(l: string): void {
    const st = this.traceStep;
    if (!l.startsWith('@@FPSW TRACE-END')) {
      if (/^[A-Za-z0-9+/=]+$/.test(l)) this.traceB64?.push(l);
      return;
    }
    try {
      const text = gunzipSync(Buffer.from((this.traceB64 ?? []).join(''), 'base64'));
      if (st?.traceFile) writeFileSync(st.traceFile, text);
      if (st) st.traceLines = text.toString('utf8').split('\n').length - 1;
    } catch (e) {
      this.res.errors.push(
        `${this.o.id}: trace of ${st?.name ?? '?'} did not decode: ${(e as Error).message}`,
      );
      if (st) st.traceFile = undefined;
    }
    this.traceB64 = undefined;
    this.traceStep = undefined;
  }

  private l1Line(l: string): void {
    const { o, res } = this;
    let m: RegExpExecArray | null;
    if ((m = /^@@FPSW L1-UP (\S+)/.exec(l))) {
      res.l1UpSec = Number(m[1]);
      const wall = ((Date.now() - this.started) / 1000).toFixed(1);
      progress(`${o.id}: L1 up at ${m[1]} s guest uptime (${wall} s wall)`);
    } else if ((m = /^@@FPSW KVM (.*)$/.exec(l))) {
      res.kvmLine = m[1].replace(/^\[\s*[\d.]+\]\s*/, '');
      progress(`${o.id}: ${res.kvmLine || 'no KVM init line in dmesg'}`);
    } else if ((m = /^@@FPSW SYM (.*)$/.exec(l))) {
      res.symbols.push(m[1]);
    } else if ((m = /^@@FPSW RUN (\d+) (\S+)/.exec(l))) {
      this.current = { tag: Number(m[1]), name: m[2], traceLines: 0, output: [] };
      res.steps.set(this.current.tag, this.current);
      progress(`${o.id}: run ${this.current.name}`);
    } else if ((m = /^@@FPSW TRACE-BEGIN (\d+)/.exec(l))) {
      this.traceBegin(Number(m[1]));
    } else if ((m = /^@@FPSW STEP-END (\d+) rc=(\d+) uptime=(\S+)/.exec(l))) {
      this.stepEnd(Number(m[1]), Number(m[2]), Number(m[3]));
    } else if ((m = /^@@FPSW ERROR (.*)$/.exec(l))) {
      res.errors.push(`${o.id}: ${m[1]}`);
    } else if (l.startsWith('@@FPSW DONE')) {
      this.done = true;
    }
  }

  private traceBegin(tag: number): void {
    const st = this.res.steps.get(tag);
    if (!st) return;
    const name = (this.o.stepNames.get(st.tag) ?? st.name).replace(/[^\w.-]+/g, '_');
    st.traceFile = join(this.o.outDir, `${this.o.id}.${name}.trace`);
    this.traceB64 = [];
    this.traceStep = st;
  }

  private stepEnd(tag: number, rc: number, uptime: number): void {
    const st = this.res.steps.get(tag);
    if (st) {
      st.rc = rc;
      st.endUptime = uptime;
      if (rc !== 0)
        this.res.errors.push(
          `${this.o.id}: step ${st.name} exited ${rc}: ${st.output.slice(-1)[0] ?? ''}`,
        );
    }
    this.current = undefined;
  }

  private l2Line(l: string): void {
    const { o, res } = this;
    let m: RegExpExecArray | null;
    if ((m = /^@@L2 UP (\S+)/.exec(l))) {
      res.l2.upUptime = Number(m[1]);
      progress(`${o.id}: L2 Linux up (${m[1]} s L2 uptime)`);
    } else if ((m = /^@@L2 RUN (\d+) (\S+)/.exec(l))) {
      res.l2.runs.set(Number(m[1]), { output: [] });
      progress(`${o.id}: L2 runs ${m[2]}`);
    } else if ((m = /^@@L2 OUT (\d+) (.*)$/.exec(l))) {
      res.l2.runs.get(Number(m[1]))?.output.push(m[2]);
    } else if ((m = /^@@L2 END (\d+) rc=(\d+)/.exec(l))) {
      const r = res.l2.runs.get(Number(m[1]));
      if (r) r.rc = Number(m[2]);
      if (Number(m[2]) !== 0)
        res.errors.push(
          `${o.id}: L2 workload tag ${m[1]} exited ${m[2]}: ${r?.output.slice(-1)[0] ?? ''}`,
        );
    } else if ((m = /^@@L2 DONE (\S+)/.exec(l))) {
      res.l2.doneUptime = Number(m[1]);
    }
  }
}

/**
 * The exception log's reader: a FIFO that `cat` copies into the counter (a Node pipe is a
 * socket, which QEMU cannot open by path). cat blocks until QEMU opens the FIFO and sees
 * EOF when QEMU exits; `done` resolves once the counter has seen everything.
 */
function startIntLog(
  o: BootOptions,
  counter: IntLogCounter | undefined,
): { cat?: ChildProcess; done: Promise<void> } {
  if (!counter) return { done: Promise.resolve() };
  const fifo = intFifo(o);
  rmSync(fifo, { force: true });
  run('mkfifo', [fifo], { what: 'mkfifo for the exception log' });
  const cat = spawn('cat', [fifo], { stdio: ['ignore', 'pipe', 'ignore'] });
  cat.stdout.on('data', (d: Buffer) => {
    counter.push(d);
  });
  const done = new Promise<void>((r) =>
    cat.on('close', () => {
      counter.end();
      rmSync(fifo, { force: true });
      r();
    }),
  );
  return { cat, done };
}

function newResult(o: BootOptions, args: string[], consoleFile: string): BootResult {
  return {
    id: o.id,
    mode: o.mode,
    icount: o.icount,
    qemuArgs: args,
    wallSec: 0,
    consoleFile,
    symbols: [],
    steps: new Map(),
    l2: { runs: new Map() },
    intlog: o.plugin ? new IntLogCounter() : undefined,
    errors: [],
  };
}

/** Why a finished boot failed, in one line, or undefined when it signalled completion. */
function bootFailure(
  o: BootOptions,
  p: { timedOut: boolean; code: number | null; stderr: string },
  parser: ConsoleParser,
  consoleFile: string,
): string | undefined {
  const last = parser.lastLine.slice(0, 120);
  if (p.timedOut)
    return `${o.id}: the guest never signalled completion within ${o.timeoutSec} s (last console line: ${last || 'none'}; console in ${consoleFile})`;
  if (!parser.done)
    return `${o.id}: L1 stopped before it signalled completion (qemu exit ${p.code}; ${p.stderr.trim().split('\n').slice(-1)[0] ?? ''}; last console line: ${last})`;
  return undefined;
}

/**
 * One boot of L1 under the outer QEMU: the console parsed as it streams (ConsoleParser),
 * the exception log counted through its FIFO (startIntLog), killed after `timeoutSec`.
 * Resolves with what the boot produced; rejects with a one-line ValidationError when it
 * timed out or stopped before "@@FPSW DONE".
 */
export function boot(o: BootOptions): Promise<BootResult> {
  ensureDir(o.outDir);
  const args = qemuArgs(o);
  const consoleFile = join(o.outDir, `${o.id}.console.log`);
  const consoleOut = createWriteStream(consoleFile);
  const res = newResult(o, args, consoleFile);
  const parser = new ConsoleParser(o, res, consoleOut);
  const started = Date.now();
  return new Promise((resolve, reject) => {
    progress(`${o.id}: boot L1 (${o.mode}${o.icount ? ', -icount' : ''})`);
    const log = startIntLog(o, res.intlog);
    const p = spawn('qemu-system-aarch64', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let partial = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => {
      const lines = (partial + d.toString('utf8')).split('\n');
      partial = lines.pop() ?? '';
      for (const l of lines) parser.line(l);
    });
    p.stderr.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-4000);
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      p.kill('SIGKILL');
    }, o.timeoutSec * 1000);
    p.on('error', (e) => {
      clearTimeout(timer);
      log.cat?.kill('SIGKILL');
      reject(new ValidationError(`cannot start qemu-system-aarch64: ${e.message}`));
    });
    p.on('close', (code) => {
      clearTimeout(timer);
      // QEMU gone: cat sees EOF (or, if QEMU never opened the FIFO, is still blocked)
      const catTimer = setTimeout(() => log.cat?.kill('SIGKILL'), 10_000);
      void log.done.then(() => {
        clearTimeout(catTimer);
        if (partial) parser.line(partial);
        consoleOut.end();
        res.wallSec = (Date.now() - started) / 1000;
        const failure = bootFailure(o, { timedOut, code, stderr }, parser, consoleFile);
        if (failure) {
          reject(new ValidationError(failure));
          return;
        }
        progress(`${o.id}: done in ${res.wallSec.toFixed(1)} s wall`);
        resolve(res);
      });
    });
  });
}
