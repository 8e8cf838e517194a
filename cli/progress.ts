import type { Ora } from 'ora';

/**
 * A spinner only where one can be drawn: a terminal that reports a width.
 * A pseudo-terminal of 0 columns (serial consoles, some CI runners, `script`)
 * would make ora compute an endless redraw, so it gets plain lines instead.
 */
export function canSpin(stream: NodeJS.WriteStream = process.stderr): boolean {
  return stream.isTTY === true && (stream.columns ?? 0) > 0;
}

/** ora and what it loads (~35 ms of start-up) only where a spinner can be drawn. */
const ora = canSpin() ? (await import('ora')).default : undefined;

/**
 * Progress for long work: an ora spinner with counts and an ETA on a
 * terminal; without one, nothing unless `lines` is set (long units of work,
 * such as callgrind runs), then one line per unit with the time it took.
 */
export class Progress {
  private readonly spinner: Ora | undefined;
  private readonly started = Date.now();
  private done = 0;

  constructor(
    private readonly label: string,
    private total: number,
    private readonly lines = false,
  ) {
    if (ora && canSpin()) this.spinner = ora({ text: label, stream: process.stderr }).start();
  }

  /** Sets the number of units of work, when it becomes known. */
  setTotal(total: number): void {
    this.total = total;
    this.render('');
  }

  /** Says what is being done now, without counting a unit. */
  doing(what: string): void {
    this.render(what);
  }

  /** Counts one finished unit. */
  tick(what = ''): void {
    this.done++;
    if (!this.spinner && this.lines) {
      const count = this.total > 0 ? ` [${this.done}/${this.total}]` : '';
      process.stderr.write(`${this.label}${count} ${what} (${formatDuration(Date.now() - this.started)} so far)\n`);
    }
    this.render(what);
  }

  /** Prints a line above the spinner (or plainly, without a TTY). */
  log(line: string): void {
    if (this.spinner) {
      this.spinner.clear();
      process.stderr.write(`${line}\n`);
      this.spinner.render();
    } else {
      process.stderr.write(`${line}\n`);
    }
  }

  stop(): void {
    if (!this.spinner && this.lines && this.done > 0) {
      process.stderr.write(`${this.label}: done in ${formatDuration(Date.now() - this.started)}\n`);
      this.done = 0;
    }
    this.spinner?.stop();
  }

  private render(what: string): void {
    if (!this.spinner) return;
    let eta = '';
    if (this.done > 0 && this.total > this.done) {
      const left = ((Date.now() - this.started) / this.done) * (this.total - this.done);
      eta = `, ETA ${formatDuration(left)}`;
    }
    const count = this.total > 0 ? ` [${this.done}/${this.total}${eta}]` : '';
    this.spinner.text = `${this.label}${count}${what ? ` ${what}` : ''}`;
  }
}

/** `1m 05s`, `12.3s`, `850ms`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const m = Math.floor(ms / 60_000);
  const s = Math.round((ms % 60_000) / 1000);
  return `${m}m ${String(s).padStart(2, '0')}s`;
}
