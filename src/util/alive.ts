/**
 * Whether a process still runs: how the spool and the report writer tell a killed run's
 * leftovers from a live run's.
 */

/** Whether process `pid` still runs (EPERM: it does, as another user). Cost: one kill(2). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
