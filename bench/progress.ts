/**
 * Progress on stderr: a bar redrawn in place on a terminal, a plain line every few
 * seconds otherwise (CI logs).
 */

export class Progress {
  private done = 0;
  private total = 0;
  private label = '';
  private lastLine = 0;
  private phaseStarted = performance.now();
  private readonly tty: boolean;
  private readonly started = performance.now();

  constructor(
    private readonly out: NodeJS.WriteStream = process.stderr,
    private readonly quiet = false,
  ) {
    this.tty = out.isTTY; // undefined (falsy) when stderr is a pipe, whatever the type says
  }

  /** Starts a phase of `total` steps. */
  phase(label: string, total: number): void {
    this.end();
    this.label = label;
    this.total = total;
    this.done = 0;
    this.lastLine = 0;
    this.phaseStarted = performance.now();
    this.draw(true);
  }

  step(n = 1): void {
    this.done += n;
    this.draw(this.done === this.total);
  }

  /** A one-off message. */
  note(msg: string): void {
    if (this.quiet) return;
    this.end();
    this.out.write(`[bench] ${msg}\n`);
  }

  end(): void {
    if (this.tty && this.total > 0 && !this.quiet) this.out.write('\n');
    this.total = 0;
  }

  /**
   * Time left in the phase at its rate so far (steps done per second since it started);
   * empty until a step is done, and once the phase is complete.
   */
  private eta(): string {
    if (this.done === 0 || this.done >= this.total) return '';
    const perStep = (performance.now() - this.phaseStarted) / 1000 / this.done;
    const left = Math.round(perStep * (this.total - this.done));
    return `, ETA ${left >= 60 ? `${Math.floor(left / 60)} min ${left % 60} s` : `${left} s`}`;
  }

  private draw(force: boolean): void {
    if (this.quiet || this.total === 0) return;
    const secs = `${((performance.now() - this.started) / 1000).toFixed(1)}s${this.eta()}`;
    if (this.tty) {
      const width = 30;
      const filled = Math.round((width * this.done) / this.total);
      this.out.write(
        `\r[bench] ${this.label.padEnd(22)} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${this.done}/${this.total}  ${secs}   `,
      );
      return;
    }
    const now = performance.now();
    if (force || now - this.lastLine > 3000) {
      this.lastLine = now;
      this.out.write(`[bench] ${this.label}: ${this.done}/${this.total} (${secs})\n`);
    }
  }
}
