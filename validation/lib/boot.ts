// One boot of the L1 KVM host under the outer QEMU (TCG, EL2 emulated), with the console
// parsed as it streams and the `-d int,plugin` exception log piped (fd 3) into the counter.
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, rmSync, writeFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { join } from 'node:path';
import { IntLogCounter } from './intlog.js';
import { ValidationError, ensureDir, progress, run } from './util.js';

export type KvmMode = 'vhe' | 'nvhe';

export interface BootOptions {
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
}

export interface StepOutcome {
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

export function qemuArgs(o: BootOptions): string[] {
  const append = ['console=ttyAMA0', 'rdinit=/init', 'nokaslr', 'quiet'];
  if (o.mode === 'nvhe') append.push('kvm-arm.mode=nvhe');
  const args = [
    '-machine',
    'virt,virtualization=on,gic-version=3',
    '-cpu',
    'max',
    '-smp',
    '1',
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

export function boot(o: BootOptions): Promise<BootResult> {
  ensureDir(o.outDir);
  const args = qemuArgs(o);
  const consoleFile = join(o.outDir, `${o.id}.console.log`);
  const consoleOut = createWriteStream(consoleFile);
  const res: BootResult = {
    id: o.id,
    mode: o.mode,
    icount: o.icount,
    qemuArgs: args,
    wallSec: 0,
    consoleFile,
    symbols: [],
    steps: new Map(),
    l2: { runs: new Map() },
    errors: [],
  };
  const counter = o.plugin ? new IntLogCounter() : undefined;
  res.intlog = counter;
  const started = Date.now();
  let done = false;
  let lastLine = '';
  let current: StepOutcome | undefined;
  let traceB64: string[] | undefined;
  let traceStep: StepOutcome | undefined;

  const onLine = (raw: string): void => {
    const l = raw.replace(/\r+$/, ''); // \r\r\n after two ttys (L2 console -> L1 console)
    consoleOut.write(`${l}\n`);
    if (traceB64 && traceStep) {
      if (l.startsWith('@@FPSW TRACE-END')) {
        const st = traceStep;
        try {
          const text = gunzipSync(Buffer.from(traceB64.join(''), 'base64'));
          writeFileSync(st.traceFile as string, text);
          st.traceLines = text.toString('utf8').split('\n').length - 1;
        } catch (e) {
          res.errors.push(`${o.id}: trace of ${st.name} did not decode: ${(e as Error).message}`);
          st.traceFile = undefined;
        }
        traceB64 = undefined;
        traceStep = undefined;
      } else if (/^[A-Za-z0-9+/=]+$/.test(l)) {
        traceB64.push(l);
      }
      return;
    }
    if (l.trim()) lastLine = l.trim();
    let m: RegExpExecArray | null;
    if ((m = /^@@FPSW L1-UP (\S+)/.exec(l))) {
      res.l1UpSec = Number(m[1]);
      progress(
        `${o.id}: L1 up at ${m[1]} s guest uptime (${((Date.now() - started) / 1000).toFixed(1)} s wall)`,
      );
    } else if ((m = /^@@FPSW KVM (.*)$/.exec(l))) {
      res.kvmLine = m[1].replace(/^\[\s*[\d.]+\]\s*/, '');
      progress(`${o.id}: ${res.kvmLine || 'no KVM init line in dmesg'}`);
    } else if ((m = /^@@FPSW SYM (.*)$/.exec(l))) {
      res.symbols.push(m[1]);
    } else if ((m = /^@@FPSW RUN (\d+) (\S+)/.exec(l))) {
      current = { tag: Number(m[1]), name: m[2], traceLines: 0, output: [] };
      res.steps.set(current.tag, current);
      progress(`${o.id}: run ${current.name}`);
    } else if ((m = /^@@FPSW TRACE-BEGIN (\d+)/.exec(l))) {
      const st = res.steps.get(Number(m[1]));
      if (st) {
        st.traceFile = join(
          o.outDir,
          `${o.id}.${(o.stepNames.get(st.tag) ?? st.name).replace(/[^\w.-]+/g, '_')}.trace`,
        );
        traceB64 = [];
        traceStep = st;
      }
    } else if ((m = /^@@FPSW STEP-END (\d+) rc=(\d+) uptime=(\S+)/.exec(l))) {
      const st = res.steps.get(Number(m[1]));
      if (st) {
        st.rc = Number(m[2]);
        st.endUptime = Number(m[3]);
        if (st.rc !== 0)
          res.errors.push(
            `${o.id}: step ${st.name} exited ${st.rc}: ${st.output.slice(-1)[0] ?? ''}`,
          );
      }
      current = undefined;
    } else if ((m = /^@@FPSW ERROR (.*)$/.exec(l))) {
      res.errors.push(`${o.id}: ${m[1]}`);
    } else if (l.startsWith('@@FPSW DONE')) {
      done = true;
    } else if ((m = /^@@L2 UP (\S+)/.exec(l))) {
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
    } else if (current && STEP_RESULT.test(l)) {
      current.output.push(l);
    }
  };

  return new Promise((resolve, reject) => {
    progress(`${o.id}: boot L1 (${o.mode}${o.icount ? ', -icount' : ''})`);
    // The log goes to a FIFO read by `cat` (a Node pipe is a socket, which QEMU cannot
    // open by path): cat blocks until QEMU opens the FIFO and sees EOF when QEMU exits.
    let cat: ChildProcess | undefined;
    let catDone: Promise<void> = Promise.resolve();
    if (counter) {
      const fifo = intFifo(o);
      rmSync(fifo, { force: true });
      run('mkfifo', [fifo], { what: 'mkfifo for the exception log' });
      cat = spawn('cat', [fifo], { stdio: ['ignore', 'pipe', 'ignore'] });
      cat.stdout?.on('data', (d: Buffer) => counter.push(d));
      catDone = new Promise((r) =>
        cat?.on('close', () => {
          counter.end();
          rmSync(fifo, { force: true });
          r();
        }),
      );
    }
    const p = spawn('qemu-system-aarch64', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let partial = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => {
      const s = partial + d.toString('utf8');
      const lines = s.split('\n');
      partial = lines.pop() ?? '';
      for (const l of lines) onLine(l);
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
      cat?.kill('SIGKILL');
      reject(new ValidationError(`cannot start qemu-system-aarch64: ${e.message}`));
    });
    // eslint-disable-next-line @typescript-eslint/no-misused-promises -- the only await is catDone, which never rejects; every path then settles the outer promise
    p.on('close', async (code) => {
      clearTimeout(timer);
      // QEMU gone: cat sees EOF (or, if QEMU never opened the FIFO, is still blocked)
      const catTimer = setTimeout(() => cat?.kill('SIGKILL'), 10_000);
      await catDone;
      clearTimeout(catTimer);
      if (partial) onLine(partial);
      consoleOut.end();
      res.wallSec = (Date.now() - started) / 1000;
      if (timedOut) {
        reject(
          new ValidationError(
            `${o.id}: the guest never signalled completion within ${o.timeoutSec} s (last console line: ${lastLine.slice(0, 120) || 'none'}; console in ${consoleFile})`,
          ),
        );
      } else if (!done) {
        reject(
          new ValidationError(
            `${o.id}: L1 stopped before it signalled completion (qemu exit ${code}; ${stderr.trim().split('\n').slice(-1)[0] ?? ''}; last console line: ${lastLine.slice(0, 120)})`,
          ),
        );
      } else {
        progress(`${o.id}: done in ${res.wallSec.toFixed(1)} s wall`);
        resolve(res);
      }
    });
  });
}
