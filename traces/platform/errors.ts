/**
 * The one error type of allocreplay. Every user-facing failure is an
 * `AllocreplayError`: a code (which decides the exit status), a one-line
 * message saying what went wrong and where, and a hint saying how to fix it.
 */
export type ErrorCode =
  /** Bad flags, bad config: exit 2. */
  | 'usage'
  /** Bad input file (trace, dump, plan): exit 1. */
  | 'input'
  /** Something failed while doing the work (build, run, I/O): exit 1. */
  | 'failure'
  /** A regression was found (report check): exit 1. */
  | 'regression';

export class AllocreplayError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;

  constructor(code: ErrorCode, message: string, hint?: string) {
    super(message);
    this.name = 'AllocreplayError';
    this.code = code;
    this.hint = hint;
  }

  /** Exit status for the CLI: 2 for usage errors, 1 for everything else. */
  get exitCode(): number {
    return this.code === 'usage' ? 2 : 1;
  }

  /** The single line printed on stderr. */
  oneLine(): string {
    const msg = this.message.replace(/\s*\n\s*/g, ' ');
    return this.hint ? `${msg} (${this.hint})` : msg;
  }
}

export function usageError(message: string, hint?: string): AllocreplayError {
  return new AllocreplayError('usage', message, hint);
}

export function inputError(message: string, hint?: string): AllocreplayError {
  return new AllocreplayError('input', message, hint);
}

export function failure(message: string, hint?: string): AllocreplayError {
  return new AllocreplayError('failure', message, hint);
}

/** Edit distance, for "did you mean". */
function distance(a: string, b: string): number {
  const d = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = d[0]!;
    d[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = d[j]!;
      d[j] = Math.min(d[j]! + 1, d[j - 1]! + 1, prev + (a[i - 1]!.toLowerCase() === b[j - 1]!.toLowerCase() ? 0 : 1));
      prev = cur;
    }
  }
  return d[b.length]!;
}

/** The closest of `names` to `name`, when close enough to be a typo: the hint of a usage error. */
export function didYouMean(name: string, names: string[]): string | undefined {
  const best = names.map((n) => ({ n, d: distance(name, n) })).sort((a, b) => a.d - b.d)[0];
  return best && best.d <= Math.max(2, Math.floor(name.length / 3)) ? best.n : undefined;
}
