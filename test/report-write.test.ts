/** Report writing: the folder appears whole or not at all, and `latest` moves only to a whole report. */
import {
  existsSync,
  mkdirSync,
  readFileSync,
  readlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeReport } from '../src/report/write.js';
import { isUserError } from '../src/util/errors.js';
import { tempDir } from './helpers/temp.js';

const D1 = new Date('2026-01-02T03:04:05.678Z');
const D2 = new Date('2026-01-02T03:04:06.000Z');

describe('writeReport', () => {
  it('writes the files into a timestamped folder and points latest at it; a second run moves latest', () => {
    const root = tempDir('fpswitch-w1-');
    const a = writeReport(root, { 'x.txt': 'one' }, D1);
    expect(a).toBe(join(root, '2026-01-02T03-04-05Z'));
    expect(readlinkSync(join(root, 'latest'))).toBe('2026-01-02T03-04-05Z');
    writeReport(root, { 'x.txt': 'two' }, D2);
    expect(readFileSync(join(root, 'latest', 'x.txt'), 'utf8')).toBe('two');
    expect(readFileSync(join(a, 'x.txt'), 'utf8')).toBe('one');
  });

  it('a second report in the same second gets its own folder', () => {
    const root = tempDir('fpswitch-w2-');
    writeReport(root, { 'x.txt': 'one' }, D1);
    const b = writeReport(root, { 'x.txt': 'two' }, D1);
    expect(b).toBe(join(root, '2026-01-02T03-04-05Z-1'));
  });

  it('latest that is a real folder: a user error naming it, the report kept whole, no temporary left', () => {
    const root = tempDir('fpswitch-w3-');
    mkdirSync(join(root, 'latest'));
    writeFileSync(join(root, 'latest', 'mine.txt'), 'keep');
    let err: unknown;
    try {
      writeReport(root, { 'x.txt': 'one' }, D1);
    } catch (e) {
      err = e;
    }
    expect(isUserError(err)).toBe(true);
    expect((err as Error).message).toMatch(
      /latest: could not point it at 2026-01-02T03-04-05Z .*the report is complete in/,
    );
    expect(readFileSync(join(root, '2026-01-02T03-04-05Z', 'x.txt'), 'utf8')).toBe('one');
    expect(readFileSync(join(root, 'latest', 'mine.txt'), 'utf8')).toBe('keep');
    expect(existsSync(join(root, `.latest-${process.pid}`))).toBe(false);
  });

  it("removes a killed run's temporary folders whatever their age, not a live run's or a folder it did not make", () => {
    const root = tempDir('fpswitch-w4-');
    // pid 2^22 + 1 is above Linux's pid_max limit: no such process.
    const deadPid = (1 << 22) + 1;
    const dead = join(root, `.tmp-2025-01-01T00-00-00Z-${deadPid}`);
    const recent = join(root, `.tmp-2025-01-01T00-00-01Z-${deadPid}`);
    const live = join(root, `.tmp-2025-01-01T00-00-00Z-${process.ppid}`);
    const notOurs = join(root, '.tmp-cache-2024');
    for (const d of [dead, recent, live, notOurs]) mkdirSync(d);
    writeFileSync(join(notOurs, 'file'), 'keep');
    const old = new Date(Date.now() - 2 * 3600_000);
    for (const d of [dead, live, notOurs]) utimesSync(d, old, old);
    writeReport(root, { 'x.txt': 'one' }, D1);
    expect(existsSync(dead)).toBe(false);
    expect(existsSync(recent)).toBe(false);
    expect(existsSync(live)).toBe(true);
    expect(readFileSync(join(notOurs, 'file'), 'utf8')).toBe('keep');
  });

  it('two writers finishing in the same second both land (the second takes the next name)', () => {
    const root = tempDir('fpswitch-w5-');
    const a = writeReport(root, { 'x.txt': 'a' }, D1);
    const b = writeReport(root, { 'x.txt': 'b' }, D1);
    expect(a).not.toBe(b);
    expect(readFileSync(join(a, 'x.txt'), 'utf8')).toBe('a');
    expect(readFileSync(join(b, 'x.txt'), 'utf8')).toBe('b');
  });
});
